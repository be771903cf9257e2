package market

// Lazy settlement (DESIGN.md section 4), the reward-index pattern.
//
// Units. A reservation's rate is price (uflash per GiB-month) x bytes, in
// price-byte-seconds (pbs) per second; D = GiB x MonthSeconds pbs make one
// uflash of provider revenue and the consumer pays (10000+fee_bps)/10000 of
// that. Every quantity is an exact integer in pbs (big.Int), so nothing is
// rounded until money moves, and then always in the escrow pool's favour:
// the provider and the treasury get floors of the unit's accrued total, the
// consumer is charged the ceiling of its own settled total, and the
// difference is kept as explicit dust (swept to the treasury in whole
// uflash). The invariant, in nano-units (1 uflash = Dx = D x 10000):
//
//	PoolEscrow x Dx = sum over live reservations of (their escrow x Dx -
//	    accrued pbs x (10000+fee)) + sum over units of (accrued pbs x
//	    (10000+fee) - claimed x Dx) + dust
//
// Per unit: SumRate (sum of active rates), Accrued (pbs through AccruedTo,
// assuming compliance) and a ring of the last settle_lag_epochs+1 epochs'
// not-yet-final accrual from reservations not yet settled past it. Marking
// an epoch breached (QoS) subtracts that epoch's ring bucket and records the
// epoch in a sparse per-unit index (m/br/{unit}{epoch} -> breaches before
// it), so an all-compliant unit costs nothing per epoch and compliant time
// in [a, b) is found with one seek. A reservation settles in O(log n): paid
// pbs += rate x compliant seconds in [settled_to, t); the ring buckets drop
// its share (its charge is now fixed). The provider can claim Accrued minus
// the ring (the final part) at any time in O(1).

import (
	"math/big"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/store"
)

// EpochOf is the epoch (of epoch seconds) that time t falls in.
func EpochOf(t, epoch int64) int64 {
	if t < 0 {
		return 0
	}
	return t / epoch
}

// ---- breach index ----

func breachKey(unitN uint64, e int64) []byte {
	return store.Key(keyBreach, store.EncodeUint64(unitN), store.EncodeUint64(uint64(e)))
}

// breachesBefore counts the unit's breached epochs < e in one seek: the
// first breach key >= e stores the count before it.
func breachesBefore(kv store.KV, unitN uint64, total uint64, e int64) uint64 {
	start := breachKey(unitN, e)
	end := store.PrefixEnd(store.Key(keyBreach, store.EncodeUint64(unitN)))
	n := total
	kv.Iterate(start, end, func(_, v []byte) bool {
		if len(v) == 8 {
			n = store.DecodeUint64(v)
		}
		return false
	})
	return n
}

// IsBreached reports whether QoS marked epoch e of unit n breached.
func IsBreached(kv store.KV, unitN uint64, e int64) bool { return kv.Get(breachKey(unitN, e)) != nil }

// compliantSeconds is the number of seconds in [a, b) that fall in epochs
// not marked breached on the unit.
func compliantSeconds(kv store.KV, u *Unit, a, b, epoch int64) int64 {
	if b <= a {
		return 0
	}
	if u.Settlement.BreachCount == 0 {
		return b - a
	}
	n, _ := ParseUnitID(u.ID)
	ea, eb := EpochOf(a, epoch), EpochOf(b-1, epoch)
	cnt := int64(breachesBefore(kv, n, u.Settlement.BreachCount, eb+1) - breachesBefore(kv, n, u.Settlement.BreachCount, ea))
	if cnt == 0 {
		return b - a
	}
	bad := cnt * epoch
	if IsBreached(kv, n, ea) {
		bad -= a - ea*epoch
	}
	if IsBreached(kv, n, eb) {
		bad -= (eb+1)*epoch - b
	}
	return (b - a) - bad
}

// ---- unit accrual ----

