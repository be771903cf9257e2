package contract

import (
	"encoding/json"
	"strconv"

	"github.com/flashback-network/flashback/api/types"
	"slices"
	"strings"
	"testing"

	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/params"
	"github.com/flashback-network/flashback/contract/qos"
)

var six = []string{"o1", "o2", "o3", "o4", "o5", "o6"}

// newAssignQoS: newQoS plus oracles o4..o6, the provider itself ("prov")
// registered as an oracle, and "friend" (an oracle the provider declares
// related); then the next epoch begins, which fixes a set of eight.
func newAssignQoS(t *testing.T, p params.Params, salt string) *mkt {
	t.Helper()
	h := newMktSalted(t, p, salt)
	for _, o := range []string{"o4", "o5", "o6", "prov", "friend"} {
		h.ok(o, &qos.MsgRegisterOracle{Stake: oracleBond})
	}
	h.ok("prov", &qos.MsgDeclareRelated{Accounts: []string{mktAddr("friend")}})
	toEpoch(h, h.epoch()+1)
	return h
}

func newMktSalted(t *testing.T, p params.Params, salt string) *mkt {
	t.Helper()
	h := newMkt(t, p, richBal, "prov", "alice", "bob", "carol", "o1", "o2", "o3", "o4", "o5", "o6", "friend")
	h.salt = salt
	u1, u2 := addUnit(unitP, unitE, 100*gib, true), addUnit(unitP, unitE, 100*gib, true)
	h.ok("prov", regProvider("prov"), &market.MsgStake{Amount: 10_000}, u1, u2)
	for _, o := range all3 {
		h.ok(o, &qos.MsgRegisterOracle{Stake: oracleBond})
	}
	h.ok("alice", &market.MsgReserve{Unit: "unit-1", Bytes: gib, Term: monthS, EgressBytes: 10 * gib, MaxPrice: unitP})
	return h
}

func assigned(t *testing.T, h *mkt, e int64, n uint64) []string {
	t.Helper()
	addrs, fixed, err := qos.AssignedOracles(h.blk, e, n)
	if err != nil || !fixed {
		t.Fatalf("unit-%d epoch %d: fixed %v err %v", n, e, fixed, err)
	}
	return addrs
}

// TestOracleAssignment: each unit gets oracles_per_unit oracles of the
// epoch's set, never its owner or a related account; the draw is the same
// on every chain with the same block hashes and changes with them.
func TestOracleAssignment(t *testing.T) {
	a, b, c := newAssignQoS(t, qosTestParams(), "x"), newAssignQoS(t, qosTestParams(), "x"), newAssignQoS(t, qosTestParams(), "y")
	differs := false
	for i := 0; i < 6; i++ {
		e := a.epoch()
		for n := uint64(1); n <= 2; n++ {
			got := assigned(t, a, e, n)
			if len(got) != 3 {
				t.Fatalf("epoch %d unit-%d: %d oracles assigned, want 3", e, n, len(got))
			}
			if slices.Contains(got, mktAddr("prov")) || slices.Contains(got, mktAddr("friend")) {
				t.Fatalf("epoch %d unit-%d: the owner or its related account is assigned: %v", e, n, got)
			}
			if same := assigned(t, b, e, n); !slices.Equal(got, same) {
				t.Fatalf("same hashes, different draws: %v vs %v", got, same)
			}
			if other := assigned(t, c, e, n); !slices.Equal(got, other) {
				differs = true
			}
		}
		for _, h := range []*mkt{a, b, c} {
			toEpoch(h, e+1)
		}
	}
	if !differs {
		t.Fatal("other block hashes never drew other oracles in 12 unit-epochs")
	}
}

