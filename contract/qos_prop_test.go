package contract

import (
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

// checkQoSInvariants verifies the QoS accounting (called from
// checkMarketInvariants after every block): the compensation pool equals
// what active reservations are owed plus dust, exactly; the compensation
// base (bytes and ring) matches the active reservations; the oracle pool
// is empty; the incremental network totals and provider score sums match
// a full recount.
func checkQoSInvariants(t *testing.T, kv store.KV) {
	t.Helper()
	if b := bank.PoolBalance(kv, qos.PoolOracle); b != 0 {
		t.Fatalf("oracle pool holds %d after the block", b)
	}
	dust := qos.GetCompDust(kv)
	if dust.Sign() < 0 || dust.Cmp(qos.CompScale()) >= 0 {
		t.Fatalf("compensation dust %s out of range", dust)
	}
	f := qos.Frontier(kv)
	owed := new(big.Int).Set(dust)
	active := map[uint64]uint64{}
	byStart := map[uint64]map[int64]uint64{}
	kv.Iterate(market.KeyRes, store.PrefixEnd(market.KeyRes), func(_, v []byte) bool {
		var r market.Reservation
		mustUnmarshal(t, v, &r)
		if r.Status != market.ResActive {
			return true
		}
		n, _ := market.ParseUnitID(r.Unit)
		o := qos.CompOwed(kv, n, qos.GetUnitQoS(kv, n), &r)
		if o.Sign() < 0 {
			t.Fatalf("%s owed negative compensation %s", r.ID, o)
		}
		owed.Add(owed, o)
		active[n] += r.Bytes
		if byStart[n] == nil {
			byStart[n] = map[int64]uint64{}
		}
		byStart[n][r.CompStart] += r.Bytes
		return true
	})
	if got := new(big.Int).Mul(core.BigFromUint(uint64(bank.PoolBalance(kv, qos.PoolCompensation))), qos.CompScale()); got.Cmp(owed) != 0 {
		t.Fatalf("compensation pool %d (scaled %s) != owed + dust %s", bank.PoolBalance(kv, qos.PoolCompensation), got, owed)
	}
	want := qos.NetworkStats{}
	sums := map[string]qos.ProviderScoreSums{}
	kv.Iterate(market.KeyUnit, store.PrefixEnd(market.KeyUnit), func(k, v []byte) bool {
		var u market.Unit
		mustUnmarshal(t, v, &u)
		n := store.DecodeUint64(k[len(market.KeyUnit):])
		q := qos.GetUnitQoS(kv, n)
		if q.CompBytes != active[n] {
			t.Fatalf("%s: comp bytes %d, active reservations hold %d", u.ID, q.CompBytes, active[n])
		}
		ring := map[int64]uint64{}
		for _, r := range q.CompRing {
			ring[r.Epoch] = r.Bytes
		}
		for s, b := range byStart[n] {
			if s > f+1 && ring[s] != b {
				t.Fatalf("%s: ring[%d] = %d, reservations starting then hold %d", u.ID, s, ring[s], b)
			}
		}
		for s, b := range ring {
			if s > f+1 && byStart[n][s] != b {
				t.Fatalf("%s: ring[%d] = %d, reservations starting then hold %d", u.ID, s, b, byStart[n][s])
			}
		}
		if u.Score != uint32((q.ScoreMilli+500)/1000) {
			t.Fatalf("%s: score %d, qos milli %d", u.ID, u.Score, q.ScoreMilli)
		}
		want.CapacityReserved += u.Reserved
		want.CapacityUsed += u.Used
		want.LiveReservations += u.LiveReservations
		if u.Status != market.UnitDeleted {
			want.Units++
			want.CapacityOffered += u.Capacity
			s := sums[u.Provider]
			s.Sum += uint64(u.Score)
			s.Units++
			sums[u.Provider] = s
		}
		return true
	})
	kv.Iterate(market.KeyProvider, store.PrefixEnd(market.KeyProvider), func(k, v []byte) bool {
		var p market.Provider
		mustUnmarshal(t, v, &p)
		if !p.Deregistered {
			want.Providers++
		}
		var ps qos.ProviderScoreSums
		store.Get(kv, qos.ProvScoreKey(k[len(market.KeyProvider):]), &ps)
		if ps != sums[p.Address] {
			t.Fatalf("provider %s score sums %+v, units say %+v", p.Address, ps, sums[p.Address])
		}
		return true
	})
	kv.Iterate(qos.KeyOracle, store.PrefixEnd(qos.KeyOracle), func(_, v []byte) bool {
		var o qos.Oracle
		mustUnmarshal(t, v, &o)
		if o.Active {
			want.Oracles++
		}
		return true
	})
	if want.Oracles != qos.ActiveOracles(kv) {
		t.Fatalf("active oracles %d, records say %d", qos.ActiveOracles(kv), want.Oracles)
	}
	got := qos.GetStats(kv)
	got.Paid, got.Fees, got.Slashed, got.Compensation, got.OracleRewards, got.Rewarded, got.ReputationSlashed = 0, 0, 0, 0, 0, 0, 0
	if got != want {
		t.Fatalf("network totals %+v, recount %+v", got, want)
	}
}

// TestQoSProperty drives random market traffic, oracle reports (honest,
// noisy, failing and outlying), maintenance and oracle churn over many
// epochs and checks every invariant after every block.
func TestQoSProperty(t *testing.T) {
	seed := uint64(20261124)
	blocks := 800
	if testing.Short() {
		blocks = 250
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x51a))
	p := testParams()
	p.EpochSeconds = 10
	p.AcceptTimeout = 40
	p.UnbondingPeriod = 100
	p.MaxTerm = 3000
	p.MinUnitStake = 100
	p.MinOracleStake = 10
	p.ScorePeriodEpochs = 3
	p.UptimeWindowEpochs = 4
	p.SlashFractionBps = 200
	p.OracleShareBps = 1000
	p.DecayPerMonth = 2_000_000
	p.HistoryEpochs = 20
	p.ReportGraceEpochs = 1
	p.SettleLagEpochs = 3
	providers := []string{"p0", "p1", "p2"}
	consumers := []string{"c0", "c1", "c2", "c3", "c4", "c5"}
	oracles := []string{"o0", "o1", "o2", "o3", "o4"}
	all := append(append(append([]string{}, providers...), consumers...), oracles...)
	h := newMkt(t, p, 50_000_000_000, all...)
	fundRewards(h, 1_000_000_000)
	for _, n := range providers {
		h.ok(n, regProvider(n), &market.MsgStake{Amount: 10_000_000_000})
		for i := 0; i < 3; i++ {
			u := addUnit(core.Amount(100_000+rng.IntN(3_000_000)), core.Amount(rng.IntN(5000)), 64*gib, rng.IntN(3) > 0)
			u.SLA.MaxErrorRateBps = 500
			u.SLA.MinUptimeBps = 9000
			h.ok(n, u)
		}
	}
	for _, o := range oracles[:4] {
		h.ok(o, &qos.MsgRegisterOracle{Stake: 10 + core.Amount(rng.IntN(100))})
	}
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	counts := map[string]int{}
	nameOf := map[string]string{}
	for _, n := range all {
		nameOf[mktAddr(n)] = n
	}
	units := func() []string {
		var ids []string
		for i := uint64(1); i <= maxSeq(h.blk, market.KeySeqUnit); i++ {
			ids = append(ids, market.UnitIDString(i))
		}
		return ids
	}
	liveRes := func() []*market.Reservation {
		var out []*market.Reservation
		h.blk.Iterate(market.KeyRes, store.PrefixEnd(market.KeyRes), func(_, v []byte) bool {
			var r market.Reservation
			mustUnmarshal(t, v, &r)
			if r.Live() {
				out = append(out, &r)
			}
			return true
		})
		return out
	}
	// Per unit "health" drifts so that some units breach repeatedly.
	health := map[string]int{}
	measure := func(id string) qos.UnitMeasurement {
		hl := health[id]
		m := qos.UnitMeasurement{Unit: id, Probes: 100, Successes: 100, P50Ms: 40, P95Ms: 120, DownMbps: 40, UpMbps: 30, IntegrityPassed: 5}
		switch {
		case hl < -2:
			m.Successes, m.P95Ms, m.DownMbps = uint32(rng.IntN(50)), 900, 2
		case hl < 0:
			m.Successes = 90 + uint32(rng.IntN(11))
			m.P95Ms = 150 + uint32(rng.IntN(100))
		}
		if rng.IntN(30) == 0 {
			m.IntegrityFailed = 1
		}
		if rng.IntN(12) == 0 { // outlier
			m.P95Ms *= 5
		}
		m.P50Ms = min(m.P50Ms, m.P95Ms)
		return m
	}
	for b := 0; b < blocks; b++ {
		for _, id := range units() {
			n, _ := market.ParseUnitID(id)
			switch n % 3 {
			case 0: // healthy
				health[id] = 5
			case 1: // drifting
				health[id] = max(-5, min(5, health[id]+rng.IntN(3)-1))
			default: // mostly bad
				health[id] = -3 - rng.IntN(2)*rng.IntN(2)*8
			}
		}
		// Most oracles report the epoch that just ended, some the one
		// before (within the grace), some not at all.
		for _, o := range oracles {
			if rng.IntN(10) < 7 {
				e := h.now/10 - 1 - int64(rng.IntN(4)/3)
				var ms []qos.UnitMeasurement
				for _, id := range units() {
					if rng.IntN(10) > 0 {
						ms = append(ms, measure(id))
					}
				}
				if r := h.exec(o, &qos.MsgReport{Epoch: e, Units: ms}); r.Code == core.CodeOK {
					counts["qos/report"]++
				} else if r.Code == core.CodeInternal {
					t.Fatalf("block %d: report: %s", b, r.Log)
				}
			}
		}
		for i := rng.IntN(7); i > 0; i-- {
			var signer string
			var m core.Msg
			switch k := rng.IntN(16); k {
			case 0, 1, 2, 12, 13:
				ids := units()
				signer, m = pick(consumers), &market.MsgReserve{Unit: pick(ids), Bytes: uint64(1 + rng.Int64N(int64(4*gib))), Term: 1 + rng.Int64N(600), EgressBytes: uint64(rng.Int64N(int64(gib))), MaxPrice: core.MaxAmount}
			case 3:
				if rs := liveRes(); len(rs) > 0 {
					r := rs[rng.IntN(len(rs))]
					signer, m = nameOf[r.Consumer], &market.MsgCloseReservation{ResRef: market.ResRef{Reservation: r.ID}}
				}
			case 4:
				if rs := liveRes(); len(rs) > 0 {
					r := rs[rng.IntN(len(rs))]
					signer, m = nameOf[r.Consumer], &market.MsgResize{Reservation: r.ID, Bytes: r.Bytes + uint64(1+rng.Int64N(int64(gib)))}
				}
			case 5:
				if rs := liveRes(); len(rs) > 0 {
					r := rs[rng.IntN(len(rs))]
					signer, m = nameOf[r.Consumer], &qos.MsgClaimCompensation{Reservation: r.ID}
				}
			case 6:
				if rs := liveRes(); len(rs) > 0 {
					r := rs[rng.IntN(len(rs))]
					signer, m = nameOf[r.Provider], &market.MsgAcceptReservation{ResRef: market.ResRef{Reservation: r.ID}}
				}
			case 7:
				signer, m = pick(providers), &market.MsgClaim{}
			case 8:
				if rs := liveRes(); len(rs) > 0 {
					r := rs[rng.IntN(len(rs))]
					signer, m = nameOf[r.Provider], &market.MsgReportUsage{Reservation: r.ID, Epoch: h.now / 10, EgressBytes: uint64(rng.Int64N(int64(gib)))}
				}
			case 9:
				ids := units()
				id := pick(ids)
				u, _ := market.GetUnit(h.blk, id)
				acts := []string{"announce", "announce", "start", "end"}
				signer, m = nameOf[u.Provider], &market.MsgUnitMaintenance{Unit: id, Action: pick(acts), WindowStart: h.now + rng.Int64N(20), WindowEnd: h.now + 20 + rng.Int64N(40)}
			case 10:
				o := pick(oracles)
				if rng.IntN(2) == 0 {
					signer, m = o, &qos.MsgRegisterOracle{Stake: 10 + core.Amount(rng.IntN(100))}
				} else if rng.IntN(4) == 0 {
					signer, m = o, &qos.MsgDeregisterOracle{}
				}
			case 11:
				signer, m = pick(providers), &market.MsgUnstake{Amount: core.Amount(rng.IntN(5000))}
			default:
				// Reports for the epoch that just ended (sometimes the one before).
				e := h.now/10 - 1 - int64(rng.IntN(2))
				var ms []qos.UnitMeasurement
				for _, id := range units() {
					if rng.IntN(5) > 0 {
						ms = append(ms, measure(id))
					}
				}
				if len(ms) > 0 {
					signer, m = pick(oracles), &qos.MsgReport{Epoch: e, Units: ms}
				}
			}
			if m == nil {
				continue
			}
			name := m.Type()
			if r := h.exec(signer, m); r.Code == core.CodeOK {
				counts[name]++
			} else if r.Code == core.CodeInternal || strings.Contains(r.Log, "internal") {
				t.Fatalf("block %d: %s by %s: internal error: %s", b, name, signer, r.Log)
			}
		}
		dt := 1 + rng.Int64N(8)
		if rng.IntN(40) == 0 {
			dt = 35 // skip epochs now and then
		}
		ev := qnext(h, dt)
		for _, e := range ev {
			switch e.Type {
			case "qos_error", "market_error":
				t.Fatalf("block %d: %s %v", b, e.Type, e.Attrs)
			case "sla_breach", "compensation_paid", "unit_score", "oracle_reward", "reputation_reward", "reputation_slash", "unit_suspended", "qos_no_quorum", "oracle_unbonded":
				counts[e.Type]++
			}
		}
		checkMarketInvariants(t, h.blk, h.now)
	}
	t.Logf("seed %d, %d blocks: %v", seed, blocks, counts)
	if testing.Short() {
		return
	}
	for _, k := range []string{"qos/report", "sla_breach", "compensation_paid", "unit_score", "oracle_reward", "qos/claim_compensation", "market/resize", "reputation_reward"} {
		if counts[k] < 2 {
			t.Errorf("property test exercised %q only %d times", k, counts[k])
		}
	}
	_ = fmt.Sprint
}