// accrueUnit brings the unit's accumulator to time t (>= AccruedTo),
// splitting accrual of recent epochs into the ring and dropping ring
// entries that became final.
func accrueUnit(u *Unit, t int64, mp Params) {
	s := &u.Settlement
	if t < s.AccruedTo.Unix() {
		panic("contract: unit accrual would go back in time")
	}
	rate := core.BigFromDecimal(s.SumRate)
	if rate.Sign() > 0 && t > s.AccruedTo.Unix() {
		acc := core.BigFromDecimal(s.Accrued)
		acc.Add(acc, new(big.Int).Mul(rate, core.BigFromInt(t-s.AccruedTo.Unix())))
		s.Accrued = core.BigToDecimal(acc)
		first := EpochOf(t, mp.Epoch) - mp.Lag
		for e := max(EpochOf(s.AccruedTo.Unix(), mp.Epoch), first); e*mp.Epoch < t; e++ {
			lo, hi := max(e*mp.Epoch, s.AccruedTo.Unix()), min((e+1)*mp.Epoch, t)
			if hi <= lo {
				continue
			}
			i := ringIndex(s, e, true)
			v := core.BigFromDecimal(s.Ring[i].Accrued)
			v.Add(v, new(big.Int).Mul(rate, core.BigFromInt(hi-lo)))
			s.Ring[i].Accrued = core.BigToDecimal(v)
		}
	}
	if t > s.AccruedTo.Unix() {
		s.AccruedTo = core.Time(t)
	}
	trimRing(s, EpochOf(t, mp.Epoch)-mp.Lag)
}

// ringIndex finds (or with create, inserts in order) the ring entry of e.
func ringIndex(s *Settlement, e int64, create bool) int {
	for i := range s.Ring {
		if s.Ring[i].Epoch == e {
			return i
		}
	}
	if !create {
		return -1
	}
	i := len(s.Ring)
	for i > 0 && s.Ring[i-1].Epoch > e {
		i--
	}
	s.Ring = append(s.Ring, ringEntry{})
	copy(s.Ring[i+1:], s.Ring[i:])
	s.Ring[i] = ringEntry{Epoch: e, Accrued: "0"}
	return i
}

func trimRing(s *Settlement, first int64) {
	k := 0
	for _, r := range s.Ring {
		if r.Epoch >= first || r.Held {
			s.Ring[k] = r
			k++
		}
	}
	s.Ring = s.Ring[:k]
	if len(s.Ring) == 0 {
		s.Ring = nil
	}
}

// finalAccrued is the unit's accrued pbs that can no longer change.
func finalAccrued(s *Settlement) *big.Int {
	f := core.BigFromDecimal(s.Accrued)
	for _, r := range s.Ring {
		f.Sub(f, core.BigFromDecimal(r.Accrued))
	}
	return f
}

// MarkEpochBreached records that the unit breached its SLA in epoch e: the
// provider earns nothing on the unit for that epoch and its reservations are
// charged nothing for it (refunded at settlement). e must be a past epoch no
// older than settle_lag_epochs. The QoS module calls it at epoch end.
func (mk *Keeper) MarkEpochBreached(kv store.KV, unitID string, e int64, now int64) error {
	mp := ParamsOf(kv)
	u, ok := GetUnit(kv, unitID)
	if !ok {
		return core.Errf(core.CodeNotFound, "unit %s not found", unitID)
	}
	cur := EpochOf(now, mp.Epoch)
	if (e >= cur || e < cur-mp.Lag || e < 0) && !isHeld(&u.Settlement, e) {
		return core.Errf(core.CodeWrongState, "epoch %d cannot be marked breached now (current epoch %d, allowed %d..%d)", e, cur, max(cur-mp.Lag, 0), cur-1)
	}
	n, _ := ParseUnitID(u.ID)
	if IsBreached(kv, n, e) {
		return core.Errf(core.CodeAlreadyExists, "epoch %d of unit %s is already marked breached", e, unitID)
	}
	if u.Settlement.AccruedTo.Unix() < now {
		accrueUnit(u, now, mp)
	}
	s := &u.Settlement
	i := ringIndex(s, e, true)
	acc := core.BigFromDecimal(s.Accrued)
	acc.Sub(acc, core.BigFromDecimal(s.Ring[i].Accrued))
	s.Accrued = core.BigToDecimal(acc)
	s.Ring[i].Accrued = "0"
	s.Ring[i].Breached, s.Ring[i].Held = true, false
	// Index: count before e, and shift later (recent) breaches by one.
	// Marking an epoch newer than every breached one needs no scan.
	before := s.BreachCount
	if s.BreachCount > 0 && (s.LastBreach == 0 || e+1 <= s.LastBreach) {
		before = breachesBefore(kv, n, s.BreachCount, e)
		var later [][]byte
		var laterV []uint64
		kv.Iterate(breachKey(n, e), store.PrefixEnd(store.Key(keyBreach, store.EncodeUint64(n))), func(k, v []byte) bool {
			later = append(later, append([]byte(nil), k...))
			laterV = append(laterV, store.DecodeUint64(v))
			return true
		})
		for j, k := range later {
			kv.Set(k, store.EncodeUint64(laterV[j]+1))
		}
	}
	kv.Set(breachKey(n, e), store.EncodeUint64(before))
	if s.BreachCount == 0 || s.LastBreach > 0 {
		s.LastBreach = max(s.LastBreach, e+1)
	}
	s.BreachCount++
	mk.setUnit(kv, u)
	return nil
}

