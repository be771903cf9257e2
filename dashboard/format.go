package dashboard

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"

	"github.com/flashback-network/flashback/contract/core"
)

// funcs are the template helpers: amounts in FLASH, sizes in GiB, basis
// points as percentages, all with thousands separators.
var funcs = template.FuncMap{
	"flash":   flash,
	"size":    size,
	"pct":     pct,
	"when":    when,
	"short":   short,
	"num":     num,
	"usedPct": usedPct,
	"grade":   grade,
}

// uflashPerFlash is the base-unit scale of FLASH.
const uflashPerFlash = 1_000_000

// flash writes uflash as FLASH, e.g. 1234567.5 FLASH -> "1,234,567.5 FLASH".
func flash(a core.Amount) string {
	whole, frac := uint64(a)/uflashPerFlash, uint64(a)%uflashPerFlash
	s := thousands(strconv.FormatUint(whole, 10))
	if frac != 0 {
		s += "." + strings.TrimRight(fmt.Sprintf("%06d", frac), "0")
	}
	return s + " FLASH"
}

// flashFloat is an amount as a chart value in FLASH.
func flashFloat(a core.Amount) float64 { return float64(a) / uflashPerFlash }

const bytesPerGiB = 1 << 30

// size writes bytes in GiB with up to two decimals, e.g. "1,024 GiB";
// sizes under a GiB are written in MiB, KiB or bytes, where "0.00 GiB"
// would say nothing.
func size(b uint64) string {
	units := []struct {
		name  string
		bytes uint64
	}{{"GiB", bytesPerGiB}, {"MiB", 1 << 20}, {"KiB", 1 << 10}}
	for _, u := range units {
		if b >= u.bytes || (b == 0 && u.name == "GiB") {
			return scaled(b, u.bytes) + " " + u.name
		}
	}
	return thousands(strconv.FormatUint(b, 10)) + " B"
}

// scaled is b/unit with thousands separators and two decimals at most,
// rounded down so a nearly full disk never reads as full.
func scaled(b, unit uint64) string {
	whole, rem := b/unit, b%unit
	s := thousands(strconv.FormatUint(whole, 10))
	if cents := rem * 100 / unit; cents != 0 { // rem < unit <= 2^30: no overflow
		s += "." + strings.TrimRight(fmt.Sprintf("%02d", cents), "0")
	}
	return s
}

// gibFloat is a size as a chart value in GiB.
func gibFloat(b uint64) float64 { return float64(b) / bytesPerGiB }

// pct writes basis points as a percentage: 9950 -> "99.5%".
func pct(bps uint32) string {
	s := strconv.FormatFloat(float64(bps)/100, 'f', 2, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s + "%"
}

// usedPct is part/whole as a 0..100 percentage for progress bars.
func usedPct(part, whole uint64) float64 {
	if whole == 0 {
		return 0
	}
	p := float64(part) / float64(whole) * 100
	if p > 100 {
		return 100
	}
	return p
}

// when writes a chain time in UTC; the zero time is "—".
func when(t core.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// short abbreviates a bech32 address for tables: fb1abcd…wxyz.
func short(s string) string {
	if len(s) <= 16 {
		return s
	}
	return s[:8] + "…" + s[len(s)-6:]
}

// thousands puts commas between groups of three digits of a decimal
// integer string.
func thousands(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	head := len(digits) % 3
	if head > 0 {
		b.WriteString(digits[:head])
	}
	for i := head; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

func signedThousands(n int64) string {
	if n < 0 {
		return "-" + thousands(strconv.FormatUint(uint64(-(n+1))+1, 10))
	}
	return thousands(strconv.FormatInt(n, 10))
}

// grade is the CSS class of a 0..100 score.
func grade(score uint32) string {
	switch {
	case score >= 70:
		return "good"
	case score >= 40:
		return "fair"
	default:
		return "poor"
	}
}

// num writes any integer with thousands separators.
func num(v any) string {
	switch n := v.(type) {
	case int:
		return signedThousands(int64(n))
	case int64:
		return signedThousands(n)
	case uint32:
		return thousands(strconv.FormatUint(uint64(n), 10))
	case uint64:
		return thousands(strconv.FormatUint(n, 10))
	}
	return fmt.Sprint(v)
}
