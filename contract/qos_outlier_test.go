package contract

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/params"
	"github.com/flashback-network/flashback/contract/qos"
	"github.com/flashback-network/flashback/contract/store"
)

// slow is a measurement with ten times good's p95 latency.
func slow(unit string) qos.UnitMeasurement {
	m := good(unit)
	m.P95Ms *= 10
	return m
}

// outlierRun: unit-1's six assigned oracles (o1..o6: oracles_per_unit 6)
// report epochs e and e+1; o1 reports far (farM) both times, the others
// good. With outlier_k 2, o1 is slashed when e+1 closes (work of e+3). It
// returns the chain at e+3 with the reporters (o1 first), the events and
// the balances before that work.
func outlierRun(t *testing.T, p params.Params, salt string, farM func(string) qos.UnitMeasurement, wantFar int) (*mkt, []string, []core.Event, map[string]core.Amount) {
	t.Helper()
	h := newAssignQoS(t, p, salt)
	e := h.epoch()
	names := six
	var evs []core.Event
	bal := map[string]core.Amount{}
	for i := int64(0); i < 2; i++ {
		if got := assignedNames(t, h, e+i, 1); len(got) != 6 {
			t.Fatalf("assigned %v", got)
		}
		evs = append(evs, toEpoch(h, e+i+1)...)
		h.ok(names[0], &qos.MsgReport{Epoch: e + i, Units: []qos.UnitMeasurement{farM("unit-1")}})
		for _, o := range names[1:] {
			h.ok(o, &qos.MsgReport{Epoch: e + i, Units: []qos.UnitMeasurement{good("unit-1")}})
		}
	}
	if o, _ := qos.GetOracle(h.blk, mktRaw(names[0])); len(o.FarEpochs) != wantFar {
		t.Fatalf("after the first epoch: %+v, want %d far", o, wantFar)
	}
	for _, n := range six {
		bal[n] = h.bal(n)
	}
	return h, names, append(evs, toEpoch(h, e+3)...), bal
}

func outlierParams(slash core.Amount) params.Params {
	p := qosTestParams()
	p.OutlierK, p.OutlierWindow, p.OutlierSlash = 2, 3, slash
	p.OraclesPerUnit = 6
	return p
}

// TestOutlierSlashShared: an oracle far from the median in 2 of the last
// 3 epochs loses outlier_slash, split equally among the oracles within
// tolerance in that epoch; the remainder goes to the treasury.
func TestOutlierSlashShared(t *testing.T) {
	h, names, evs, bal := outlierRun(t, outlierParams(92), "out", slow, 1)
	var ev core.Event
	for _, x := range evs {
		if x.Type == "oracle_outlier_slashed" {
			ev = x
		}
	}
	if attr(ev, "oracle") != mktAddr(names[0]) || attr(ev, "amount") != "92" || attr(ev, "sharers") != "5" || attr(ev, "each") != "18" || attr(ev, "to_treasury") != "2" {
		t.Fatalf("outlier slash event %+v", ev)
	}
	o, _ := qos.GetOracle(h.blk, mktRaw(names[0]))
	if o.OutlierSlashed != 92 || len(o.FarEpochs) != 0 || !o.Active {
		t.Fatalf("slashed oracle %+v", o)
	}
	for _, n := range names[1:] {
		if got := h.bal(n) - bal[n]; got != 18 {
			t.Fatalf("%s got %d of the slash, want 18", n, got)
		}
	}
	if got := h.bal(names[0]) - bal[names[0]]; got != 0 {
		t.Fatalf("the outlier got %d", got)
	}
	if s := qos.GetStats(h.blk); s.OutlierSlashed != 92 {
		t.Fatalf("stats outlier_slashed %d", s.OutlierSlashed)
	}
	checkQoS(t, h)
}

// TestOutlierTolerance: a report within tolerance (p95 +20 %, success
// ratio -20 points, tolerance 30 %) is never far.
func TestOutlierTolerance(t *testing.T) {
	near := func(u string) qos.UnitMeasurement {
		m := good(u)
		m.P95Ms, m.Successes = m.P95Ms*12/10, 80
		return m
	}
	h, names, evs, _ := outlierRun(t, outlierParams(92), "near", near, 0)
	_ = h
	if hasEvent(evs, "oracle_outlier_slashed") {
		t.Fatalf("report within tolerance slashed (%s)", names[0])
	}
}

// TestOutlierBelowMinStakeRemoved: a slash that leaves the bond under
// min_oracle_stake removes the oracle, its rest unbonding.
func TestOutlierBelowMinStakeRemoved(t *testing.T) {
	h, names, evs, _ := outlierRun(t, outlierParams(oracleBond-50), "out-rm", slow, 1)
	o, _ := qos.GetOracle(h.blk, mktRaw(names[0]))
	// Misses of unit-2 took 1 each epoch (miss_penalty 1), if assigned.
	if !hasEvent(evs, "oracle_removed") || o.Active || o.Stake != 0 || o.UnbondingTotal() == 0 || o.UnbondingTotal() > 50 {
		t.Fatalf("oracle after the slash: %+v", o)
	}
	checkQoS(t, h)
}

// TestHoldOutlierParams: the params are validated at genesis and shown
// in /v1/params under their names.
func TestHoldOutlierParams(t *testing.T) {
	for _, c := range []struct {
		set  func(p *params.Params)
		want string
	}{
		{func(p *params.Params) { p.HoldEpochs = params.MaxHoldEpochs + 1 }, "hold_epochs"},
		{func(p *params.Params) { p.HoldEpochs = -1 }, "hold_epochs"},
		{func(p *params.Params) { p.OutlierToleranceBps = 10_001 }, "outlier_tolerance_bps"},
		{func(p *params.Params) { p.OutlierK, p.OutlierWindow = 5, 4 }, "outlier_k"},
		{func(p *params.Params) { p.OutlierWindow = params.MaxOutlierWindow + 1 }, "outlier_window"},
	} {
		p := params.Default()
		c.set(&p)
		kv := store.NewMemKV()
		err := InitGenesis(kv, Genesis{Params: p})
		if err == nil || core.CodeOf(err) != core.CodeInvalidMessage || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("%s: genesis error %v", c.want, err)
		}
	}
	h := newAssignQoS(t, outlierParams(7), "params")
	out, err := Query(h.blk, "params")
	var v map[string]any
	if err != nil || json.Unmarshal(out, &v) != nil {
		t.Fatalf("params: %v %s", err, out)
	}
	for k, want := range map[string]any{"hold_epochs": 3.0, "miss_penalty": "1", "max_missed": 64.0, "outlier_k": 2.0, "outlier_window": 3.0, "outlier_slash": "7", "outlier_tolerance_bps": 3000.0} {
		if v[k] != want {
			t.Fatalf("/v1/params %s = %v, want %v (%s)", k, v[k], want, out)
		}
	}
}
