package contract

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/qos"
	"github.com/flashback-network/flashback/contract/store"
)

// checkMarketInvariants verifies, at time now, the market's accounting:
// supply, escrow pool = live escrows + unclaimed revenue + dust (exactly, in
// nano-units), capacity, per-reservation conservation and the stake pool.
func checkMarketInvariants(t *testing.T, kv store.KV, now int64) {
	t.Helper()
	if err := bank.CheckSupply(kv); err != nil {
		t.Fatal(err)
	}
	want := market.GetDust(kv)
	if want.Sign() < 0 || want.Cmp(market.NanoPerUflash()) >= 0 {
		t.Fatalf("dust %s out of range", want)
	}
	units := map[string]*market.Unit{}
	kv.Iterate(market.KeyUnit, store.PrefixEnd(market.KeyUnit), func(_, v []byte) bool {
		var u market.Unit
		mustUnmarshal(t, v, &u)
		units[u.ID] = &u
		return true
	})
	liveBytes, activeRate := checkReservations(t, kv, units, now, want)
	for id, u := range units {
		checkUnitAccounting(t, u, liveBytes[id], activeRate[id], now, want)
	}
	got := new(big.Int).Mul(core.BigFromUint(uint64(bank.PoolBalance(kv, bank.PoolEscrow))), market.NanoPerUflash())
	if got.Cmp(want) != 0 {
		diff := new(big.Int).Sub(got, want)
		t.Fatalf("escrow pool %d uflash (%s nu) != live escrows + unclaimed + dust (%s nu); diff %s nu", bank.PoolBalance(kv, bank.PoolEscrow), got, want, diff)
	}
	checkStakePool(t, kv)
	checkUsedBytes(t, kv, units)
	checkQoSInvariants(t, kv)
}

// checkUsedBytes: a unit's used bytes are the stored bytes its active
// reservations last reported, and never more than it has reserved.
func checkUsedBytes(t *testing.T, kv store.KV, units map[string]*market.Unit) {
	t.Helper()
	stored := map[string]uint64{}
	kv.Iterate(market.KeyRes, store.PrefixEnd(market.KeyRes), func(_, v []byte) bool {
		var r market.Reservation
		mustUnmarshal(t, v, &r)
		if r.Status == market.ResActive {
			stored[r.Unit] += r.StoredBytes
		}
		return true
	})
	for id, u := range units {
		if u.Used != stored[id] || u.Used > u.Reserved {
			t.Fatalf("%s: used %d, active reservations store %d, reserved %d", id, u.Used, stored[id], u.Reserved)
		}
	}
}

// checkReservations checks each reservation's conservation and escrow and
// adds what live ones still hold in escrow to want (nano-units); it returns
// the live bytes and active rate per unit.
func checkReservations(t *testing.T, kv store.KV, units map[string]*market.Unit, now int64, want *big.Int) (map[string]uint64, map[string]*big.Int) {
	t.Helper()
	mp := market.ParamsOf(kv)
	liveBytes, activeRate := map[string]uint64{}, map[string]*big.Int{}
	for id := range units {
		activeRate[id] = new(big.Int)
	}
	kv.Iterate(market.KeyRes, store.PrefixEnd(market.KeyRes), func(_, v []byte) bool {
		var r market.Reservation
		mustUnmarshal(t, v, &r)
		view := testApp.Market.NewReservationView(kv, &r)
		if view.Paid+view.Refunded+view.RemainingEscrow != r.Escrowed || view.Paid > r.Escrowed-r.Refunded {
			t.Fatalf("%s: paid %d + refunded %d + remaining %d != escrowed %d", r.ID, view.Paid, r.Refunded, view.RemainingEscrow, r.Escrowed)
		}
		if r.EgressPaid > r.EgressEsc || r.EgressFee > r.EgressFeeEsc {
			t.Fatalf("%s: egress paid beyond the allowance", r.ID)
		}
		if r.StoredBytes > r.Bytes || r.EgressUsed > r.EgressBytes {
			t.Fatalf("%s: usage beyond the reservation: stored %d of %d, egress %d of %d", r.ID, r.StoredBytes, r.Bytes, r.EgressUsed, r.EgressBytes)
		}
		switch r.Status {
		case market.ResPending:
			liveBytes[r.Unit] += r.Bytes
			if r.StorageEsc+r.EgressEsc+r.EgressFeeEsc != r.Escrowed || r.Refunded != 0 {
				t.Fatalf("%s: pending escrow mismatch %+v", r.ID, r)
			}
			want.Add(want, new(big.Int).Mul(core.BigFromUint(uint64(r.Escrowed)), market.NanoPerUflash()))
		case market.ResActive:
			liveBytes[r.Unit] += r.Bytes
			activeRate[r.Unit].Add(activeRate[r.Unit], market.ResRate(&r))
			want.Add(want, activeEscrowLeft(t, kv, units[r.Unit], &r, now, mp))
		default:
			if r.StoragePaid+r.EgressPaid+r.EgressFee+r.Refunded != r.Escrowed {
				t.Fatalf("%s (%s): paid %d+%d+%d + refunded %d != escrowed %d", r.ID, r.Status, r.StoragePaid, r.EgressPaid, r.EgressFee, r.Refunded, r.Escrowed)
			}
		}
		return true
	})
	return liveBytes, activeRate
}

