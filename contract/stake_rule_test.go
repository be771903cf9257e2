package contract

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
)

// unitEvents lists the units named by the events of type typ.
func unitEvents(ev []core.Event, typ string) []string {
	var units []string
	for _, e := range ev {
		if e.Type != typ {
			continue
		}
		for _, a := range e.Attrs {
			if a.Key == "unit" {
				units = append(units, a.Value)
			}
		}
	}
	return units
}

// unitTakes reads the unit's view and the quote for 1 GiB: whether the view
// says it takes reservations and whether the quote lists it.
func unitTakes(t *testing.T, h *mkt, id string) (view, quoted bool) {
	t.Helper()
	out, err := Query(h.blk, "units/"+id)
	if err != nil {
		t.Fatal(err)
	}
	var v types.UnitView
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	out, err = Query(h.blk, "quote?bytes=1GiB&term=30d")
	if err != nil {
		t.Fatal(err)
	}
	var q types.QuotePage
	if err := json.Unmarshal(out, &q); err != nil {
		t.Fatal(err)
	}
	for _, it := range q.Quotes {
		quoted = quoted || it.Unit == id
	}
	return v.TakesReservations, quoted
}

// A provider slashed below min_unit_stake per live unit: its units stop
// taking reservations (with an event each), refuse reserve with
// insufficient_stake and leave the quotes, until a top-up brings the stake
// back to the need (an event each again).
func TestUnderStakedUnitsRefuseReservations(t *testing.T) {
	h := newQoS(t, qosTestParams(), 2_000) // 2 units, min_unit_stake 1,000: exactly enough
	if view, quoted := unitTakes(t, h, "unit-2"); !view || !quoted {
		t.Fatalf("staked unit: takes_reservations %v, quoted %v", view, quoted)
	}
	e := h.epoch()
	toEpoch(h, e+1)
	bad := good("unit-1")
	bad.P95Ms = 300 // over the SLA's 200: breached, 10 % of 1,000 slashed
	report(h, e, all3, bad)
	ev := toEpoch(h, e+2)
	if provStake(h) != 1_900 {
		t.Fatalf("stake after the slash %d, want 1,900", provStake(h))
	}
	if got := strings.Join(unitEvents(ev, market.EventReservationsPaused), ","); got != "unit-1,unit-2" {
		t.Fatalf("paused events for %q, want unit-1,unit-2", got)
	}
	r := h.exec("carol", &market.MsgReserve{Unit: "unit-2", Bytes: gib, Term: monthS, MaxPrice: unitP})
	if r.Code != core.CodeInsufficientStake || !strings.Contains(r.Log, "under-staked") || !strings.Contains(r.Log, "stakes 100") {
		t.Fatalf("reserve on an under-staked provider's unit: %d %s", r.Code, r.Log)
	}
	if view, quoted := unitTakes(t, h, "unit-2"); view || quoted {
		t.Fatalf("under-staked unit: takes_reservations %v, quoted %v", view, quoted)
	}

	// Half the top-up: still short, no event, still refused.
	r = h.ok("prov", &market.MsgStake{Amount: 50})
	if len(unitEvents(r.Events, market.EventReservationsResumed)) != 0 {
		t.Fatalf("resumed while still short: %+v", r.Events)
	}
	if r := h.exec("carol", &market.MsgReserve{Unit: "unit-2", Bytes: gib, Term: monthS, MaxPrice: unitP}); r.Code != core.CodeInsufficientStake {
		t.Fatalf("reserve at 1,950 staked: %d %s", r.Code, r.Log)
	}
	r = h.ok("prov", &market.MsgStake{Amount: 50})
	if got := strings.Join(unitEvents(r.Events, market.EventReservationsResumed), ","); got != "unit-1,unit-2" {
		t.Fatalf("resumed events for %q, want unit-1,unit-2", got)
	}
	h.ok("carol", &market.MsgReserve{Unit: "unit-2", Bytes: gib, Term: monthS, MaxPrice: unitP})
	if view, quoted := unitTakes(t, h, "unit-2"); !view || !quoted {
		t.Fatalf("topped-up unit: takes_reservations %v, quoted %v", view, quoted)
	}
	checkQoS(t, h)
}

// Deleting a unit lowers the need: the remaining units resume.
func TestUnderStakedResumesWhenAUnitGoes(t *testing.T) {
	h := newQoS(t, qosTestParams(), 2_000)
	e := h.epoch()
	toEpoch(h, e+1)
	bad := good("unit-1")
	bad.P95Ms = 300
	report(h, e, all3, bad)
	toEpoch(h, e+2)
	// unit-2 holds nothing: decommission and delete it.
	h.ok("prov", &market.MsgDecommissionUnit{Unit: "unit-2"})
	r := h.ok("prov", &market.MsgDeleteUnit{Unit: "unit-2"})
	if got := strings.Join(unitEvents(r.Events, market.EventReservationsResumed), ","); got != "unit-1" {
		t.Fatalf("resumed events for %q, want unit-1", got)
	}
	h.ok("carol", &market.MsgReserve{Unit: "unit-1", Bytes: gib, Term: monthS, MaxPrice: unitP})
	checkQoS(t, h)
}

func TestStakeNeed(t *testing.T) {
	for _, c := range []struct {
		stake core.Amount
		units uint64
		min   core.Amount
		need  core.Amount
		short bool
	}{
		{0, 0, 1_000, 0, false},
		{999, 1, 1_000, 1_000, true},
		{1_000, 1, 1_000, 1_000, false},
		{5_000, 6, 1_000, 6_000, true},
		{core.Amount(1) << 62, 1 << 40, core.Amount(1) << 40, core.Amount(^uint64(0)), true}, // overflow: short
	} {
		need, short := market.StakeNeed(&market.Provider{Stake: c.stake, LiveUnits: c.units}, c.min)
		if need != c.need || short != c.short {
			t.Errorf("%+v: need %d short %v", c, need, short)
		}
	}
}
