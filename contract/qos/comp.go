package qos

// Compensation index (DESIGN.md section 4): a breach's consumer share is
// paid to the unit's affected consumers pro rata to reserved bytes without
// iterating reservations.
//
// Per unit, I is the cumulative compensation per active reserved byte,
// scaled by compScale. Distributing A uflash for breached epoch e adds
// dI = floor(A x compScale / D_e) to I and records q/ci/{unit}{e} = I
// before the delta; the remainder A x compScale - dI x D_e goes to an
// explicit dust account (swept to the treasury in whole uflash). D_e is the
// bytes of the unit's active reservations that were active in epoch e
// (their comp_start_epoch <= e): CompBytes (all active bytes) minus a small
// ring of bytes by start epoch for the epochs after the frontier (the last
// epoch whose reports are final), so a reservation started after the
// breached epoch neither counts nor earns for it.
//
// A reservation is owed bytes x (I - base), base being the "before" value
// of the first index key at or after its comp_start_epoch (or I if there is
// none): one seek, like the market's breach index. It collects at finish,
// at resize and with qos/claim_compensation; the floor goes to the consumer
// and the rest to the dust. Invariant (checked by the property tests):
//
//	PoolCompensation x compScale = sum over active reservations of owed + dust

import (
	"math/big"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/store"
)

// CompScale is the fixed-point scale of the compensation index (10^24).
func CompScale() *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(24), nil) }

type compRingEntry struct {
	Epoch int64  `json:"epoch"`
	Bytes uint64 `json:"bytes"`
}

// Frontier is the last epoch whose reports are final and processed; -1
// before the first block.
func Frontier(kv store.KV) int64 {
	b := kv.Get(keyFrontier)
	if len(b) != 8 {
		return -1
	}
	return int64(store.DecodeUint64(b))
}

func compKey(unitN uint64, e int64) []byte {
	return store.Key(keyCompIdx, store.EncodeUint64(unitN), store.EncodeUint64(uint64(e)))
}

// compTrim drops ring entries no future breach can need.
func compTrim(q *UnitQoS, f int64) {
	k := 0
	for _, r := range q.CompRing {
		if r.Epoch > f+1 {
			q.CompRing[k] = r
			k++
		}
	}
	q.CompRing = q.CompRing[:k]
	if k == 0 {
		q.CompRing = nil
	}
}

func compRingAdd(q *UnitQoS, e int64, bytes uint64, add bool) {
	for i := range q.CompRing {
		if q.CompRing[i].Epoch == e {
			if add {
				q.CompRing[i].Bytes += bytes
			} else {
				q.CompRing[i].Bytes -= bytes
			}
			return
		}
	}
	if !add {
		return // not in the ring: started at or before the frontier
	}
	q.CompRing = append(q.CompRing, compRingEntry{Epoch: e, Bytes: bytes})
}

// compBase is the index value a reservation starting at epoch start counts
// from.
func compBase(kv store.KV, unitN uint64, q *UnitQoS, start int64) *big.Int {
	base := core.BigFromDecimal(q.CompIndex)
	kv.Iterate(compKey(unitN, max(start, 0)), store.PrefixEnd(store.Key(keyCompIdx, store.EncodeUint64(unitN))), func(_, v []byte) bool {
		base = core.BigFromDecimal(string(v))
		return false
	})
	return base
}

// CompOwed is what an active reservation is owed, scaled by compScale.
func CompOwed(kv store.KV, unitN uint64, q *UnitQoS, r *market.Reservation) *big.Int {
	d := core.BigFromDecimal(q.CompIndex)
	d.Sub(d, compBase(kv, unitN, q, r.CompStart))
	return d.Mul(d, core.BigFromUint(r.Bytes))
}

// compOnActivate enters a reservation into its unit's compensation base.
func compOnActivate(kv store.KV, u *market.Unit, r *market.Reservation, now int64) {
	n, _ := market.ParseUnitID(u.ID)
	q := GetUnitQoS(kv, n)
	compTrim(q, Frontier(kv))
	r.CompStart = market.EpochOf(now, market.ParamsOf(kv).Epoch)
	q.CompBytes += r.Bytes
	compRingAdd(q, r.CompStart, r.Bytes, true)
	SetUnitQoS(kv, n, q)
}

// Collection modes.
const (
	compFinish = iota // the reservation ends
	compResize        // it grows by grow bytes (r.Bytes is still the old size)
	compClaim         // the consumer claims
)

