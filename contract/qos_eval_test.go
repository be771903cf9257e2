package contract

import (
	"testing"

	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/qos"
)

// An unreachable unit has no successful probe, so its p95 latency reads 0:
// that must not count as beating its latency term. With latency the only
// term offered it used to (+3), cancelling the -1 unreachable and -2
// breached, so a unit failing every probe kept its score of 50 forever.
func TestQoSUnreachableLatencyOnlyLosesScore(t *testing.T) {
	latencyOnly := func(s *market.SLAOffer) {
		*s = market.SLAOffer{MaxP95LatencyMs: 5000, MinUptimeBps: 5000, Durability: true}
	}
	h := newQoS(t, qosTestParams(), 10_000, latencyOnly)
	v := qos.Evaluate(h.unit("unit-1").SLA, qos.UnitMeasurement{Probes: 6}, 0, market.BpsDenom)
	if !v.Unreachable || v.Beat || len(v.Terms) == 0 {
		t.Errorf("unreachable unit evaluated %+v", v)
	}
	var ev []core.Event
	down := qos.UnitMeasurement{Unit: "unit-1", Probes: 6}
	scores := scoreWalk(h, 8, &down, &ev)
	if s := h.unit("unit-1").Score; s >= market.DefaultScore {
		t.Fatalf("unreachable unit (latency-only SLA) score %d after 8 epochs: %v", s, scores)
	}
	// The same offer, beaten: the score still rises.
	up := qos.UnitMeasurement{Unit: "unit-2", Probes: 6, Successes: 6, P50Ms: 1, P95Ms: 3, IntegrityPassed: 1}
	for range 8 {
		e := h.epoch()
		toEpoch(h, e+1)
		report(h, e, all3, up)
	}
	if s := h.unit("unit-2").Score; s <= market.DefaultScore {
		t.Fatalf("healthy unit (latency-only SLA) score %d", s)
	}
	checkQoS(t, h)
}