// TestReportNotAssigned: an oracle not assigned to a unit, the provider
// reporting its own unit and its related account are refused with
// not_assigned, and nothing is stored; the assigned oracles' reports make
// quorum over the assigned set (2 of 3, where 2 of the 8 active oracles
// made none before).
func TestReportNotAssigned(t *testing.T) {
	h := newAssignQoS(t, qosTestParams(), "r")
	e := h.epoch()
	got := assigned(t, h, e, 1)
	var outsider string
	for _, o := range six {
		if !slices.Contains(got, mktAddr(o)) {
			outsider = o
			break
		}
	}
	toEpoch(h, e+1)
	for _, o := range []string{outsider, "prov", "friend"} {
		r := h.exec(o, &qos.MsgReport{Epoch: e, Units: []qos.UnitMeasurement{good("unit-1")}})
		if r.Code != core.CodeNotAssigned || !strings.Contains(r.Log, "unit-1") {
			t.Fatalf("%s reporting unit-1: %s %s, want not_assigned", o, r.Code.Name(), r.Log)
		}
	}
	if o, _ := qos.GetOracle(h.blk, mktRaw(outsider)); o.Reports != 0 {
		t.Fatalf("refused report counted: %+v", o)
	}
	for _, a := range got[:2] {
		h.ok(nameOfAddr(a), &qos.MsgReport{Epoch: e, Units: []qos.UnitMeasurement{good("unit-1")}})
	}
	toEpoch(h, e+2)
	toEpoch(h, e+3)
	hist := unitHist(t, h.blk, 1, e)
	if hist.Status != qos.QoSCompliant || hist.Quorum != 2 {
		t.Fatalf("epoch %d: %+v, want compliant with quorum 2 of the 3 assigned", e, hist)
	}
	checkQoS(t, h)
}

func nameOfAddr(a string) string {
	for _, n := range append(slices.Clone(six), "prov", "friend") {
		if mktAddr(n) == a {
			return n
		}
	}
	return ""
}

// TestRelatedFromNextEpoch: a declaration excludes the account from the
// next epoch on, not the current one (a provider that has seen this
// epoch's draw cannot strike an auditor off it); bad declarations are
// refused with their codes.
func TestRelatedFromNextEpoch(t *testing.T) {
	p := qosTestParams()
	p.OraclesPerUnit = 8
	h := newAssignQoS(t, p, "rel")
	e := h.epoch()
	if got := assigned(t, h, e, 1); !slices.Contains(got, mktAddr("o4")) {
		t.Fatalf("o4 not assigned with 8 per unit: %v", got)
	}
	h.ok("prov", &qos.MsgDeclareRelated{Accounts: []string{mktAddr("o4")}})
	if got := assigned(t, h, e, 1); !slices.Contains(got, mktAddr("o4")) {
		t.Fatalf("declaration struck o4 off the current epoch: %v", got)
	}
	toEpoch(h, e+1)
	if got := assigned(t, h, e+1, 1); slices.Contains(got, mktAddr("o4")) || len(got) != 5 {
		t.Fatalf("epoch %d: %v, want o1..o3, o5, o6", e+1, got)
	}
	if r := h.exec("alice", &qos.MsgDeclareRelated{Accounts: []string{mktAddr("o5")}}); r.Code != core.CodeNotFound {
		t.Fatalf("non-provider declaring: %s", r.Log)
	}
	if r := h.exec("prov", &qos.MsgDeclareRelated{Accounts: []string{"nope"}}); r.Code != core.CodeInvalidAddress {
		t.Fatalf("bad address: %s", r.Log)
	}
	many := make([]string, qos.MaxRelatedAccounts+1)
	for i := range many {
		many[i] = mktAddr("acct" + string(rune('a'+i)))
	}
	if r := h.exec("prov", &qos.MsgDeclareRelated{Accounts: many}); r.Code != core.CodeLimitExceeded {
		t.Fatalf("too many: %s", r.Log)
	}
}