// activeEscrowLeft checks an active reservation (escrow parts, before its
// end, accrued within its commitment) and returns what its escrow still
// holds, in nano-units.
func activeEscrowLeft(t *testing.T, kv store.KV, u *market.Unit, r *market.Reservation, now int64, mp market.Params) *big.Int {
	t.Helper()
	if r.StorageEsc+r.EgressEsc+r.EgressFeeEsc != r.Escrowed || r.Refunded != 0 {
		t.Fatalf("%s: active escrow mismatch %+v", r.ID, r)
	}
	if r.End.Unix() <= now {
		t.Fatalf("%s: active after its end %d (now %d)", r.ID, r.End, now)
	}
	acc := market.AccruedPBS(kv, u, r, now, mp)
	if acc.Cmp(core.BigFromDecimal(r.Commitment)) > 0 {
		t.Fatalf("%s: accrued %s beyond commitment %s", r.ID, acc, r.Commitment)
	}
	left := new(big.Int).Mul(core.BigFromUint(uint64(r.StorageEsc)), market.NanoPerUflash())
	left.Sub(left, new(big.Int).Mul(acc, core.BigFromInt(int64(market.BpsDenom)+int64(r.FeeBps))))
	if left.Sign() < 0 {
		t.Fatalf("%s: storage escrow short: %s", r.ID, left)
	}
	return left.Add(left, new(big.Int).Mul(core.BigFromUint(uint64(r.EgressEsc+r.EgressFeeEsc-r.EgressPaid-r.EgressFee)), market.NanoPerUflash()))
}

// checkUnitAccounting checks a unit's capacity and sum rate against its
// reservations and adds its unclaimed revenue to want (nano-units).
func checkUnitAccounting(t *testing.T, u *market.Unit, liveBytes uint64, activeRate *big.Int, now int64, want *big.Int) {
	t.Helper()
	id := u.ID
	if u.Reserved > u.Capacity {
		t.Fatalf("%s: reserved %d > capacity %d", id, u.Reserved, u.Capacity)
	}
	if u.Reserved != liveBytes {
		t.Fatalf("%s: reserved %d, live reservations hold %d", id, u.Reserved, liveBytes)
	}
	if core.BigFromDecimal(u.Settlement.SumRate).Cmp(activeRate) != 0 {
		t.Fatalf("%s: sum rate %s, active reservations %s", id, u.Settlement.SumRate, activeRate)
	}
	if u.Status == market.UnitDeleted {
		return
	}
	acc := core.BigFromDecimal(u.Settlement.Accrued)
	if now > u.Settlement.AccruedTo.Unix() {
		acc.Add(acc, new(big.Int).Mul(core.BigFromDecimal(u.Settlement.SumRate), core.BigFromInt(now-u.Settlement.AccruedTo.Unix())))
	}
	term := new(big.Int).Mul(acc, core.BigFromInt(int64(market.BpsDenom)+int64(u.FeeBps)))
	term.Sub(term, new(big.Int).Mul(core.BigFromUint(uint64(u.Settlement.ClaimedNet+u.Settlement.ClaimedFee)), market.NanoPerUflash()))
	if term.Sign() < 0 {
		t.Fatalf("%s: claimed more than accrued", id)
	}
	want.Add(want, term)
}

