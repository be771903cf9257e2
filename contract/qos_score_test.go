package contract

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/qos"
	"github.com/flashback-network/flashback/contract/store"
)

func TestQoSEachTerm(t *testing.T) {
	type tc struct {
		term string
		sla  func(s *market.SLAOffer)
		m    func(m *qos.UnitMeasurement)
	}
	for _, c := range []tc{
		{"latency", nil, func(m *qos.UnitMeasurement) { m.P95Ms = 201 }},
		{"uptime", func(s *market.SLAOffer) { s.MaxErrorRateBps = 300 }, func(m *qos.UnitMeasurement) { m.Successes = 98 }},
		{"download", nil, func(m *qos.UnitMeasurement) { m.DownMbps = 9 }},
		{"upload", nil, func(m *qos.UnitMeasurement) { m.UpMbps = 9 }},
		{"error_rate", func(s *market.SLAOffer) { s.MinUptimeBps = 9000 }, func(m *qos.UnitMeasurement) { m.Successes = 98 }},
		{"integrity", nil, func(m *qos.UnitMeasurement) { m.IntegrityFailed = 2 }},
		{"", nil, func(m *qos.UnitMeasurement) { m.P95Ms, m.DownMbps, m.UpMbps, m.Successes = 200, 10, 10, 99 }}, // on the limits
	} {
		t.Run("term "+c.term, func(t *testing.T) {
			var opts []func(s *market.SLAOffer)
			if c.sla != nil {
				opts = append(opts, c.sla)
			}
			h := newQoS(t, qosTestParams(), 10_000, opts...)
			e := h.epoch()
			toEpoch(h, e+1)
			m := good("unit-1")
			c.m(&m)
			report(h, e, all3, m)
			toEpoch(h, e+2)
			checkQoS(t, h)
			hist := unitHist(t, h.blk, 1, e)
			if strings.Join(hist.Terms, ",") != c.term {
				t.Fatalf("terms %v, want %q (%+v)", hist.Terms, c.term, hist)
			}
			if want := c.term != ""; market.IsBreached(h.blk, 1, e) != want || (provStake(h) < 10_000) != want {
				t.Fatalf("breached %v, stake %d", market.IsBreached(h.blk, 1, e), provStake(h))
			}
		})
	}
}

// Relaxing the SLA does not relax it for the live reservations.
func TestQoSRelaxedSLA(t *testing.T) {
	h := newQoS(t, qosTestParams(), 10_000)
	sla := h.unit("unit-1").SLA
	sla.MaxP95LatencyMs = 1000
	h.ok("prov", &market.MsgUpdateUnit{Unit: "unit-1", SLA: &sla})
	e := h.epoch()
	toEpoch(h, e+1)
	m := good("unit-1")
	m.P95Ms = 500
	report(h, e, all3, m)
	toEpoch(h, e+2)
	if hist := unitHist(t, h.blk, 1, e); strings.Join(hist.Terms, ",") != "latency" {
		t.Fatalf("judged by the relaxed terms: %+v", hist)
	}
	// On a unit without reservations the new offer applies at once.
	sla2 := h.unit("unit-2").SLA
	sla2.MaxP95LatencyMs = 1000
	h.ok("prov", &market.MsgUpdateUnit{Unit: "unit-2", SLA: &sla2})
	e = h.epoch()
	toEpoch(h, e+1)
	m.Unit = "unit-2"
	report(h, e, all3, m)
	toEpoch(h, e+2)
	if hist := unitHist(t, h.blk, 2, e); hist.Status != qos.QoSCompliant {
		t.Fatalf("%+v", hist)
	}
	checkQoS(t, h)
}