// TestSilentOracleLosesBondAndIsJailed: an assigned oracle that reports
// nothing loses miss_penalty per unit-epoch (to the treasury, supply
// intact); max_missed misses jail it (out of the next set, reports
// refused) until qos/unjail_oracle after oracle_jail_epochs.
func TestSilentOracleLosesBondAndIsJailed(t *testing.T) {
	p := qosTestParams()
	p.OraclesPerUnit = 8 // every eligible oracle on every unit
	p.MissPenalty = 7
	p.MaxMissed = 4
	p.MissWindowEpochs = 3
	p.OracleJailEpochs = 5
	h := newAssignQoS(t, p, "miss")
	e := h.epoch()
	talkers := []string{"o1", "o2", "o3", "o5", "o6"}
	var jailedAt int64 = -1
	toEpoch(h, e+1)
	for i := int64(0); i < 3 && jailedAt < 0; i++ {
		report(h, e+i, talkers, good("unit-1"), good("unit-2"))
		for _, ev := range toEpoch(h, e+i+2) {
			if ev.Type == "oracle_jailed" {
				jailedAt = e + i
			}
		}
		if err := bank.CheckSupply(h.blk); err != nil {
			t.Fatal(err)
		}
	}
	o4, _ := qos.GetOracle(h.blk, mktRaw("o4"))
	if !o4.Jailed || o4.Missed != 4 || o4.Penalized != 28 || o4.Stake != oracleBond-28 {
		t.Fatalf("o4 after two silent epochs (2 units each): %+v, want jailed, 4 misses, 28 taken", o4)
	}
	o1, _ := qos.GetOracle(h.blk, mktRaw("o1"))
	if o1.Missed != 0 || o1.Stake != oracleBond {
		t.Fatalf("reporting oracle penalized: %+v", o1)
	}
	cur := h.epoch()
	toEpoch(h, cur+1) // a set fixed after the jail
	if got := assigned(t, h, cur+1, 1); slices.Contains(got, mktAddr("o4")) {
		t.Fatalf("jailed oracle assigned: %v", got)
	}
	if r := h.exec("o4", &qos.MsgReport{Epoch: cur, Units: []qos.UnitMeasurement{good("unit-1")}}); r.Code != core.CodeOracleJailed {
		t.Fatalf("jailed oracle reporting: %s %s", r.Code.Name(), r.Log)
	}
	if r := h.exec("o4", &qos.MsgUnjailOracle{}); r.Code != core.CodeWrongState || !strings.Contains(r.Log, "jailed until epoch") {
		t.Fatalf("early unjail: %s", r.Log)
	}
	toEpoch(h, o4.JailedUntil)
	h.ok("o4", &qos.MsgUnjailOracle{})
	toEpoch(h, o4.JailedUntil+1)
	if got := assigned(t, h, o4.JailedUntil+1, 1); !slices.Contains(got, mktAddr("o4")) {
		t.Fatalf("unjailed oracle not back in the set: %v", got)
	}
	if r := h.exec("prov", &qos.MsgUnjailOracle{}); r.Code != core.CodeWrongState || !strings.Contains(r.Log, "not jailed") {
		t.Fatalf("unjailing a free oracle: %s", r.Log)
	}
	checkQoS(t, h)
}

// TestMissBelowMinStakeRemoves: a miss that leaves the bond under
// min_oracle_stake removes the oracle, its bond unbonding.
func TestMissBelowMinStakeRemoves(t *testing.T) {
	p := qosTestParams()
	p.OraclesPerUnit = 8
	p.MissPenalty = oracleBond - 50 // min_oracle_stake is 100
	h := newAssignQoS(t, p, "rm")
	e := h.epoch()
	active := qos.ActiveOracles(h.blk)
	toEpoch(h, e+1)
	report(h, e, []string{"o1", "o2", "o3", "o5", "o6"}, good("unit-1"), good("unit-2"))
	removed := false
	for _, ev := range toEpoch(h, e+2) {
		removed = removed || ev.Type == "oracle_removed"
	}
	o4, _ := qos.GetOracle(h.blk, mktRaw("o4"))
	if !removed || o4.Active || o4.Stake != 0 || o4.UnbondingTotal() != 50 {
		t.Fatalf("o4 after a miss of %d: %+v (removed event %v), want inactive with 50 unbonding", p.MissPenalty, o4, removed)
	}
	if got := qos.ActiveOracles(h.blk); got != active-1 {
		t.Fatalf("active oracles %d, want %d", got, active-1)
	}
	if err := bank.CheckSupply(h.blk); err != nil {
		t.Fatal(err)
	}
	checkQoS(t, h)
}

// TestAssignmentQueries: the two queries agree with the draw, the
// oracle's side pages by unit, and bad input is refused with its code.
func TestAssignmentQueries(t *testing.T) {
	h := newAssignQoS(t, qosTestParams(), "q")
	h.next(1) // the queries read the last block's time
	e := h.epoch()
	for n := uint64(1); n <= 2; n++ {
		var v types.UnitOracles
		out, err := Query(h.blk, "units/unit-"+strconv.FormatUint(n, 10)+"/oracles?epoch="+strconv.FormatInt(e, 10))
		if err != nil || json.Unmarshal(out, &v) != nil {
			t.Fatalf("unit oracles: %v %s", err, out)
		}
		if want := assigned(t, h, e, n); !v.Fixed || !slices.Equal(v.Oracles, want) {
			t.Fatalf("unit-%d oracles %+v, draw %v", n, v, want)
		}
		for _, o := range v.Oracles {
			var a types.OracleAssignments
			out, err := Query(h.blk, "oracles/"+o+"/assignments?epoch="+strconv.FormatInt(e, 10)+"&limit=1")
			if err != nil || json.Unmarshal(out, &a) != nil {
				t.Fatalf("assignments: %v %s", err, out)
			}
			if n == 1 && (len(a.Units) != 1 || a.Units[0] != "unit-1") {
				t.Fatalf("first page of %s's assignments %+v, want unit-1", nameOfAddr(o), a)
			}
		}
	}
	var a types.OracleAssignments
	out, _ := Query(h.blk, "oracles/"+mktAddr("prov")+"/assignments")
	if json.Unmarshal(out, &a) != nil || !a.Fixed || a.Epoch != e || len(a.Units) != 0 {
		t.Fatalf("the provider is assigned its own units: %s", out)
	}
	if _, err := Query(h.blk, "oracles/nope/assignments"); core.CodeOf(err) != core.CodeInvalidAddress {
		t.Fatalf("bad address: %v", err)
	}
	if _, err := Query(h.blk, "units/unit-9/oracles"); core.CodeOf(err) != core.CodeNotFound {
		t.Fatalf("missing unit: %v", err)
	}
	if _, err := Query(h.blk, "units/unit-1/oracles?epoch=x"); core.CodeOf(err) != core.CodeInvalidQuery {
		t.Fatalf("bad epoch: %v", err)
	}
}