// checkStakePool checks that the stake pool holds exactly the providers'
// and oracles' stake and unbonding.
func checkStakePool(t *testing.T, kv store.KV) {
	t.Helper()
	var stake core.Amount
	kv.Iterate(market.KeyProvider, store.PrefixEnd(market.KeyProvider), func(_, v []byte) bool {
		var p market.Provider
		mustUnmarshal(t, v, &p)
		stake += p.Stake + p.UnbondingTotal()
		return true
	})
	kv.Iterate(qos.KeyOracle, store.PrefixEnd(qos.KeyOracle), func(_, v []byte) bool {
		var o qos.Oracle
		mustUnmarshal(t, v, &o)
		stake += o.Stake + o.UnbondingTotal()
		return true
	})
	if stake != bank.PoolBalance(kv, bank.PoolStake) {
		t.Fatalf("stake pool %d, providers and oracles hold %d", bank.PoolBalance(kv, bank.PoolStake), stake)
	}
}

func mustUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	if !decodeInto(b, v) {
		t.Fatalf("corrupt record %s", b)
	}
}

// mktSim is the state of the market property test: a chain with
// providers and consumers, a seeded rng and how often each message
// succeeded.
type mktSim struct {
	t         *testing.T
	h         *mkt
	rng       *rand.Rand
	providers []string
	consumers []string
	nameOf    map[string]string
	counts    map[string]int
	held      []heldTrack // epochs QoS holds (market_prop_hold_test.go)
}

func newMktSim(t *testing.T, seed uint64) *mktSim {
	s := &mktSim{t: t, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		providers: []string{"p0", "p1", "p2"},
		consumers: []string{"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8"},
		nameOf:    map[string]string{}, counts: map[string]int{}}
	p := testParams()
	p.EpochSeconds = 10
	p.AcceptTimeout = 40
	p.UnbondingPeriod = 100
	p.MaxTerm = 3000
	p.MinUnitStake = 100
	all := append(append([]string{}, s.providers...), s.consumers...)
	s.h = newMkt(t, p, 50_000_000_000, all...)
	for _, n := range s.providers {
		s.h.ok(n, regProvider(n), &market.MsgStake{Amount: 1_000})
	}
	for _, n := range all {
		s.nameOf[mktAddr(n)] = n
	}
	return s
}

func (s *mktSim) pick(xs []string) string { return xs[s.rng.IntN(len(xs))] }
func (s *mktSim) unitID() string {
	return fmt.Sprintf("unit-%d", 1+s.rng.IntN(int(maxSeq(s.h.blk, market.KeySeqUnit))+1))
}
func (s *mktSim) resID() string {
	return fmt.Sprintf("res-%d", 1+s.rng.IntN(int(maxSeq(s.h.blk, market.KeySeqRes))+1))
}
func (s *mktSim) price() core.Amount { return core.Amount(s.rng.IntN(3_000_000)) }
func (s *mktSim) size() uint64       { return uint64(1 + s.rng.Int64N(int64(4*gib))) }

// usage is v, or one time in five a hostile figure: near 2^64 (wrapping
// sums) or a flood far past any allowance.
func (s *mktSim) usage(v uint64) uint64 {
	switch s.rng.IntN(10) {
	case 0:
		return math.MaxUint64 - uint64(s.rng.IntN(3))
	case 1:
		return uint64(1+s.rng.IntN(1000)) << 40
	}
	return v
}

// target picks, most of the time, a reservation in one of the statuses
// with its consumer and provider, so that messages mostly succeed.
func (s *mktSim) target(statuses ...string) (id, consumer, provider string) {
	if s.rng.IntN(5) == 0 {
		return s.resID(), s.pick(s.consumers), s.pick(s.providers)
	}
	var hits []*market.Reservation
	s.h.blk.Iterate(market.KeyRes, store.PrefixEnd(market.KeyRes), func(_, v []byte) bool {
		var r market.Reservation
		mustUnmarshal(s.t, v, &r)
		if slices.Contains(statuses, r.Status) {
			hits = append(hits, &r)
		}
		return true
	})
	if len(hits) == 0 {
		return s.resID(), s.pick(s.consumers), s.pick(s.providers)
	}
	r := hits[s.rng.IntN(len(hits))]
	return r.ID, s.nameOf[r.Consumer], s.nameOf[r.Provider]
}

