package contract

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
)

// checkQoSInvariants verifies the QoS accounting (called from
// checkMarketInvariants after every block): the compensation pool equals
// what active reservations are owed plus dust, exactly; the compensation
// base (bytes and ring) matches the active reservations; the oracle pool
// is empty; the incremental network totals and provider score sums match
// a full recount.
func checkQoSInvariants(t *testing.T, kv KV) {
	t.Helper()
	if b := PoolBalance(kv, PoolOracle); b != 0 {
		t.Fatalf("oracle pool holds %d after the block", b)
	}
	dust := getCompDust(kv)
	if dust.Sign() < 0 || dust.Cmp(compScale) >= 0 {
		t.Fatalf("compensation dust %s out of range", dust)
	}
	f := frontier(kv)
	owed := new(big.Int).Set(dust)
	active := map[uint64]uint64{}
	byStart := map[uint64]map[int64]uint64{}
	kv.Iterate(keyRes, PrefixEnd(keyRes), func(_, v []byte) bool {
		var r Reservation
		mustUnmarshal(t, v, &r)
		if r.Status != ResActive {
			return true
		}
		n, _ := parseUnitID(r.Unit)
		o := compOwed(kv, n, getUnitQoS(kv, n), &r)
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
	if got := new(big.Int).Mul(bu(uint64(PoolBalance(kv, PoolCompensation))), compScale); got.Cmp(owed) != 0 {
		t.Fatalf("compensation pool %d (scaled %s) != owed + dust %s", PoolBalance(kv, PoolCompensation), got, owed)
	}
	want := NetworkStats{}
	sums := map[string]providerScoreSums{}
	kv.Iterate(keyUnit, PrefixEnd(keyUnit), func(k, v []byte) bool {
		var u Unit
		mustUnmarshal(t, v, &u)
		n := beU64(k[len(keyUnit):])
		q := getUnitQoS(kv, n)
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
		if u.Status != UnitDeleted {
			want.Units++
			want.CapacityOffered += u.Capacity
			s := sums[u.Provider]
			s.Sum += uint64(u.Score)
			s.Units++
			sums[u.Provider] = s
		}
		return true
	})
	kv.Iterate(keyProvider, PrefixEnd(keyProvider), func(k, v []byte) bool {
		var p Provider
		mustUnmarshal(t, v, &p)
		if !p.Deregistered {
			want.Providers++
		}
		var ps providerScoreSums
		getJSON(kv, provScoreKey(k[len(keyProvider):]), &ps)
		if ps != sums[p.Address] {
			t.Fatalf("provider %s score sums %+v, units say %+v", p.Address, ps, sums[p.Address])
		}
		return true
	})
	kv.Iterate(keyOracle, PrefixEnd(keyOracle), func(_, v []byte) bool {
		var o Oracle
		mustUnmarshal(t, v, &o)
		if o.Active {
			want.Oracles++
		}
		return true
	})
	if want.Oracles != ActiveOracles(kv) {
		t.Fatalf("active oracles %d, records say %d", ActiveOracles(kv), want.Oracles)
	}
	got := getStats(kv)
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
		h.ok(n, regProvider(n), &MsgStake{Amount: 10_000_000_000})
		for i := 0; i < 3; i++ {
			u := addUnit(Amount(100_000+rng.IntN(3_000_000)), Amount(rng.IntN(5000)), 64*gib, rng.IntN(3) > 0)
			u.SLA.MaxErrorRateBps = 500
			u.SLA.MinUptimeBps = 9000
			h.ok(n, u)
		}
	}
	for _, o := range oracles[:4] {
		h.ok(o, &MsgRegisterOracle{Stake: 10 + Amount(rng.IntN(100))})
	}
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	counts := map[string]int{}
	nameOf := map[string]string{}
	for _, n := range all {
		nameOf[mktAddr(n)] = n
	}
	units := func() []string {
		var ids []string
		for i := uint64(1); i <= maxSeq(h.blk, keySeqUnit); i++ {
			ids = append(ids, unitIDString(i))
		}
		return ids
	}
	liveRes := func() []*Reservation {
		var out []*Reservation
		h.blk.Iterate(keyRes, PrefixEnd(keyRes), func(_, v []byte) bool {
			var r Reservation
			mustUnmarshal(t, v, &r)
			if r.live() {
				out = append(out, &r)
			}
			return true
		})
		return out
	}
	// Per unit "health" drifts so that some units breach repeatedly.
	health := map[string]int{}
	measure := func(id string) UnitMeasurement {
		hl := health[id]
		m := UnitMeasurement{Unit: id, Probes: 100, Successes: 100, P50Ms: 40, P95Ms: 120, DownMbps: 40, UpMbps: 30, IntegrityPassed: 5}
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
			n, _ := parseUnitID(id)
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
				var ms []UnitMeasurement
				for _, id := range units() {
					if rng.IntN(10) > 0 {
						ms = append(ms, measure(id))
					}
				}
				if r := h.exec(o, &MsgReport{Epoch: e, Units: ms}); r.Code == CodeOK {
					counts["qos/report"]++
				} else if r.Code == CodeInternal {
					t.Fatalf("block %d: report: %s", b, r.Log)
				}
			}
		}
		for i := rng.IntN(7); i > 0; i-- {
			var signer string
			var m Msg
			switch k := rng.IntN(16); k {
			case 0, 1, 2, 12, 13:
				ids := units()
				signer, m = pick(consumers), &MsgReserve{Unit: pick(ids), Bytes: uint64(1 + rng.Int64N(int64(4*gib))), Term: 1 + rng.Int64N(600), EgressBytes: uint64(rng.Int64N(int64(gib))), MaxPrice: MaxAmount}
			case 3:
				if rs := liveRes(); len(rs) > 0 {
					r := rs[rng.IntN(len(rs))]
					signer, m = nameOf[r.Consumer], &MsgCloseReservation{resRef{r.ID}}
				}
			case 4:
				if rs := liveRes(); len(rs) > 0 {
					r := rs[rng.IntN(len(rs))]
					signer, m = nameOf[r.Consumer], &MsgResize{Reservation: r.ID, Bytes: r.Bytes + uint64(1+rng.Int64N(int64(gib)))}
				}
			case 5:
				if rs := liveRes(); len(rs) > 0 {
					r := rs[rng.IntN(len(rs))]
					signer, m = nameOf[r.Consumer], &MsgClaimCompensation{Reservation: r.ID}
				}
			case 6:
				if rs := liveRes(); len(rs) > 0 {
					r := rs[rng.IntN(len(rs))]
					signer, m = nameOf[r.Provider], &MsgAcceptReservation{resRef{r.ID}}
				}
			case 7:
				signer, m = pick(providers), &MsgClaim{}
			case 8:
				if rs := liveRes(); len(rs) > 0 {
					r := rs[rng.IntN(len(rs))]
					signer, m = nameOf[r.Provider], &MsgReportUsage{Reservation: r.ID, Epoch: h.now / 10, EgressBytes: uint64(rng.Int64N(int64(gib)))}
				}
			case 9:
				ids := units()
				id := pick(ids)
				u, _ := GetUnit(h.blk, id)
				acts := []string{"announce", "announce", "start", "end"}
				signer, m = nameOf[u.Provider], &MsgUnitMaintenance{Unit: id, Action: pick(acts), WindowStart: h.now + rng.Int64N(20), WindowEnd: h.now + 20 + rng.Int64N(40)}
			case 10:
				o := pick(oracles)
				if rng.IntN(2) == 0 {
					signer, m = o, &MsgRegisterOracle{Stake: 10 + Amount(rng.IntN(100))}
				} else if rng.IntN(4) == 0 {
					signer, m = o, &MsgDeregisterOracle{}
				}
			case 11:
				signer, m = pick(providers), &MsgUnstake{Amount: Amount(rng.IntN(5000))}
			default:
				// Reports for the epoch that just ended (sometimes the one before).
				e := h.now/10 - 1 - int64(rng.IntN(2))
				var ms []UnitMeasurement
				for _, id := range units() {
					if rng.IntN(5) > 0 {
						ms = append(ms, measure(id))
					}
				}
				if len(ms) > 0 {
					signer, m = pick(oracles), &MsgReport{Epoch: e, Units: ms}
				}
			}
			if m == nil {
				continue
			}
			name := typeNames[reflectType(m)]
			if r := h.exec(signer, m); r.Code == CodeOK {
				counts[name]++
			} else if r.Code == CodeInternal || strings.Contains(r.Log, "internal") {
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
