package contract

import (
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
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
	mp := market.ParamsOf(kv)
	want := market.GetDust(kv)
	if want.Sign() < 0 || want.Cmp(market.NanoPerUflash()) >= 0 {
		t.Fatalf("dust %s out of range", want)
	}
	units := map[string]*market.Unit{}
	liveBytes := map[string]uint64{}
	activeRate := map[string]*big.Int{}
	kv.Iterate(market.KeyUnit, store.PrefixEnd(market.KeyUnit), func(_, v []byte) bool {
		var u market.Unit
		mustUnmarshal(t, v, &u)
		units[u.ID] = &u
		activeRate[u.ID] = new(big.Int)
		return true
	})
	kv.Iterate(market.KeyRes, store.PrefixEnd(market.KeyRes), func(_, v []byte) bool {
		var r market.Reservation
		mustUnmarshal(t, v, &r)
		u := units[r.Unit]
		view := testApp.Market.NewReservationView(kv, &r)
		if view.Paid+view.Refunded+view.RemainingEscrow != r.Escrowed || view.Paid > r.Escrowed-r.Refunded {
			t.Fatalf("%s: paid %d + refunded %d + remaining %d != escrowed %d", r.ID, view.Paid, r.Refunded, view.RemainingEscrow, r.Escrowed)
		}
		if r.EgressPaid > r.EgressEsc || r.EgressFee > r.EgressFeeEsc {
			t.Fatalf("%s: egress paid beyond the allowance", r.ID)
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
			if r.StorageEsc+r.EgressEsc+r.EgressFeeEsc != r.Escrowed || r.Refunded != 0 {
				t.Fatalf("%s: active escrow mismatch %+v", r.ID, r)
			}
			if r.End.Unix() <= now {
				t.Fatalf("%s: active after its end %d (now %d)", r.ID, r.End, now)
			}
			acc := market.AccruedPBS(kv, u, &r, now, mp)
			if acc.Cmp(core.BigFromDecimal(r.Commitment)) > 0 {
				t.Fatalf("%s: accrued %s beyond commitment %s", r.ID, acc, r.Commitment)
			}
			left := new(big.Int).Mul(core.BigFromUint(uint64(r.StorageEsc)), market.NanoPerUflash())
			left.Sub(left, new(big.Int).Mul(acc, core.BigFromInt(int64(market.BpsDenom)+int64(r.FeeBps))))
			if left.Sign() < 0 {
				t.Fatalf("%s: storage escrow short: %s", r.ID, left)
			}
			want.Add(want, left)
			want.Add(want, new(big.Int).Mul(core.BigFromUint(uint64(r.EgressEsc+r.EgressFeeEsc-r.EgressPaid-r.EgressFee)), market.NanoPerUflash()))
		default:
			if r.StoragePaid+r.EgressPaid+r.EgressFee+r.Refunded != r.Escrowed {
				t.Fatalf("%s (%s): paid %d+%d+%d + refunded %d != escrowed %d", r.ID, r.Status, r.StoragePaid, r.EgressPaid, r.EgressFee, r.Refunded, r.Escrowed)
			}
		}
		return true
	})
	for id, u := range units {
		if u.Reserved > u.Capacity {
			t.Fatalf("%s: reserved %d > capacity %d", id, u.Reserved, u.Capacity)
		}
		if u.Reserved != liveBytes[id] {
			t.Fatalf("%s: reserved %d, live reservations hold %d", id, u.Reserved, liveBytes[id])
		}
		if core.BigFromDecimal(u.Settlement.SumRate).Cmp(activeRate[id]) != 0 {
			t.Fatalf("%s: sum rate %s, active reservations %s", id, u.Settlement.SumRate, activeRate[id])
		}
		if u.Status == market.UnitDeleted {
			continue
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
	got := new(big.Int).Mul(core.BigFromUint(uint64(bank.PoolBalance(kv, bank.PoolEscrow))), market.NanoPerUflash())
	if got.Cmp(want) != 0 {
		diff := new(big.Int).Sub(got, want)
		t.Fatalf("escrow pool %d uflash (%s nu) != live escrows + unclaimed + dust (%s nu); diff %s nu", bank.PoolBalance(kv, bank.PoolEscrow), got, want, diff)
	}
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
	checkQoSInvariants(t, kv)
}

func mustUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	if !decodeInto(b, v) {
		t.Fatalf("corrupt record %s", b)
	}
}

func TestMarketProperty(t *testing.T) {
	seed := uint64(20240611)
	blocks := 600
	if testing.Short() {
		blocks = 200
	}
	t.Logf("seed %d, %d blocks", seed, blocks)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	p := testParams()
	p.EpochSeconds = 10
	p.AcceptTimeout = 40
	p.UnbondingPeriod = 100
	p.MaxTerm = 3000
	p.MinUnitStake = 100
	providers := []string{"p0", "p1", "p2"}
	consumers := []string{"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8"}
	all := append(append([]string{}, providers...), consumers...)
	h := newMkt(t, p, 50_000_000_000, all...)
	for _, n := range providers {
		h.ok(n, regProvider(n), &market.MsgStake{Amount: 1_000})
	}
	counts := map[string]int{}
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	unitID := func() string { return fmt.Sprintf("unit-%d", 1+rng.IntN(int(maxSeq(h.blk, market.KeySeqUnit))+1)) }
	resID := func() string { return fmt.Sprintf("res-%d", 1+rng.IntN(int(maxSeq(h.blk, market.KeySeqRes))+1)) }
	price := func() core.Amount { return core.Amount(rng.IntN(3_000_000)) }
	size := func() uint64 { return uint64(1 + rng.Int64N(int64(4*gib))) }
	nameOf := map[string]string{}
	for _, n := range all {
		nameOf[mktAddr(n)] = n
	}
	// target picks, most of the time, a reservation in one of the statuses
	// with its consumer and provider, so that messages mostly succeed.
	target := func(statuses ...string) (id, consumer, provider string) {
		if rng.IntN(5) == 0 {
			return resID(), pick(consumers), pick(providers)
		}
		var hits []*market.Reservation
		h.blk.Iterate(market.KeyRes, store.PrefixEnd(market.KeyRes), func(_, v []byte) bool {
			var r market.Reservation
			mustUnmarshal(t, v, &r)
			for _, st := range statuses {
				if r.Status == st {
					hits = append(hits, &r)
				}
			}
			return true
		})
		if len(hits) == 0 {
			return resID(), pick(consumers), pick(providers)
		}
		r := hits[rng.IntN(len(hits))]
		return r.ID, nameOf[r.Consumer], nameOf[r.Provider]
	}
	ownUnit := func(statuses ...string) (string, string) {
		if rng.IntN(5) == 0 {
			return unitID(), pick(providers)
		}
		var hits []*market.Unit
		h.blk.Iterate(market.KeyUnit, store.PrefixEnd(market.KeyUnit), func(_, v []byte) bool {
			var u market.Unit
			mustUnmarshal(t, v, &u)
			for _, st := range statuses {
				if u.Status == st {
					hits = append(hits, &u)
				}
			}
			return true
		})
		if len(hits) == 0 {
			return unitID(), pick(providers)
		}
		u := hits[rng.IntN(len(hits))]
		return u.ID, nameOf[u.Provider]
	}
	for b := 0; b < blocks; b++ {
		for i := rng.IntN(6); i > 0; i-- {
			var signer string
			var m core.Msg
			switch k := rng.IntN(20); k {
			case 0:
				signer, m = pick(providers), addUnit(price(), core.Amount(rng.IntN(5000)), uint64(1+rng.Int64N(int64(16*gib))), rng.IntN(2) == 0)
			case 1:
				np, cp := price(), uint64(rng.Int64N(int64(16*gib)))+1
				id, prov := ownUnit(market.UnitAvailable, market.UnitMaintenance)
				signer, m = prov, &market.MsgUpdateUnit{Unit: id, StoragePrice: &np, Capacity: &cp}
			case 2:
				acts := []string{"start", "end", "announce"}
				id, prov := ownUnit(market.UnitAvailable, market.UnitMaintenance)
				signer, m = prov, &market.MsgUnitMaintenance{Unit: id, Action: pick(acts), WindowStart: h.now + 5, WindowEnd: h.now + 100}
			case 3:
				if rng.IntN(3) == 0 {
					id, prov := ownUnit(market.UnitAvailable, market.UnitMaintenance)
					signer, m = prov, &market.MsgDecommissionUnit{Unit: id}
				} else {
					id, prov := ownUnit(market.UnitDecommissioning)
					signer, m = prov, &market.MsgDeleteUnit{Unit: id}
				}
			case 4, 5, 6, 7:
				id, _ := ownUnit(market.UnitAvailable)
				signer, m = pick(consumers), &market.MsgReserve{Unit: id, Bytes: size(), Term: 1 + rng.Int64N(400), EgressBytes: uint64(rng.Int64N(int64(8 * gib))), MaxPrice: price()}
			case 8:
				id, _, prov := target(market.ResPending)
				signer, m = prov, &market.MsgAcceptReservation{ResRef: market.ResRef{Reservation: id}}
			case 9:
				id, _, prov := target(market.ResPending)
				signer, m = prov, &market.MsgRejectReservation{ResRef: market.ResRef{Reservation: id}}
			case 10:
				id, cons, _ := target(market.ResActive, market.ResPending)
				signer, m = cons, &market.MsgTopUp{Reservation: id, EgressBytes: uint64(1 + rng.Int64N(int64(gib)))}
			case 11:
				id, cons, _ := target(market.ResActive, market.ResPending)
				signer, m = cons, &market.MsgExtend{Reservation: id, ExtraSeconds: 1 + rng.Int64N(300)}
			case 12:
				id, cons, _ := target(market.ResActive, market.ResPending)
				signer, m = cons, &market.MsgResize{Reservation: id, Bytes: size() * 2}
			case 13, 14:
				id, cons, _ := target(market.ResActive, market.ResPending)
				signer, m = cons, &market.MsgCloseReservation{ResRef: market.ResRef{Reservation: id}}
			case 15, 16:
				if rng.IntN(2) == 0 {
					signer, m = pick(providers), &market.MsgClaim{}
				} else {
					id, prov := ownUnit(market.UnitAvailable, market.UnitMaintenance, market.UnitDecommissioning)
					signer, m = prov, &market.MsgClaim{Unit: id}
				}
			case 17:
				id, _, prov := target(market.ResActive)
				signer, m = prov, &market.MsgReportUsage{Reservation: id, Epoch: h.now / 10, StoredBytes: size(), IngressBytes: size(), EgressBytes: uint64(rng.Int64N(int64(3 * gib)))}
			case 18:
				if rng.IntN(2) == 0 {
					signer, m = pick(providers), &market.MsgStake{Amount: core.Amount(rng.IntN(500))}
				} else {
					signer, m = pick(providers), &market.MsgUnstake{Amount: core.Amount(rng.IntN(500))}
				}
			case 19:
				// QoS marks a recent epoch of a unit breached.
				e := h.now/10 - 1 - rng.Int64N(2)
				id, _ := ownUnit(market.UnitAvailable, market.UnitMaintenance, market.UnitDecommissioning)
				if err := testApp.Market.MarkEpochBreached(h.blk, id, e, h.now); err == nil {
					counts["breach"]++
				}
				continue
			}
			name := m.Type()
			if r := h.exec(signer, m); r.Code == core.CodeOK {
				counts[name]++
			} else if r.Code == core.CodeInternal || strings.Contains(r.Log, "internal") {
				t.Fatalf("block %d: %s by %s: internal error: %s", b, name, signer, r.Log)
			}
		}
		h.next(1 + rng.Int64N(25))
		checkMarketInvariants(t, h.blk, h.now)
	}
	h.blk.Iterate(market.KeyRes, store.PrefixEnd(market.KeyRes), func(_, v []byte) bool {
		var r market.Reservation
		mustUnmarshal(t, v, &r)
		counts["status "+r.Status]++
		return true
	})
	t.Logf("successes: %v", counts)
	if testing.Short() {
		return // too few blocks for every path to occur; the full run checks coverage
	}
	for _, k := range []string{"market/reserve", "market/close_reservation", "market/claim", "market/accept_reservation",
		"market/extend", "market/resize", "market/topup", "market/report_usage", "breach", "status completed", "status expired", "market/delete_unit"} {
		if counts[k] < 2 {
			t.Errorf("property test exercised %q only %d times", k, counts[k])
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
