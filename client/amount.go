package client

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/flashback-network/flashback/contract/core"
)

// ParseAmount reads an amount as a person types it: "250000" or
// "250000uflash" (base units), or "1.5FLASH" / "1.5flash" (10^6 uflash each).
func ParseAmount(s string) (core.Amount, error) {
	s = strings.TrimSpace(s)
	lower := strings.ToLower(s)
	switch {
	case strings.HasSuffix(lower, "uflash"):
		return core.ParseAmount(strings.TrimSpace(s[:len(s)-len("uflash")]))
	case strings.HasSuffix(lower, "flash"):
		num := strings.TrimSpace(s[:len(s)-len("flash")])
		r, ok := new(big.Rat).SetString(num)
		if !ok || r.Sign() < 0 || strings.ContainsAny(num, "eE/+-") {
			return 0, fmt.Errorf("amount %q: want a decimal number of FLASH such as 1.5FLASH", s)
		}
		r.Mul(r, big.NewRat(1_000_000, 1))
		if !r.IsInt() {
			return 0, fmt.Errorf("amount %q: more than 6 decimal places (1 uflash = 0.000001 FLASH)", s)
		}
		if !r.Num().IsUint64() {
			return 0, fmt.Errorf("amount %q: too large", s)
		}
		return core.Amount(r.Num().Uint64()), nil
	}
	a, err := core.ParseAmount(s)
	if err != nil {
		return 0, fmt.Errorf("%w (give uflash, or a unit: 1.5FLASH)", err)
	}
	return a, nil
}

// FormatAmount writes uflash as FLASH with up to 6 decimals, e.g. "1.5 FLASH".
func FormatAmount(a core.Amount) string {
	whole, frac := uint64(a)/1_000_000, uint64(a)%1_000_000
	if frac == 0 {
		return fmt.Sprintf("%d FLASH", whole)
	}
	return strings.TrimRight(fmt.Sprintf("%d.%06d", whole, frac), "0") + " FLASH"
}
