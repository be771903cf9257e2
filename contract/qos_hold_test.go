package contract

import (
	"slices"
	"strconv"
	"testing"

	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/qos"
)

// bad is an unreachable unit's measurement.
func bad(unit string) qos.UnitMeasurement {
	return qos.UnitMeasurement{Unit: unit, Probes: 100, Successes: 0, P50Ms: 900, P95Ms: 900, DownMbps: 1, UpMbps: 1}
}

// assignedNames are the names of unit-n's assigned oracles in epoch e.
func assignedNames(t *testing.T, h *mkt, e int64, n uint64) []string {
	t.Helper()
	var out []string
	for _, a := range assigned(t, h, e, n) {
		out = append(out, nameOfAddr(a))
	}
	return out
}

func eventFor(evs []core.Event, typ, unit string, e int64) (core.Event, bool) {
	for _, ev := range evs {
		if ev.Type == typ && attr(ev, "unit") == unit && attr(ev, "epoch") == strconv.FormatInt(e, 10) {
			return ev, true
		}
	}
	return core.Event{}, false
}

// heldChain: epoch e of unit-1 (alice's 1 GiB) gets no report from its
// assigned oracles; the work at e+2 holds it. The chain is at e+2.
func heldChain(t *testing.T, salt string) (*mkt, int64) {
	t.Helper()
	h := newAssignQoS(t, qosTestParams(), salt)
	e := h.epoch()
	toEpoch(h, e+1)
	evs := toEpoch(h, e+2)
	if _, ok := eventFor(evs, "qos_hold", "unit-1", e); !ok || !market.IsHeld(h.unit("unit-1"), e) || !qos.IsHeldEpoch(h.blk, 1, e) {
		t.Fatalf("epoch %d not held: %v", e, evs)
	}
	if market.IsBreached(h.blk, 1, e) {
		t.Fatal("held epoch refunded at once")
	}
	return h, e
}

// TestHoldResolvedPaidOrExpiredRefunded: two chains hold the same epoch.
// On A two assigned oracles send their reports late (healthy): it is
// resolved compliant and the provider is paid for it. On B nobody does:
// held, it is neither claimable (past settle_lag_epochs, where it would
// be final) nor refunded; at expiry it is refunded to the consumer, and
// the provider never earns it.
func TestHoldResolvedPaidOrExpiredRefunded(t *testing.T) {
	a, e := heldChain(t, "hold")
	b, _ := heldChain(t, "hold")
	for _, o := range assignedNames(t, a, e, 1)[:2] {
		a.ok(o, &qos.MsgReport{Epoch: e, Units: []qos.UnitMeasurement{good("unit-1")}})
	}
	evA, evB := toEpoch(a, e+3), toEpoch(b, e+3)
	ev, ok := eventFor(evA, "qos_hold_resolved", "unit-1", e)
	if !ok || attr(ev, "status") != qos.QoSCompliant || attr(ev, "paid") != "true" || market.IsHeld(a.unit("unit-1"), e) || market.IsBreached(a.blk, 1, e) {
		t.Fatalf("A: late quorum not resolved as paid: %+v", evA)
	}
	if _, ok := eventFor(evB, "qos_hold_resolved", "unit-1", e); ok || !market.IsHeld(b.unit("unit-1"), e) {
		t.Fatal("B resolved without reports")
	}
	toEpoch(a, e+4)
	toEpoch(b, e+4)
	// One epoch of alice's 1 GiB at unitP per GiB-month.
	perEpoch := core.Amount(int64(unitP) * qEpoch / monthS)
	ca, cb := market.UnitClaimable(a.blk, a.unit("unit-1"), a.now), market.UnitClaimable(b.blk, b.unit("unit-1"), b.now)
	if d := ca - cb; d+1 < perEpoch || d > perEpoch+1 {
		t.Fatalf("held epoch claimable: A %d, B %d (diff %d, one epoch is %d)", ca, cb, d, perEpoch)
	}
	evB = append(toEpoch(b, e+5), toEpoch(b, e+6)...)
	toEpoch(a, e+5)
	toEpoch(a, e+6)
	if ev, ok := eventFor(evB, "qos_hold_expired", "unit-1", e); !ok || attr(ev, "refunded") != "true" || !market.IsBreached(b.blk, 1, e) || market.IsHeld(b.unit("unit-1"), e) {
		t.Fatalf("B: hold did not expire refunded: %v", evB)
	}
	ca, cb = market.UnitClaimable(a.blk, a.unit("unit-1"), a.now), market.UnitClaimable(b.blk, b.unit("unit-1"), b.now)
	if d := ca - cb; d+1 < perEpoch || d > perEpoch+1 {
		t.Fatalf("after expiry: A %d, B %d claimable (diff %d, want one epoch %d)", ca, cb, d, perEpoch)
	}
	// The consumer closes on both: B refunds her the held epoch (with its fee).
	ra, rb := a.bal("alice"), b.bal("alice")
	a.ok("alice", &market.MsgCloseReservation{ResRef: market.ResRef{Reservation: "res-1"}})
	b.ok("alice", &market.MsgCloseReservation{ResRef: market.ResRef{Reservation: "res-1"}})
	if d := (b.bal("alice") - rb) - (a.bal("alice") - ra); d < perEpoch {
		t.Fatalf("B refunded %d more than A, want at least one epoch %d", d, perEpoch)
	}
	checkQoS(t, a)
	checkQoS(t, b)
}

