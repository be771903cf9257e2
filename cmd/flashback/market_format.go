package main

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
)

// Parsing and formatting shared by the market commands.

// parseSize reads a byte count with an optional unit (10GiB, 1.5TB, 4096).
func parseSize(flag, s string) (uint64, error) {
	n, err := market.ParseSize(s)
	if err != nil {
		return 0, fmt.Errorf("--%s %q: want bytes or a number with B, KB, MB, GB, TB, KiB, MiB, GiB, TiB (e.g. 10GiB)", flag, s)
	}
	return uint64(n), nil
}

// parseDuration reads seconds with an optional unit (30d, 12h, 1mo).
func parseDuration(flag, s string) (int64, error) {
	n, err := market.ParseDuration(s)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("--%s %q: want a positive duration: seconds or a number with s, m, h, d, w, mo (30 days), y (e.g. 30d)", flag, s)
	}
	return n, nil
}

func parseAmountFlag(flag, s string) (core.Amount, error) {
	a, err := client.ParseAmount(s)
	if err != nil {
		return 0, fmt.Errorf("--%s: %w", flag, err)
	}
	return a, nil
}

// parsePercentBps turns a percentage such as 99.9 into basis points (9990).
func parsePercentBps(flag, s string) (uint32, error) {
	r, ok := new(big.Rat).SetString(strings.TrimSuffix(strings.TrimSpace(s), "%"))
	if !ok || r.Sign() < 0 || strings.ContainsAny(s, "eE/") {
		return 0, fmt.Errorf("--%s %q: want a percentage such as 99.9", flag, s)
	}
	r.Mul(r, big.NewRat(100, 1))
	if !r.IsInt() {
		return 0, fmt.Errorf("--%s %q: at most two decimals (the chain stores basis points)", flag, s)
	}
	if r.Num().Cmp(big.NewInt(market.BpsDenom)) > 0 {
		return 0, fmt.Errorf("--%s %q: above 100%%", flag, s)
	}
	return uint32(r.Num().Int64()), nil
}

// parseTime reads RFC 3339, unix seconds, or +DURATION from now.
func parseTime(flag, s string) (int64, error) {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "+"); ok {
		d, err := parseDuration(flag, rest)
		if err != nil {
			return 0, err
		}
		return time.Now().Unix() + d, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
		return n, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return 0, fmt.Errorf("--%s %q: want RFC 3339 (2026-01-02T15:04:05Z), unix seconds, or +DURATION from now (+2h)", flag, s)
	}
	return t.Unix(), nil
}

// readBridgeKey returns the 32-byte X25519 public key from --bridge-pubkey
// (base64) or --bridge-key-file (32 raw bytes, or base64 or hex text).
func readBridgeKey(b64, file string) ([]byte, error) {
	switch {
	case b64 != "" && file != "":
		return nil, fmt.Errorf("give --bridge-pubkey or --bridge-key-file, not both")
	case b64 != "":
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
		if err != nil || len(k) != 32 {
			return nil, fmt.Errorf("--bridge-pubkey: want the base64 of a 32-byte X25519 public key")
		}
		return k, nil
	case file != "":
		raw, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--bridge-key-file: %w", err)
		}
		if len(raw) == 32 {
			return raw, nil
		}
		txt := strings.TrimSpace(string(raw))
		if k, err := base64.StdEncoding.DecodeString(txt); err == nil && len(k) == 32 {
			return k, nil
		}
		if k, err := hex.DecodeString(txt); err == nil && len(k) == 32 {
			return k, nil
		}
		return nil, fmt.Errorf("--bridge-key-file %s: want a 32-byte X25519 public key, raw or as base64 or hex text", file)
	}
	return nil, nil
}

// amt shows an amount as "1500000 uflash (1.5 FLASH)".
func amt(a core.Amount) string {
	return fmt.Sprintf("%s uflash (%s)", a, client.FormatAmount(a))
}

// amtShort is amt for table cells: "1500000 (1.5 FLASH)".
func amtShort(a core.Amount) string {
	return fmt.Sprintf("%s (%s)", a, client.FormatAmount(a))
}

// bytesHuman shows a byte count in binary units: "10 GiB", "1.5 TiB".
func bytesHuman(n uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	i, div := 0, uint64(1)
	for i+1 < len(units) && n >= div<<10 {
		div <<= 10
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d B", n)
	}
	s := strconv.FormatFloat(float64(n)/float64(div), 'f', 2, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s + " " + units[i]
}

// durHuman shows seconds in the largest whole unit: "30d", "2h", "90s".
func durHuman(s int64) string {
	for _, u := range []struct {
		name string
		n    int64
	}{{"d", 86400}, {"h", 3600}, {"m", 60}} {
		if s >= u.n && s%u.n == 0 {
			return fmt.Sprintf("%d%s", s/u.n, u.name)
		}
	}
	return fmt.Sprintf("%ds", s)
}

// timeHuman shows unix seconds as RFC 3339 UTC, "-" for unset.
// timeHuman prints a contract time in RFC 3339 UTC, "-" when unset.
func timeHuman(t core.Time) string {
	if t <= 0 {
		return "-"
	}
	return t.String()
}

func pct(bps uint32) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%d.%02d", bps/100, bps%100), "0"), ".") + "%"
}

func table(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0) }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func nextPage(w io.Writer, cursor string) {
	if cursor != "" {
		fmt.Fprintf(w, "more: --cursor %s\n", cursor)
	}
}