// ---- reservations ----

// settleRes moves the reservation's settled_to to t (the unit must be
// accrued exactly to t): its compliant time is added to paid pbs and its
// share is removed from the unit's ring, fixing its charge.
func settleRes(kv store.KV, u *Unit, r *Reservation, t int64, mp Params) {
	if r.Status != ResActive || t <= r.SettledTo.Unix() {
		return
	}
	if u.Settlement.AccruedTo.Unix() != t {
		panic("contract: settle a reservation against a unit not accrued to the same time")
	}
	rate := ResRate(r)
	c := compliantSeconds(kv, u, r.SettledTo.Unix(), t, mp.Epoch) - heldSeconds(&u.Settlement, r.SettledTo.Unix(), t, mp.Epoch)
	paid := core.BigFromDecimal(r.PaidPBS)
	paid.Add(paid, new(big.Int).Mul(rate, core.BigFromInt(c)))
	r.PaidPBS = core.BigToDecimal(paid)
	s := &u.Settlement
	acc := core.BigFromDecimal(s.Accrued)
	for i := range s.Ring {
		if s.Ring[i].Breached {
			continue
		}
		e := s.Ring[i].Epoch
		lo, hi := max(e*mp.Epoch, r.SettledTo.Unix()), min((e+1)*mp.Epoch, t)
		if hi <= lo {
			continue
		}
		share := new(big.Int).Mul(rate, core.BigFromInt(hi-lo))
		v := core.BigFromDecimal(s.Ring[i].Accrued)
		v.Sub(v, share)
		if v.Sign() < 0 {
			panic("contract: ring bucket went negative")
		}
		s.Ring[i].Accrued = core.BigToDecimal(v)
		if s.Ring[i].Held {
			// A held epoch's charge cannot wait for its evidence once
			// the reservation settles: it is not charged (refunded), and
			// the unit never earns this share (hold.go).
			acc.Sub(acc, share)
		}
	}
	s.Accrued = core.BigToDecimal(acc)
	r.SettledTo = core.Time(t)
}

// ResRate is what r accrues per second, in price-byte-seconds.
func ResRate(r *Reservation) *big.Int {
	return new(big.Int).Mul(core.BigFromUint(uint64(r.StoragePrice)), core.BigFromUint(r.Bytes))
}

// AccruedPBS is what the reservation owes for storage through t (>= settled_to).
func AccruedPBS(kv store.KV, u *Unit, r *Reservation, t int64, mp Params) *big.Int {
	p := core.BigFromDecimal(r.PaidPBS)
	if r.Status == ResActive && t > r.SettledTo.Unix() {
		// Held epochs count as accrued until the reservation settles
		// (the unit's accrual holds them too; market/hold.go).
		p.Add(p, new(big.Int).Mul(ResRate(r), core.BigFromInt(compliantSeconds(kv, u, r.SettledTo.Unix(), t, mp.Epoch))))
	}
	return p
}

// GrossCeil is ceil(pbs x (10000+fee) / Dx): what the consumer pays for pbs.
func GrossCeil(pbs *big.Int, fee uint32) *big.Int {
	return core.CeilDiv(new(big.Int).Mul(pbs, core.BigFromInt(int64(BpsDenom)+int64(fee))), NanoPerUflash())
}

