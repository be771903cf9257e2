// Package core holds the small types every module of the contract shares:
// Amount (checked uflash arithmetic), Time, error Codes, the execution
// Context with its Block and Events, and the Msg and Route of the handler
// table.
package core

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"
)

// Denom is the base unit of the platform token; 1 FLASH = 10^6 uflash.
const Denom = "uflash"

// Amount is a quantity of uflash. It is a uint64 so that arithmetic is cheap,
// and every operation on it is checked: overflow is an error, never a wrap.
// On the wire it is a decimal string so JavaScript clients lose nothing.
type Amount uint64

// String is the amount in decimal uflash.
func (a Amount) String() string { return strconv.FormatUint(uint64(a), 10) }

// MarshalJSON writes the amount as a decimal string.
func (a Amount) MarshalJSON() ([]byte, error) {
	return []byte(`"` + a.String() + `"`), nil
}

// UnmarshalJSON reads a decimal string (a bare JSON number is refused: it
// would lose precision in most clients before it reached us).
func (a *Amount) UnmarshalJSON(b []byte) error {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("amount must be a decimal string of %s, got %s", Denom, b)
	}
	v, err := ParseAmount(string(b[1 : len(b)-1]))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// ParseAmount parses a plain decimal string of uflash: digits only, no sign,
// no leading zeros, at most 2^64-1.
func ParseAmount(s string) (Amount, error) {
	if s == "" {
		return 0, fmt.Errorf("empty amount")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("amount %q: only digits allowed (uflash)", s)
		}
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("amount %q: leading zero", s)
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("amount %q: too large", s)
	}
	return Amount(v), nil
}

// Add returns a+b or an overflow error.
func Add(a, b Amount) (Amount, error) {
	s, carry := bits.Add64(uint64(a), uint64(b), 0)
	if carry != 0 {
		return 0, Errf(CodeOverflow, "%d + %d overflows", a, b)
	}
	return Amount(s), nil
}

// AddU64 returns a+b for counters (bytes, ingress) or an overflow error.
func AddU64(a, b uint64) (uint64, error) {
	s, carry := bits.Add64(a, b, 0)
	if carry != 0 {
		return 0, Errf(CodeOverflow, "%d + %d overflows", a, b)
	}
	return s, nil
}

// Sub returns a-b, or an insufficient-funds error when b > a.
func Sub(a, b Amount) (Amount, error) {
	if b > a {
		return 0, Errf(CodeInsufficientFunds, "need %d%s, have %d%s", b, Denom, a, Denom)
	}
	return a - b, nil
}

// MulDiv returns a*b/c rounded down, computed in 128 bits so the product
// cannot overflow; the quotient must fit in 64 bits.
func MulDiv(a, b, c uint64) (uint64, error) {
	if c == 0 {
		return 0, Errf(CodeInternal, "division by zero")
	}
	hi, lo := bits.Mul64(a, b)
	if hi >= c {
		return 0, Errf(CodeOverflow, "%d * %d / %d overflows", a, b, c)
	}
	q, _ := bits.Div64(hi, lo, c)
	return q, nil
}

// MaxAmount is the largest representable amount.
const MaxAmount = Amount(math.MaxUint64)