// TestQuorumDenialNotPaid: a failing provider whose assigned oracles stay
// silent (all of them, or all but one of three) is not paid for those
// epochs and its consumer is refunded once the hold expires (hold_epochs,
// 3 by default, after the epochs' work); with a quorum of the assigned
// oracles the epoch is judged as before.
func TestQuorumDenialNotPaid(t *testing.T) {
	h := newAssignQoS(t, qosTestParams(), "deny")
	e := h.epoch()
	var evs []core.Event
	toEpoch(h, e+1)
	// Epoch e: nobody reports unit-1. Epoch e+1: one assigned oracle does.
	evs = append(evs, toEpoch(h, e+2)...)
	one := assigned(t, h, e+1, 1)[0]
	h.ok(nameOfAddr(one), &qos.MsgReport{Epoch: e + 1, Units: []qos.UnitMeasurement{good("unit-1")}})
	// Epoch e+2: two of the three assigned oracles report it healthy.
	evs = append(evs, toEpoch(h, e+3)...)
	for _, a := range assigned(t, h, e+2, 1)[:2] {
		h.ok(nameOfAddr(a), &qos.MsgReport{Epoch: e + 2, Units: []qos.UnitMeasurement{good("unit-1")}})
	}
	silent := false
	evs = append(append(evs, toEpoch(h, e+4)...), toEpoch(h, e+5)...)
	evs = append(evs, toEpoch(h, e+6)...) // e+1's hold expires
	for _, ev := range evs {
		silent = silent || (ev.Type == "qos_unpaid_silent" && attr(ev, "unit") == "unit-1" && attr(ev, "epoch") == strconv.FormatInt(e, 10))
	}
	if !silent || !market.IsBreached(h.blk, 1, e) {
		t.Fatalf("epoch %d, all assigned oracles silent: event %v, unpaid %v; want unpaid", e, silent, market.IsBreached(h.blk, 1, e))
	}
	if hist := unitHist(t, h.blk, 1, e+1); hist.Status != qos.QoSNoQuorum || !market.IsBreached(h.blk, 1, e+1) {
		t.Fatalf("epoch %d, one of three reported: %+v, unpaid %v; want no_quorum and unpaid", e+1, hist, market.IsBreached(h.blk, 1, e+1))
	}
	if hist := unitHist(t, h.blk, 1, e+2); hist.Status != qos.QoSCompliant || market.IsBreached(h.blk, 1, e+2) {
		t.Fatalf("epoch %d with quorum: %+v", e+2, hist)
	}
	checkQoS(t, h)
	if err := bank.CheckSupply(h.blk); err != nil {
		t.Fatal(err)
	}
}

// TestEpochSetsPruned: an epoch's set is dropped once older than the
// history kept (here the floor: settle lag + grace + 4 epochs), so state
// does not grow with the epochs; recent epochs keep theirs.
func TestEpochSetsPruned(t *testing.T) {
	p := qosTestParams()
	p.HistoryEpochs = 1
	h := newAssignQoS(t, p, "prune")
	first := h.epoch()
	for i := int64(1); i <= 12; i++ {
		toEpoch(h, first+i)
	}
	if _, fixed, _ := qos.AssignedOracles(h.blk, first, 1); fixed {
		t.Fatalf("epoch %d's set still in state 12 epochs later", first)
	}
	if _, fixed, _ := qos.AssignedOracles(h.blk, h.epoch()-3, 1); !fixed {
		t.Fatalf("epoch %d's set pruned already", h.epoch()-3)
	}
}