// Cost is a price breakdown in uflash.
type Cost struct {
	Storage core.Amount `json:"storage"` // provider's storage revenue for the whole term
	Egress  core.Amount `json:"egress"`  // provider's egress revenue for the allowance
	Fee     core.Amount `json:"fee"`     // platform fee on both
	Total   core.Amount `json:"total"`   // what is escrowed
}

// storageEscrow is the storage part (with its fee) escrowed for commitment pbs.
func storageEscrow(commit *big.Int, fee uint32) (core.Amount, error) {
	return core.AmountFromBig(GrossCeil(commit, fee), "storage escrow")
}

// egressEscrow is the net egress cost of an allowance and its fee.
func egressEscrow(bytes uint64, price core.Amount, fee uint32) (net, feeAmt core.Amount, err error) {
	n := core.CeilDiv(new(big.Int).Mul(core.BigFromUint(bytes), core.BigFromUint(uint64(price))), bigGiB())
	if net, err = core.AmountFromBig(n, "egress escrow"); err != nil {
		return 0, 0, err
	}
	f := core.CeilDiv(new(big.Int).Mul(n, core.BigFromInt(int64(fee))), bigBps())
	if feeAmt, err = core.AmountFromBig(f, "egress fee"); err != nil {
		return 0, 0, err
	}
	return net, feeAmt, nil
}

// QuoteCost prices a reservation of bytes for term seconds with an egress
// allowance at the given prices and fee.
func QuoteCost(storagePrice, egressPrice core.Amount, fee uint32, bytes uint64, term int64, egress uint64) (Cost, error) {
	commit := new(big.Int).Mul(new(big.Int).Mul(core.BigFromUint(uint64(storagePrice)), core.BigFromUint(bytes)), core.BigFromInt(term))
	s, err := storageEscrow(commit, fee)
	if err != nil {
		return Cost{}, err
	}
	en, ef, err := egressEscrow(egress, egressPrice, fee)
	if err != nil {
		return Cost{}, err
	}
	total, err := core.Add(s, en)
	if err == nil {
		total, err = core.Add(total, ef)
	}
	if err != nil {
		return Cost{}, core.Errf(core.CodeOverflow, "total cost overflows an amount; reserve less")
	}
	sn, _ := core.AmountFromBig(core.CeilDiv(commit, pbsPerUflash()), "storage")
	if sn > s {
		sn = s
	}
	return Cost{Storage: sn, Egress: en, Fee: total - sn - en, Total: total}, nil
}

// ---- dust ----

// GetDust is the settlement rounding dust (nano-units).
func GetDust(kv store.KV) *big.Int {
	b := kv.Get(keyDust)
	if b == nil {
		return new(big.Int)
	}
	return core.BigFromDecimal(string(b))
}

// addDust records rounding kept by the escrow pool and sweeps whole uflash
// to the treasury.
func addDust(kv store.KV, nu *big.Int) error {
	d := GetDust(kv)
	d.Add(d, nu)
	if d.Cmp(NanoPerUflash()) >= 0 {
		q, r := new(big.Int).QuoRem(d, NanoPerUflash(), new(big.Int))
		amt, err := core.AmountFromBig(q, "dust")
		if err != nil {
			return err
		}
		if err := bank.PoolToPool(kv, bank.PoolEscrow, bank.PoolTreasury, amt); err != nil {
			return err
		}
		d = r
	}
	kv.Set(keyDust, []byte(core.BigToDecimal(d)))
	return nil
}