// compCollect pays an active reservation what it is owed and updates the
// unit's compensation base for mode.
func compCollect(ctx *core.Context, u *market.Unit, r *market.Reservation, mode int, grow ...uint64) (core.Amount, error) {
	kv := ctx.KV
	n, _ := market.ParseUnitID(u.ID)
	q := GetUnitQoS(kv, n)
	f := Frontier(kv)
	compTrim(q, f)
	owed := CompOwed(kv, n, q, r)
	var pay core.Amount
	if owed.Sign() > 0 {
		quo, rem := new(big.Int).QuoRem(owed, CompScale(), new(big.Int))
		var err error
		if pay, err = core.AmountFromBig(quo, "compensation"); err != nil {
			return 0, err
		}
		if err := addCompDust(kv, rem); err != nil {
			return 0, err
		}
		if pay > 0 {
			consumer, _ := address.Parse(r.Consumer)
			if err := bank.FromPool(kv, PoolCompensation, consumer, pay); err != nil {
				return 0, err
			}
			r.Compensation += pay
			ctx.Emit("compensation_paid", "reservation", r.ID, "unit", u.ID, "consumer", r.Consumer, "amount", pay.String())
		}
	}
	switch mode {
	case compFinish:
		q.CompBytes -= r.Bytes
		compRingAdd(q, r.CompStart, r.Bytes, false)
	case compResize:
		g := grow[0]
		compRingAdd(q, r.CompStart, r.Bytes, false)
		q.CompBytes += g
		// The grown reservation counts from the current epoch: it forfeits
		// breaches of the epochs still open for reports.
		r.CompStart = market.EpochOf(ctx.Now(), market.ParamsOf(kv).Epoch)
		compRingAdd(q, r.CompStart, r.Bytes+g, true)
	case compClaim:
		if r.CompStart <= f+1 {
			r.CompStart = f + 1 // everything up to the frontier is paid
		}
	}
	SetUnitQoS(kv, n, q)
	return pay, nil
}

// compDistribute shares amt among the bytes active in epoch e on the unit.
// It returns false (and changes nothing) when no reservation was.
func compDistribute(kv store.KV, unitN uint64, q *UnitQoS, e int64, amt core.Amount) (bool, error) {
	var excl uint64
	for _, r := range q.CompRing {
		if r.Epoch > e {
			excl += r.Bytes
		}
	}
	if amt == 0 || q.CompBytes <= excl {
		return false, nil
	}
	d := core.BigFromUint(q.CompBytes - excl)
	scaled := new(big.Int).Mul(core.BigFromUint(uint64(amt)), CompScale())
	di, rem := new(big.Int).QuoRem(scaled, d, new(big.Int))
	if err := bank.PoolToPool(kv, bank.PoolStake, PoolCompensation, amt); err != nil {
		return false, err
	}
	if err := addCompDust(kv, rem); err != nil {
		return false, err
	}
	if kv.Get(compKey(unitN, e)) == nil {
		// A late breach (hold.go) indexed at an epoch that already has a
		// key keeps that key's earlier "before" value: every reservation
		// counting from before it earns both.
		kv.Set(compKey(unitN, e), []byte(q.CompIndex))
	}
	idx := core.BigFromDecimal(q.CompIndex)
	q.CompIndex = core.BigToDecimal(idx.Add(idx, di))
	return true, nil
}

// GetCompDust is the compensation rounding dust (scaled).
func GetCompDust(kv store.KV) *big.Int {
	b := kv.Get(keyCompDust)
	if b == nil {
		return new(big.Int)
	}
	return core.BigFromDecimal(string(b))
}

func addCompDust(kv store.KV, v *big.Int) error {
	if v.Sign() == 0 {
		return nil
	}
	d := GetCompDust(kv)
	d.Add(d, v)
	if d.Cmp(CompScale()) >= 0 {
		quo, rem := new(big.Int).QuoRem(d, CompScale(), new(big.Int))
		amt, err := core.AmountFromBig(quo, "compensation dust")
		if err != nil {
			return err
		}
		if err := bank.PoolToPool(kv, PoolCompensation, bank.PoolTreasury, amt); err != nil {
			return err
		}
		d = rem
	}
	kv.Set(keyCompDust, []byte(core.BigToDecimal(d)))
	return nil
}

// compOwedAmount is what an active reservation would collect now, in whole
// uflash (the view of compCollect, without its writes).
// compOnResize pays what a growing reservation is owed before it grows by
// grow bytes (market/resize calls it through its hooks).
func compOnResize(ctx *core.Context, u *market.Unit, r *market.Reservation, grow uint64) error {
	_, err := compCollect(ctx, u, r, compResize, grow)
	return err
}

// compOnFinish pays what an ending reservation is owed.
func compOnFinish(ctx *core.Context, u *market.Unit, r *market.Reservation) error {
	_, err := compCollect(ctx, u, r, compFinish)
	return err
}

func compOwedAmount(kv store.KV, u *market.Unit, r *market.Reservation) core.Amount {
	n, _ := market.ParseUnitID(u.ID)
	owed := CompOwed(kv, n, GetUnitQoS(kv, n), r)
	if owed.Sign() <= 0 {
		return 0
	}
	a, err := core.AmountFromBig(owed.Quo(owed, CompScale()), "compensation")
	if err != nil {
		return 0
	}
	return a
}