// TestHoldResolvedBreached: the late reports say the unit was down: the
// held epoch is refunded and the provider slashed to the consumer.
func TestHoldResolvedBreached(t *testing.T) {
	h, e := heldChain(t, "hold-bad")
	stake := provStake(h)
	for _, o := range assignedNames(t, h, e, 1) {
		h.ok(o, &qos.MsgReport{Epoch: e, Units: []qos.UnitMeasurement{bad("unit-1")}})
	}
	evs := toEpoch(h, e+3)
	ev, ok := eventFor(evs, "qos_hold_resolved", "unit-1", e)
	if !ok || attr(ev, "status") != qos.QoSBreached || !market.IsBreached(h.blk, 1, e) || market.IsHeld(h.unit("unit-1"), e) {
		t.Fatalf("late failing reports: %v", evs)
	}
	if provStake(h) >= stake || attr(ev, "compensation") == "0" {
		t.Fatalf("provider not slashed to the consumer: stake %d -> %d, %v", stake, provStake(h), ev)
	}
	if hist := unitHist(t, h.blk, 1, e); hist.Status != qos.QoSBreached || hist.Reporters != 3 {
		t.Fatalf("history of the resolved epoch: %+v", hist)
	}
	h.ok("alice", &qos.MsgClaimCompensation{Reservation: "res-1"})
	if h.res("res-1").Compensation == 0 {
		t.Fatal("consumer not compensated")
	}
	checkQoS(t, h)
}

// TestLateReportRules: late reports are taken only for held unit-epochs,
// from their assigned oracles, once each; a refused one changes nothing.
func TestLateReportRules(t *testing.T) {
	h, e := heldChain(t, "late")
	names := assignedNames(t, h, e, 1)
	var outsider string
	for _, o := range six {
		if !slices.Contains(names, o) {
			outsider = o
			break
		}
	}
	before := qos.HeldUnitEpochs(h.blk, 10)
	cases := []struct {
		who  string
		e    int64
		code core.Code
	}{
		{outsider, e, core.CodeNotAssigned},
		{names[0], e - 1, core.CodeLateReport}, // an older epoch, not held
	}
	for _, c := range cases {
		if r := h.exec(c.who, &qos.MsgReport{Epoch: c.e, Units: []qos.UnitMeasurement{good("unit-1")}}); r.Code != c.code {
			t.Fatalf("%s reporting epoch %d: %s %s, want %s", c.who, c.e, r.Code.Name(), r.Log, c.code.Name())
		}
	}
	h.ok(names[0], &qos.MsgReport{Epoch: e, Units: []qos.UnitMeasurement{good("unit-1")}})
	if r := h.exec(names[0], &qos.MsgReport{Epoch: e, Units: []qos.UnitMeasurement{good("unit-1")}}); r.Code != core.CodeDuplicateReport {
		t.Fatalf("second late report: %s %s", r.Code.Name(), r.Log)
	}
	after := qos.HeldUnitEpochs(h.blk, 10)
	if !slices.Equal(before, after) {
		t.Fatalf("one late report of three (quorum 2) moved the hold: %v -> %v", before, after)
	}
	// The hold expires at e+2+hold_epochs; then the epoch is closed.
	toEpoch(h, e+5)
	if r := h.exec(names[1], &qos.MsgReport{Epoch: e, Units: []qos.UnitMeasurement{good("unit-1")}}); r.Code != core.CodeLateReport {
		t.Fatalf("report after expiry: %s %s", r.Code.Name(), r.Log)
	}
	if !market.IsBreached(h.blk, 1, e) {
		t.Fatal("one late report of three resolved the hold")
	}
	checkQoS(t, h)
}

