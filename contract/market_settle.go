package contract

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
)

func epochOf(t, epoch int64) int64 {
	if t < 0 {
		return 0
	}
	return t / epoch
}

// ---- breach index ----

func breachKey(unitN uint64, e int64) []byte { return mkKey(keyBreach, be8(unitN), be8(uint64(e))) }

// breachesBefore counts the unit's breached epochs < e in one seek: the
// first breach key >= e stores the count before it.
func breachesBefore(kv KV, unitN uint64, total uint64, e int64) uint64 {
	start := breachKey(unitN, e)
	end := PrefixEnd(mkKey(keyBreach, be8(unitN)))
	n := total
	kv.Iterate(start, end, func(_, v []byte) bool {
		if len(v) == 8 {
			n = beU64(v)
		}
		return false
	})
	return n
}

func beU64(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

func isBreached(kv KV, unitN uint64, e int64) bool { return kv.Get(breachKey(unitN, e)) != nil }

// compliantSeconds is the number of seconds in [a, b) that fall in epochs
// not marked breached on the unit.
func compliantSeconds(kv KV, u *Unit, a, b, epoch int64) int64 {
	if b <= a {
		return 0
	}
	if u.Settlement.BreachCount == 0 {
		return b - a
	}
	n, _ := parseUnitID(u.ID)
	ea, eb := epochOf(a, epoch), epochOf(b-1, epoch)
	cnt := int64(breachesBefore(kv, n, u.Settlement.BreachCount, eb+1) - breachesBefore(kv, n, u.Settlement.BreachCount, ea))
	if cnt == 0 {
		return b - a
	}
	bad := cnt * epoch
	if isBreached(kv, n, ea) {
		bad -= a - ea*epoch
	}
	if isBreached(kv, n, eb) {
		bad -= (eb+1)*epoch - b
	}
	return (b - a) - bad
}

// ---- unit accrual ----

// accrueUnit brings the unit's accumulator to time t (>= AccruedTo),
// splitting accrual of recent epochs into the ring and dropping ring
// entries that became final.
func accrueUnit(u *Unit, t int64, mp marketParams) {
	s := &u.Settlement
	if t < s.AccruedTo.Unix() {
		panic("contract: unit accrual would go back in time")
	}
	rate := bi(s.SumRate)
	if rate.Sign() > 0 && t > s.AccruedTo.Unix() {
		acc := bi(s.Accrued)
		acc.Add(acc, new(big.Int).Mul(rate, bi64(t-s.AccruedTo.Unix())))
		s.Accrued = bs(acc)
		first := epochOf(t, mp.Epoch) - mp.Lag
		for e := max(epochOf(s.AccruedTo.Unix(), mp.Epoch), first); e*mp.Epoch < t; e++ {
			lo, hi := max(e*mp.Epoch, s.AccruedTo.Unix()), min((e+1)*mp.Epoch, t)
			if hi <= lo {
				continue
			}
			i := ringIndex(s, e, true)
			v := bi(s.Ring[i].Accrued)
			v.Add(v, new(big.Int).Mul(rate, bi64(hi-lo)))
			s.Ring[i].Accrued = bs(v)
		}
	}
	if t > s.AccruedTo.Unix() {
		s.AccruedTo = Time(t)
	}
	trimRing(s, epochOf(t, mp.Epoch)-mp.Lag)
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
		if r.Epoch >= first {
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
	f := bi(s.Accrued)
	for _, r := range s.Ring {
		f.Sub(f, bi(r.Accrued))
	}
	return f
}

// MarkEpochBreached records that the unit breached its SLA in epoch e: the
// provider earns nothing on the unit for that epoch and its reservations are
// charged nothing for it (refunded at settlement). e must be a past epoch no
// older than settle_lag_epochs. The QoS module calls it at epoch end.
func MarkEpochBreached(kv KV, unitID string, e int64, now int64) error {
	mp := getMarketParams(kv)
	u, ok := GetUnit(kv, unitID)
	if !ok {
		return Errf(CodeNotFound, "unit %s not found", unitID)
	}
	cur := epochOf(now, mp.Epoch)
	if e >= cur || e < cur-mp.Lag || e < 0 {
		return Errf(CodeWrongState, "epoch %d cannot be marked breached now (current epoch %d, allowed %d..%d)", e, cur, max(cur-mp.Lag, 0), cur-1)
	}
	n, _ := parseUnitID(u.ID)
	if isBreached(kv, n, e) {
		return Errf(CodeAlreadyExists, "epoch %d of unit %s is already marked breached", e, unitID)
	}
	if u.Settlement.AccruedTo.Unix() < now {
		accrueUnit(u, now, mp)
	}
	s := &u.Settlement
	i := ringIndex(s, e, true)
	acc := bi(s.Accrued)
	acc.Sub(acc, bi(s.Ring[i].Accrued))
	s.Accrued = bs(acc)
	s.Ring[i].Accrued = "0"
	s.Ring[i].Breached = true
	// Index: count before e, and shift later (recent) breaches by one.
	// Marking an epoch newer than every breached one needs no scan.
	before := s.BreachCount
	if s.BreachCount > 0 && (s.LastBreach == 0 || e+1 <= s.LastBreach) {
		before = breachesBefore(kv, n, s.BreachCount, e)
		var later [][]byte
		var laterV []uint64
		kv.Iterate(breachKey(n, e), PrefixEnd(mkKey(keyBreach, be8(n))), func(k, v []byte) bool {
			later = append(later, append([]byte(nil), k...))
			laterV = append(laterV, beU64(v))
			return true
		})
		for j, k := range later {
			kv.Set(k, be8(laterV[j]+1))
		}
	}
	kv.Set(breachKey(n, e), be8(before))
	if s.BreachCount == 0 || s.LastBreach > 0 {
		s.LastBreach = max(s.LastBreach, e+1)
	}
	s.BreachCount++
	setUnit(kv, u)
	return nil
}

// ---- reservations ----

// settleRes moves the reservation's settled_to to t (the unit must be
// accrued exactly to t): its compliant time is added to paid pbs and its
// share is removed from the unit's ring, fixing its charge.
func settleRes(kv KV, u *Unit, r *Reservation, t int64, mp marketParams) {
	if r.Status != ResActive || t <= r.SettledTo.Unix() {
		return
	}
	if u.Settlement.AccruedTo.Unix() != t {
		panic("contract: settle a reservation against a unit not accrued to the same time")
	}
	rate := resRate(r)
	c := compliantSeconds(kv, u, r.SettledTo.Unix(), t, mp.Epoch)
	paid := bi(r.PaidPBS)
	paid.Add(paid, new(big.Int).Mul(rate, bi64(c)))
	r.PaidPBS = bs(paid)
	s := &u.Settlement
	for i := range s.Ring {
		if s.Ring[i].Breached {
			continue
		}
		e := s.Ring[i].Epoch
		lo, hi := max(e*mp.Epoch, r.SettledTo.Unix()), min((e+1)*mp.Epoch, t)
		if hi <= lo {
			continue
		}
		v := bi(s.Ring[i].Accrued)
		v.Sub(v, new(big.Int).Mul(rate, bi64(hi-lo)))
		if v.Sign() < 0 {
			panic("contract: ring bucket went negative")
		}
		s.Ring[i].Accrued = bs(v)
	}
	r.SettledTo = Time(t)
}

func resRate(r *Reservation) *big.Int {
	return new(big.Int).Mul(bu(uint64(r.StoragePrice)), bu(r.Bytes))
}

// accruedPBS is what the reservation owes for storage through t (>= settled_to).
func accruedPBS(kv KV, u *Unit, r *Reservation, t int64, mp marketParams) *big.Int {
	p := bi(r.PaidPBS)
	if r.Status == ResActive && t > r.SettledTo.Unix() {
		p.Add(p, new(big.Int).Mul(resRate(r), bi64(compliantSeconds(kv, u, r.SettledTo.Unix(), t, mp.Epoch))))
	}
	return p
}

// grossCeil is ceil(pbs x (10000+fee) / Dx): what the consumer pays for pbs.
func grossCeil(pbs *big.Int, fee uint32) *big.Int {
	return ceilDiv(new(big.Int).Mul(pbs, bi64(int64(BpsDenom)+int64(fee))), bigDx)
}

// Cost is a price breakdown in uflash.
type Cost struct {
	Storage Amount `json:"storage"` // provider's storage revenue for the whole term
	Egress  Amount `json:"egress"`  // provider's egress revenue for the allowance
	Fee     Amount `json:"fee"`     // platform fee on both
	Total   Amount `json:"total"`   // what is escrowed
}

// storageEscrow is the storage part (with its fee) escrowed for commitment pbs.
func storageEscrow(commit *big.Int, fee uint32) (Amount, error) {
	return toAmount(grossCeil(commit, fee), "storage escrow")
}

// egressEscrow is the net egress cost of an allowance and its fee.
func egressEscrow(bytes uint64, price Amount, fee uint32) (net, feeAmt Amount, err error) {
	n := ceilDiv(new(big.Int).Mul(bu(bytes), bu(uint64(price))), bigGiB)
	if net, err = toAmount(n, "egress escrow"); err != nil {
		return 0, 0, err
	}
	f := ceilDiv(new(big.Int).Mul(n, bi64(int64(fee))), bigBps)
	if feeAmt, err = toAmount(f, "egress fee"); err != nil {
		return 0, 0, err
	}
	return net, feeAmt, nil
}

// QuoteCost prices a reservation of bytes for term seconds with an egress
// allowance at the given prices and fee.
func QuoteCost(storagePrice, egressPrice Amount, fee uint32, bytes uint64, term int64, egress uint64) (Cost, error) {
	commit := new(big.Int).Mul(new(big.Int).Mul(bu(uint64(storagePrice)), bu(bytes)), bi64(term))
	s, err := storageEscrow(commit, fee)
	if err != nil {
		return Cost{}, err
	}
	en, ef, err := egressEscrow(egress, egressPrice, fee)
	if err != nil {
		return Cost{}, err
	}
	total, err := Add(s, en)
	if err == nil {
		total, err = Add(total, ef)
	}
	if err != nil {
		return Cost{}, Errf(CodeOverflow, "total cost overflows an amount; reserve less")
	}
	sn, _ := toAmount(ceilDiv(commit, bigD), "storage")
	if sn > s {
		sn = s
	}
	return Cost{Storage: sn, Egress: en, Fee: total - sn - en, Total: total}, nil
}

// ---- dust ----

func getDust(kv KV) *big.Int {
	b := kv.Get(keyDust)
	if b == nil {
		return new(big.Int)
	}
	return bi(string(b))
}

// addDust records rounding kept by the escrow pool and sweeps whole uflash
// to the treasury.
func addDust(kv KV, nu *big.Int) error {
	d := getDust(kv)
	d.Add(d, nu)
	if d.Cmp(bigDx) >= 0 {
		q, r := new(big.Int).QuoRem(d, bigDx, new(big.Int))
		amt, err := toAmount(q, "dust")
		if err != nil {
			return err
		}
		if err := PoolToPool(kv, PoolEscrow, PoolTreasury, amt); err != nil {
			return err
		}
		d = r
	}
	kv.Set(keyDust, []byte(bs(d)))
	return nil
}

// finishRes ends an active or pending reservation at t: final settlement,
// charge, refund, release capacity and leave the unit's aggregate. The unit
// must be accrued to t when the reservation is active.
func finishRes(ctx *Context, u *Unit, r *Reservation, t int64, status string, mp marketParams) error {
	kv := ctx.KV
	consumer, _ := address.Parse(r.Consumer)
	var refund Amount
	if r.Status == ResActive {
		settleRes(kv, u, r, t, mp)
		if _, err := compCollect(ctx, u, r, compFinish); err != nil { // QoS compensation (qos_comp.go)
			return err
		}
		sr := bi(u.Settlement.SumRate)
		sr.Sub(sr, resRate(r))
		u.Settlement.SumRate = bs(sr)
		paid := bi(r.PaidPBS)
		charge := grossCeil(paid, r.FeeBps)
		ch, err := toAmount(charge, "storage charge")
		if err != nil {
			return err
		}
		if ch > r.StorageEsc {
			return Errf(CodeInternal, "reservation %s storage charge %d exceeds its escrow %d", r.ID, ch, r.StorageEsc)
		}
		dust := new(big.Int).Mul(charge, bigDx)
		dust.Sub(dust, new(big.Int).Mul(paid, bi64(int64(BpsDenom)+int64(r.FeeBps))))
		if err := addDust(kv, dust); err != nil {
			return err
		}
		r.StoragePaid = ch
		refund = r.StorageEsc - ch
		n, _ := parseResID(r.ID)
		kv.Delete(mkKey(keyQueueEnd, be8(uint64(r.End)), be8(n)))
	} else {
		refund = r.StorageEsc
		n, _ := parseResID(r.ID)
		kv.Delete(mkKey(keyQueueAccept, be8(uint64(r.AcceptBy)), be8(n)))
	}
	refund += (r.EgressEsc - r.EgressPaid) + (r.EgressFeeEsc - r.EgressFee)
	if refund > 0 {
		if err := FromPool(kv, PoolEscrow, consumer, refund); err != nil {
			return err
		}
	}
	r.Refunded += refund
	r.Status = status
	r.ClosedAt = Time(t)
	dropReservationKeys(ctx, r.ID)
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
func claimUnit(kv KV, u *Unit, owner []byte) (net, fee Amount, err error) {
	s := &u.Settlement
	final := finalAccrued(s)
	totNet, err := toAmount(new(big.Int).Quo(final, bigD), "revenue")
	if err != nil {
		return 0, 0, err
	}
	totFee, err := toAmount(new(big.Int).Quo(new(big.Int).Mul(final, bi64(int64(u.FeeBps))), bigDx), "fee")
	if err != nil {
		return 0, 0, err
	}
	net, fee = totNet-s.ClaimedNet, totFee-s.ClaimedFee
	if net > 0 {
		if err := FromPool(kv, PoolEscrow, owner, net); err != nil {
			return 0, 0, err
		}
	}
	if fee > 0 {
		if err := PoolToPool(kv, PoolEscrow, PoolTreasury, fee); err != nil {
			return 0, 0, err
		}
	}
	s.ClaimedNet, s.ClaimedFee = totNet, totFee
	statsPaid(kv, net, fee)
	return net, fee, nil
}

// UnitClaimable is the revenue the provider could claim on the unit at now.
func UnitClaimable(kv KV, u *Unit, now int64) Amount {
	c := *u
	c.Settlement.Ring = append([]ringEntry(nil), u.Settlement.Ring...)
	if now > c.Settlement.AccruedTo.Unix() {
		accrueUnit(&c, now, getMarketParams(kv))
	}
	tot := new(big.Int).Quo(finalAccrued(&c.Settlement), bigD)
	a, _ := toAmount(tot, "revenue")
	if a < c.Settlement.ClaimedNet {
		return 0
	}
	return a - c.Settlement.ClaimedNet
}