func TestQoSMaintenance(t *testing.T) {
	p := qosTestParams()
	p.DecayPerMonth = 10 // rounds to no decay per 2-minute period
	h := newQoS(t, p, 10_000)
	e := h.epoch()
	// Announced during e for e+1 on both units; unit-2 gets no reports.
	for _, u := range []string{"unit-1", "unit-2"} {
		h.ok("prov", &market.MsgUnitMaintenance{Unit: u, Action: "announce", WindowStart: (e + 1) * qEpoch, WindowEnd: (e + 2) * qEpoch})
	}
	toEpoch(h, e+1)
	report(h, e, all3, good("unit-1"))
	toEpoch(h, e+2)
	bad := good("unit-1")
	bad.Successes = 0
	report(h, e+1, all3, bad)
	score := h.unit("unit-1").Score
	toEpoch(h, e+3)
	checkQoS(t, h)
	if hist := unitHist(t, h.blk, 1, e); hist.Status != qos.QoSCompliant || market.IsBreached(h.blk, 1, e) {
		t.Fatalf("epoch before the window: %+v", hist)
	}
	hist := unitHist(t, h.blk, 1, e+1)
	if hist.Status != qos.QoSMaintenance || hist.Slashed != 0 || !market.IsBreached(h.blk, 1, e+1) || provStake(h) != 10_000 {
		t.Fatalf("maintenance epoch: %+v, breached %v, stake %d", hist, market.IsBreached(h.blk, 1, e+1), provStake(h))
	}
	if h2 := unitHist(t, h.blk, 2, e+1); h2.Status != qos.QoSMaintenance || !market.IsBreached(h.blk, 2, e+1) {
		t.Fatalf("unreported maintenance epoch: %+v", h2)
	}
	qs := qos.GetUnitQoS(h.blk, 1)
	if qs.Maintenance != 1 || len(qs.Window) != 1 || qs.Window[0].Epoch != e {
		t.Fatalf("maintenance must stay out of the uptime window: %+v", qs)
	}
	toEpoch(h, e+6)
	if s := h.unit("unit-1").Score; s < score {
		t.Fatalf("maintenance lowered the score %d -> %d", score, s)
	}
	// An unannounced start does not excuse the epoch it starts in.
	e2 := h.epoch()
	h.ok("prov", &market.MsgUnitMaintenance{Unit: "unit-1", Action: "start", WindowEnd: (e2 + 5) * qEpoch})
	toEpoch(h, e2+1)
	report(h, e2, all3, bad)
	toEpoch(h, e2+2)
	if hist := unitHist(t, h.blk, 1, e2); hist.Status != qos.QoSBreached {
		t.Fatalf("unannounced: %+v", hist)
	}
	checkQoS(t, h)
}

// scoreWalk reports m for unit-1 in every epoch from the current one for n
// epochs (m nil: no reports) and returns the score after each block.
func scoreWalk(h *mkt, n int, m *qos.UnitMeasurement, events *[]core.Event) []uint32 {
	var out []uint32
	for i := 0; i < n; i++ {
		e := h.epoch()
		*events = append(*events, toEpoch(h, e+1)...)
		if m != nil {
			mm := *m
			report(h, e, all3, mm)
		}
		out = append(out, h.unit("unit-1").Score)
	}
	return out
}

func TestQoSScoreWalk(t *testing.T) {
	h := newQoS(t, qosTestParams(), 10_000)
	var ev []core.Event
	steps := func(scores []uint32, prev uint32, allowed int) uint32 {
		t.Helper()
		changes := 0
		for _, s := range scores {
			if d := int(s) - int(prev); d != 0 {
				if d != allowed {
					t.Fatalf("score moved %d -> %d, want steps of %d (%v)", prev, s, allowed, scores)
				}
				changes++
			}
			prev = s
		}
		if changes < len(scores)/2-2 {
			t.Fatalf("only %d changes over %d epochs: %v", changes, len(scores), scores)
		}
		return prev
	}
	g := good("unit-1") // beats every term by >= 20 %: +1 +2 +3 per period
	s := steps(scoreWalk(h, 12, &g, &ev), market.DefaultScore, 6)
	if s < 50+6*4 {
		t.Fatalf("score %d after 12 good epochs", s)
	}
	if h.unit("unit-1").Score != s || qos.GetUnitQoS(h.blk, 1).ScoreMilli != int64(s)*1000 {
		t.Fatal("score out of step")
	}
	p, _ := market.GetProvider(h.blk, mktRaw("prov"))
	if want := (uint32(s) + market.DefaultScore + 1) / 2; p.Score != want || qos.ProviderScoreOf(h.blk, mktRaw("prov")) != want {
		t.Fatalf("provider score %d, want mean %d", p.Score, want)
	}
	// No data: the last good period is scored, then the score decays 1
	// point per period toward 50.
	scoreWalk(h, 3, nil, &ev)
	s = h.unit("unit-1").Score
	s = steps(scoreWalk(h, 12, nil, &ev), s, -1)
	checkQoS(t, h)
	// Unreachable, breached and 20 % worse: -1 -2 -3 per period.
	bad := qos.UnitMeasurement{Unit: "unit-1", Probes: 100, Successes: 0, P95Ms: 1000, DownMbps: 1, UpMbps: 1}
	scoreWalk(h, 2, &bad, &ev) // a last decay step may still be due
	s = h.unit("unit-1").Score
	steps(scoreWalk(h, 24, &bad, &ev), s, -6)
	if sc := h.unit("unit-1").Score; sc >= 20 {
		t.Fatalf("score %d after 24 bad epochs", sc)
	}
	if !hasEvent(ev, "score_warning") || !hasEvent(ev, "unit_suspended") {
		t.Fatal("no warning or suspension events")
	}
	if r := h.exec("carol", &market.MsgReserve{Unit: "unit-1", Bytes: 1, Term: 10, MaxPrice: unitP}); r.Code != core.CodeUnitSuspended {
		t.Fatalf("reserve on a suspended unit: %s", r.Log)
	}
	h.ok("carol", &market.MsgReserve{Unit: "unit-2", Bytes: 1, Term: 10, MaxPrice: unitP})
	// Its consumers may close (closing never has a fee).
	h.ok("alice", &market.MsgCloseReservation{ResRef: market.ResRef{Reservation: "res-1"}})
	checkQoS(t, h)
	var ps types.ProviderScoreView
	out, err := Query(h.blk, "providers/"+mktAddr("prov")+"/score")
	if err != nil || !decodesJSON(out, &ps) || ps.Units != 2 || len(ps.PerUnit) != 2 || !ps.PerUnit[0].Suspended {
		t.Fatalf("provider score query %s %v", out, err)
	}
	// Scores clamp at 0.
	scoreWalk(h, 40, &bad, &ev)
	if sc := qos.GetUnitQoS(h.blk, 1).ScoreMilli; sc != 0 {
		t.Fatalf("score milli %d, want clamped 0", sc)
	}
	checkQoS(t, h)
}

