package core

import (
	"math/big"
	"strconv"
)

// Big integers hold the settlement sums that outgrow 64 bits
// (price x bytes x seconds); records store them as decimal strings.

// bigMaxAmount is the largest amount as a big integer.
func bigMaxAmount() *big.Int { return new(big.Int).SetUint64(^uint64(0)) }

// BigFromDecimal parses a decimal string of a record ("" is 0). A string
// that does not parse is corrupt state: it panics.
func BigFromDecimal(s string) *big.Int {
	if s == "" {
		return new(big.Int)
	}
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic("contract: corrupt big integer " + strconv.Quote(s))
	}
	return v
}

// BigToDecimal is v as the decimal string records store.
func BigToDecimal(v *big.Int) string { return v.String() }

// BigFromUint is v as a big integer.
func BigFromUint(v uint64) *big.Int { return new(big.Int).SetUint64(v) }

// BigFromInt is v as a big integer.
func BigFromInt(v int64) *big.Int { return big.NewInt(v) }

// CeilDiv returns ceil(a/b) for a >= 0, b > 0.
func CeilDiv(a, b *big.Int) *big.Int {
	q, r := new(big.Int).QuoRem(a, b, new(big.Int))
	if r.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	return q
}

// AmountFromBig is v as an amount, or an error naming what when it is negative or too large.
func AmountFromBig(v *big.Int, what string) (Amount, error) {
	if v.Sign() < 0 {
		return 0, Errf(CodeInternal, "%s is negative", what)
	}
	if v.Cmp(bigMaxAmount()) > 0 {
		return 0, Errf(CodeOverflow, "%s (%s%s) does not fit in an amount", what, v, Denom)
	}
	return Amount(v.Uint64()), nil
}