// ownUnit is target for units: mostly a unit in one of the statuses and
// its provider.
func (s *mktSim) ownUnit(statuses ...string) (string, string) {
	if s.rng.IntN(5) == 0 {
		return s.unitID(), s.pick(s.providers)
	}
	var hits []*market.Unit
	s.h.blk.Iterate(market.KeyUnit, store.PrefixEnd(market.KeyUnit), func(_, v []byte) bool {
		var u market.Unit
		mustUnmarshal(s.t, v, &u)
		if slices.Contains(statuses, u.Status) {
			hits = append(hits, &u)
		}
		return true
	})
	if len(hits) == 0 {
		return s.unitID(), s.pick(s.providers)
	}
	u := hits[s.rng.IntN(len(hits))]
	return u.ID, s.nameOf[u.Provider]
}

// unitMsg is a random provider action on a unit (kinds 0..3).
func (s *mktSim) unitMsg(k int) (string, core.Msg) {
	switch k {
	case 0:
		return s.pick(s.providers), addUnit(s.price(), core.Amount(s.rng.IntN(5000)), uint64(1+s.rng.Int64N(int64(16*gib))), s.rng.IntN(2) == 0)
	case 1:
		np, cp := s.price(), uint64(s.rng.Int64N(int64(16*gib)))+1
		id, prov := s.ownUnit(market.UnitAvailable, market.UnitMaintenance)
		return prov, &market.MsgUpdateUnit{Unit: id, StoragePrice: &np, Capacity: &cp}
	case 2:
		acts := []string{"start", "end", "announce"}
		id, prov := s.ownUnit(market.UnitAvailable, market.UnitMaintenance)
		return prov, &market.MsgUnitMaintenance{Unit: id, Action: s.pick(acts), WindowStart: s.h.now + 5, WindowEnd: s.h.now + 100}
	default:
		if s.rng.IntN(3) == 0 {
			id, prov := s.ownUnit(market.UnitAvailable, market.UnitMaintenance)
			return prov, &market.MsgDecommissionUnit{Unit: id}
		}
		id, prov := s.ownUnit(market.UnitDecommissioning)
		return prov, &market.MsgDeleteUnit{Unit: id}
	}
}

// reservationMsg is a random action on a reservation (kinds 4..14, 17).
func (s *mktSim) reservationMsg(k int) (string, core.Msg) {
	switch k {
	case 4, 5, 6, 7:
		id, _ := s.ownUnit(market.UnitAvailable)
		return s.pick(s.consumers), &market.MsgReserve{Unit: id, Bytes: s.size(), Term: 1 + s.rng.Int64N(400), EgressBytes: uint64(s.rng.Int64N(int64(8 * gib))), MaxPrice: s.price()}
	case 8:
		id, _, prov := s.target(market.ResPending)
		return prov, &market.MsgAcceptReservation{ResRef: market.ResRef{Reservation: id}}
	case 9:
		id, _, prov := s.target(market.ResPending)
		return prov, &market.MsgRejectReservation{ResRef: market.ResRef{Reservation: id}}
	case 10:
		id, cons, _ := s.target(market.ResActive, market.ResPending)
		return cons, &market.MsgTopUp{Reservation: id, EgressBytes: uint64(1 + s.rng.Int64N(int64(gib)))}
	case 11:
		id, cons, _ := s.target(market.ResActive, market.ResPending)
		return cons, &market.MsgExtend{Reservation: id, ExtraSeconds: 1 + s.rng.Int64N(300)}
	case 12:
		id, cons, _ := s.target(market.ResActive, market.ResPending)
		return cons, &market.MsgResize{Reservation: id, Bytes: s.size() * 2}
	case 13, 14:
		id, cons, _ := s.target(market.ResActive, market.ResPending)
		return cons, &market.MsgCloseReservation{ResRef: market.ResRef{Reservation: id}}
	default:
		id, _, prov := s.target(market.ResActive)
		return prov, &market.MsgReportUsage{Reservation: id, Epoch: s.h.now / 10, StoredBytes: s.usage(s.size()), IngressBytes: s.usage(s.size()), EgressBytes: s.usage(uint64(s.rng.Int64N(int64(3 * gib))))}
	}
}