// TestHoldTooLongCloseRefundsHeld: more than hold_epochs consecutive held
// epochs flag the unit; its consumer closes without fee, and is charged
// nothing for the epochs still held.
func TestHoldTooLongCloseRefundsHeld(t *testing.T) {
	h := newAssignQoS(t, qosTestParams(), "long")
	e := h.epoch()
	var evs []core.Event
	for i := int64(1); i <= 6; i++ {
		evs = append(evs, toEpoch(h, e+i)...)
	}
	// Epochs e..e+3 held: a run of 4 > hold_epochs 3 (e+4 held since).
	ev, ok := eventFor(evs, "qos_hold_too_long", "unit-1", e+3)
	qs := qos.GetUnitQoS(h.blk, 1)
	if !ok || !qs.HoldTooLong || qs.HeldRun != 5 || attr(ev, "held_run") != "4" {
		t.Fatalf("hold too long not flagged: %+v, %v", qs, ev)
	}
	u := h.unit("unit-1")
	for _, x := range []int64{e + 3, e + 4} {
		if !market.IsHeld(u, x) {
			t.Fatalf("epoch %d not held", x)
		}
	}
	r := h.res("res-1")
	bal := h.bal("alice")
	h.ok("alice", &market.MsgCloseReservation{ResRef: market.ResRef{Reservation: "res-1"}})
	c := h.res("res-1")
	fee := core.Amount(qosTestParams().TxFee)
	if c.Refunded+c.StoragePaid+c.EgressPaid+c.EgressFee != r.Escrowed || h.bal("alice") != bal-fee+c.Refunded {
		t.Fatalf("close: paid %d refunded %d of %d; balance %d -> %d", c.StoragePaid, c.Refunded, r.Escrowed, bal, h.bal("alice"))
	}
	// Charged for the time before e and since e+5 (not judged yet, as
	// before): e and e+1 expired (refunded), e+2..e+4 are held and not
	// charged either.
	secs := h.now - r.Start.Unix() - 5*qEpoch
	want := int64(r.StorageEsc) * secs / (r.End.Unix() - r.Start.Unix())
	if d := int64(c.StoragePaid) - want; d < -2 || d > 2 {
		t.Fatalf("closed during a hold: charged %d, want %d (%d s of the term)", c.StoragePaid, want, secs)
	}
	checkQoS(t, h)
}

// TestCollusionNotPaid: the provider's friend among the assigned oracles
// reports "all fine" while the two honest ones report the unit down: the
// median is theirs, the epoch is breached (not paid) and the colluder's
// report is far from it.
func TestCollusionNotPaid(t *testing.T) {
	h := newAssignQoS(t, qosTestParams(), "collude")
	e := h.epoch()
	names := assignedNames(t, h, e, 1)
	toEpoch(h, e+1)
	colluder := names[0]
	h.ok(colluder, &qos.MsgReport{Epoch: e, Units: []qos.UnitMeasurement{good("unit-1")}})
	for _, o := range names[1:] {
		h.ok(o, &qos.MsgReport{Epoch: e, Units: []qos.UnitMeasurement{bad("unit-1")}})
	}
	toEpoch(h, e+2)
	if hist := unitHist(t, h.blk, 1, e); hist.Status != qos.QoSBreached || !market.IsBreached(h.blk, 1, e) {
		t.Fatalf("colluder's report carried the epoch: %+v", hist)
	}
	if o, _ := qos.GetOracle(h.blk, mktRaw(colluder)); !slices.Equal(o.FarEpochs, []int64{e}) {
		t.Fatalf("colluder's far epochs %v, want [%d]", o.FarEpochs, e)
	}
	for _, o := range names[1:] {
		if rec, _ := qos.GetOracle(h.blk, mktRaw(o)); len(rec.FarEpochs) != 0 {
			t.Fatalf("honest %s marked far: %v", o, rec.FarEpochs)
		}
	}
	checkQoS(t, h)
}