func fundRewards(h *mkt, amt core.Amount) {
	if err := bank.FundPool(h.blk, bank.PoolRewards, amt); err != nil {
		h.t.Fatal(err)
	}
}

func TestQoSReputation(t *testing.T) {
	const stake = core.Amount(500_000_000_000) // 2.5e11 per unit
	for _, c := range []struct {
		start    int64 // milli
		reward   core.Amount
		slash    core.Amount
		poolOnly core.Amount
	}{
		// 91 after the period: 12 %/yr x 120 s of 2.5e11 = 114,155.25
		{start: 85_000, reward: 114_155},
		// 66: 5 %/yr
		{start: 60_000, reward: 47_564},
		// 46: nothing
		{start: 40_000},
		// 31: slash 5 %/yr
		{start: 25_000, slash: 47_564},
		// 16: slash 12 %/yr
		{start: 10_000, slash: 114_155},
		// pool short: pay what it has
		{start: 85_000, reward: 1_000, poolOnly: 1_000},
	} {
		t.Run(fmt.Sprint(c.start, c.poolOnly), func(t *testing.T) {
			h := newQoS(t, qosTestParams(), stake)
			fund := core.Amount(1_000_000_000)
			if c.poolOnly > 0 {
				fund = c.poolOnly
			}
			fundRewards(h, fund)
			qs := qos.GetUnitQoS(h.blk, 1)
			qs.ScoreMilli = c.start
			qos.SetUnitQoS(h.blk, 1, qs)
			if err := testApp.Market.SetUnitScore(h.blk, "unit-1", uint32(c.start/1000)); err != nil {
				t.Fatal(err)
			}
			// Align to a period start so the first period is complete.
			e := h.epoch()
			if e%2 == 1 {
				e++
				toEpoch(h, e)
			}
			b, st := h.bal("prov"), provStake(h)
			g := good("unit-1")
			var ev []core.Event
			scoreWalk(h, 3, &g, &ev) // one period scored
			checkQoS(t, h)
			qs = qos.GetUnitQoS(h.blk, 1)
			if qs.LastScored < e/2 {
				t.Fatalf("period not scored: %+v", qs)
			}
			if qs.Rewarded != c.reward || qs.RepSlashed != c.slash {
				t.Fatalf("rewarded %d slashed %d, want %d %d (score %d)", qs.Rewarded, qs.RepSlashed, c.reward, c.slash, h.unit("unit-1").Score)
			}
			if got := h.bal("prov") - b; got != c.reward {
				t.Fatalf("provider got %d", got)
			}
			if got := st - provStake(h); got != c.slash {
				t.Fatalf("stake down %d", got)
			}
		})
	}
}

func TestQoSHistoryBounded(t *testing.T) {
	p := qosTestParams()
	p.HistoryEpochs = 5
	h := newQoS(t, p, 10_000)
	g := good("unit-1")
	var ev []core.Event
	scoreWalk(h, 15, &g, &ev)
	n := 0
	h.blk.Iterate(store.Key(qos.HistoryPrefixes()[1], store.EncodeUint64(1)), store.PrefixEnd(store.Key(qos.HistoryPrefixes()[1], store.EncodeUint64(1))), func(_, _ []byte) bool { n++; return true })
	m := 0
	h.blk.Iterate(qos.HistoryPrefixes()[0], store.PrefixEnd(qos.HistoryPrefixes()[0]), func(_, _ []byte) bool { m++; return true })
	if n != 5 || m != 5 {
		t.Fatalf("history %d unit entries, %d epoch entries; want 5 each", n, m)
	}
	var uq types.UnitQoSView
	out, err := Query(h.blk, "units/unit-1/qos")
	if err != nil || !decodesJSON(out, &uq) || len(uq.History) != 5 || uq.AgeSeconds <= 0 {
		t.Fatalf("%s %v", out, err)
	}
	checkQoS(t, h)
}

// decodesJSON reports whether a query's JSON output decodes into v.
func decodesJSON(b []byte, v any) bool { return json.Unmarshal(b, v) == nil }