// randomMsg is one random message and its signer; kind 19 (QoS marking a
// recent epoch of a unit breached) acts directly and returns no message.
func (s *mktSim) randomMsg() (string, core.Msg) {
	switch k := s.rng.IntN(20); {
	case k <= 3:
		return s.unitMsg(k)
	case k <= 14 || k == 17:
		return s.reservationMsg(k)
	case k <= 16:
		if s.rng.IntN(2) == 0 {
			return s.pick(s.providers), &market.MsgClaim{}
		}
		id, prov := s.ownUnit(market.UnitAvailable, market.UnitMaintenance, market.UnitDecommissioning)
		return prov, &market.MsgClaim{Unit: id}
	case k == 18:
		if s.rng.IntN(2) == 0 {
			return s.pick(s.providers), &market.MsgStake{Amount: core.Amount(s.rng.IntN(500))}
		}
		return s.pick(s.providers), &market.MsgUnstake{Amount: core.Amount(s.rng.IntN(500))}
	default:
		if s.rng.IntN(2) == 0 {
			s.holdAction()
			return "", nil
		}
		e := s.h.now/10 - 1 - s.rng.Int64N(2)
		id, _ := s.ownUnit(market.UnitAvailable, market.UnitMaintenance, market.UnitDecommissioning)
		if err := testApp.Market.MarkEpochBreached(s.h.blk, id, e, s.h.now); err == nil {
			s.counts["breach"]++
		}
		return "", nil
	}
}

// block sends up to five random messages (none may fail internally), ends
// the block and checks every invariant.
func (s *mktSim) block(b int) {
	for i := s.rng.IntN(6); i > 0; i-- {
		signer, m := s.randomMsg()
		if m == nil {
			continue
		}
		name := m.Type()
		if r := s.h.exec(signer, m); r.Code == core.CodeOK {
			s.counts[name]++
		} else if r.Code == core.CodeInternal || strings.Contains(r.Log, "internal") {
			s.t.Fatalf("block %d: %s by %s: internal error: %s", b, name, signer, r.Log)
		}
	}
	s.h.next(1 + s.rng.Int64N(25))
	checkMarketInvariants(s.t, s.h.blk, s.h.now)
	s.checkHeld(b)
}

func TestMarketProperty(t *testing.T) {
	seed := uint64(20240611)
	blocks := 600
	if testing.Short() {
		blocks = 200
	}
	t.Logf("seed %d, %d blocks", seed, blocks)
	s := newMktSim(t, seed)
	for b := 0; b < blocks; b++ {
		s.block(b)
	}
	s.h.blk.Iterate(market.KeyRes, store.PrefixEnd(market.KeyRes), func(_, v []byte) bool {
		var r market.Reservation
		mustUnmarshal(t, v, &r)
		s.counts["status "+r.Status]++
		return true
	})
	t.Logf("successes: %v", s.counts)
	if testing.Short() {
		return // too few blocks for every path to occur; the full run checks coverage
	}
	for _, k := range []string{"market/reserve", "market/close_reservation", "market/claim", "market/accept_reservation",
		"market/extend", "market/resize", "market/topup", "market/report_usage", "breach", "status completed", "status expired", "market/delete_unit",
		"hold", "hold_released", "hold_breached", "hold_old"} {
		if s.counts[k] < 2 {
			t.Errorf("property test exercised %q only %d times", k, s.counts[k])
		}
	}
}

func maxSeq(kv store.KV, key []byte) uint64 {
	if b := kv.Get(key); len(b) == 8 {
		return store.DecodeUint64(b)
	}
	return 0
}

// decodeInto decodes a state record (binary) or a query result (JSON).
func decodeInto(b []byte, v any) bool {
	if r, ok := v.(store.Record); ok {
		return r.UnmarshalBinary(b) == nil
	}
	return json.Unmarshal(b, v) == nil
}