// finishRes ends an active or pending reservation at t: final settlement,
// charge, refund, release capacity and leave the unit's aggregate. The unit
// must be accrued to t when the reservation is active.
func (mk *Keeper) finishRes(ctx *core.Context, u *Unit, r *Reservation, t int64, status string, mp Params) error {
	kv := ctx.KV
	consumer, _ := address.Parse(r.Consumer)
	var refund core.Amount
	if r.Status == ResActive {
		settleRes(kv, u, r, t, mp)
		if err := mk.quality.ReservationFinishing(ctx, u, r); err != nil { // QoS compensation (qos_comp.go)
			return err
		}
		sr := core.BigFromDecimal(u.Settlement.SumRate)
		sr.Sub(sr, ResRate(r))
		u.Settlement.SumRate = core.BigToDecimal(sr)
		paid := core.BigFromDecimal(r.PaidPBS)
		charge := GrossCeil(paid, r.FeeBps)
		ch, err := core.AmountFromBig(charge, "storage charge")
		if err != nil {
			return err
		}
		if ch > r.StorageEsc {
			return core.Errf(core.CodeInternal, "reservation %s storage charge %d exceeds its escrow %d", r.ID, ch, r.StorageEsc)
		}
		dust := new(big.Int).Mul(charge, NanoPerUflash())
		dust.Sub(dust, new(big.Int).Mul(paid, core.BigFromInt(int64(BpsDenom)+int64(r.FeeBps))))
		if err := addDust(kv, dust); err != nil {
			return err
		}
		r.StoragePaid = ch
		refund = r.StorageEsc - ch
		n, _ := ParseResID(r.ID)
		kv.Delete(store.Key(keyQueueEnd, store.EncodeUint64(uint64(r.End)), store.EncodeUint64(n)))
	} else {
		refund = r.StorageEsc
		n, _ := ParseResID(r.ID)
		kv.Delete(store.Key(keyQueueAccept, store.EncodeUint64(uint64(r.AcceptBy)), store.EncodeUint64(n)))
	}
	refund += (r.EgressEsc - r.EgressPaid) + (r.EgressFeeEsc - r.EgressFee)
	if refund > 0 {
		if err := bank.FromPool(kv, bank.PoolEscrow, consumer, refund); err != nil {
			return err
		}
	}
	r.Refunded += refund
	r.Status = status
	r.ClosedAt = core.Time(t)
	mk.reservationClosed(ctx, r.ID)
	u.Reserved -= r.Bytes
	if u.Used >= r.StoredBytes {
		u.Used -= r.StoredBytes
	}
	u.LiveReservations--
	ctx.Emit("reservation_"+status, "id", r.ID, "unit", r.Unit, "consumer", r.Consumer,
		"storage_paid", r.StoragePaid.String(), "refunded", refund.String())
	return nil
}

// claimUnit pays the provider (and the treasury its fee) the unit's final
// revenue not claimed yet. The unit must be accrued to now.
func (mk *Keeper) claimUnit(kv store.KV, u *Unit, owner []byte) (net, fee core.Amount, err error) {
	s := &u.Settlement
	final := finalAccrued(s)
	totNet, err := core.AmountFromBig(new(big.Int).Quo(final, pbsPerUflash()), "revenue")
	if err != nil {
		return 0, 0, err
	}
	totFee, err := core.AmountFromBig(new(big.Int).Quo(new(big.Int).Mul(final, core.BigFromInt(int64(u.FeeBps))), NanoPerUflash()), "fee")
	if err != nil {
		return 0, 0, err
	}
	net, fee = totNet-s.ClaimedNet, totFee-s.ClaimedFee
	if net > 0 {
		if err := bank.FromPool(kv, bank.PoolEscrow, owner, net); err != nil {
			return 0, 0, err
		}
	}
	if fee > 0 {
		if err := bank.PoolToPool(kv, bank.PoolEscrow, bank.PoolTreasury, fee); err != nil {
			return 0, 0, err
		}
	}
	s.ClaimedNet, s.ClaimedFee = totNet, totFee
	mk.quality.ProviderPaid(kv, net, fee)
	return net, fee, nil
}

// UnitClaimable is the revenue the provider could claim on the unit at now.
func UnitClaimable(kv store.KV, u *Unit, now int64) core.Amount {
	c := *u
	c.Settlement.Ring = append([]ringEntry(nil), u.Settlement.Ring...)
	if now > c.Settlement.AccruedTo.Unix() {
		accrueUnit(&c, now, ParamsOf(kv))
	}
	tot := new(big.Int).Quo(finalAccrued(&c.Settlement), pbsPerUflash())
	a, _ := core.AmountFromBig(tot, "revenue")
	if a < c.Settlement.ClaimedNet {
		return 0
	}
	return a - c.Settlement.ClaimedNet
}
