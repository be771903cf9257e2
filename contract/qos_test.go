package contract

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/params"
	"github.com/flashback-network/flashback/contract/qos"
	"github.com/flashback-network/flashback/contract/store"
)

// ---- QoS harness on top of mkt ----

const qEpoch = int64(60)

// oracleBond is what newQoS's oracles bond: above min_oracle_stake, so
// that a miss (penalty 1) does not remove them.
const oracleBond = core.Amount(1_000)

func qosTestParams() params.Params {
	p := testParams() // 60 s epochs
	p.MinOracleStake = 100
	// Misses (issue 13) cost little here, so the tests of before, whose
	// oracles report only some units, keep their oracles: the miss tests
	// (qos_miss_test.go) set their own.
	p.MissPenalty = 1
	p.MaxMissed = 64
	p.MissWindowEpochs = 1
	p.ScorePeriodEpochs = 2
	p.SlashFractionBps = 1000 // 10 %
	p.OracleShareBps = 1000   // 10 %
	p.UptimeWindowEpochs = 1
	p.DecayPerMonth = 21600 // 1 point per 2-epoch period
	p.HistoryEpochs = 50
	return p
}

// newQoS: provider "prov" with stake and two auto-accept units (unit-1,
// unit-2), oracles o1..o3 (stake 100 each), alice 1 GiB and bob 2 GiB on
// unit-1 (res-1, res-2), all in the current epoch.
func newQoS(t testing.TB, p params.Params, stake core.Amount, sla ...func(s *market.SLAOffer)) *mkt {
	t.Helper()
	h := newMkt(t, p, richBal, "prov", "alice", "bob", "carol", "o1", "o2", "o3")
	u1, u2 := addUnit(unitP, unitE, 100*gib, true), addUnit(unitP, unitE, 100*gib, true)
	for _, f := range sla {
		f(&u1.SLA)
		f(&u2.SLA)
	}
	h.ok("prov", regProvider("prov"), &market.MsgStake{Amount: stake}, u1, u2)
	for _, o := range []string{"o1", "o2", "o3"} {
		h.ok(o, &qos.MsgRegisterOracle{Stake: oracleBond})
	}
	h.ok("alice", &market.MsgReserve{Unit: "unit-1", Bytes: gib, Term: monthS, EgressBytes: 10 * gib, MaxPrice: unitP})
	h.ok("bob", &market.MsgReserve{Unit: "unit-1", Bytes: 2 * gib, Term: monthS, EgressBytes: 0, MaxPrice: unitP})
	return h
}

// qnext is mkt.next returning the events of EndBlock and the next BeginBlock.
func qnext(h *mkt, dt int64) []core.Event {
	ev := EndBlock(h.blk, h.block())
	h.blk.Write()
	h.now += dt
	h.height++
	h.blk = store.NewCache(h.kv)
	return append(ev, BeginBlock(h.blk, h.block())...)
}

func (h *mkt) epoch() int64 { return h.now / qEpoch }

// toEpoch opens a block one second into epoch e.
func toEpoch(h *mkt, e int64) []core.Event {
	h.t.Helper()
	if e*qEpoch+1 <= h.now {
		h.t.Fatalf("epoch %d is in the past", e)
	}
	return qnext(h, e*qEpoch+1-h.now)
}

func good(unit string) qos.UnitMeasurement {
	return qos.UnitMeasurement{Unit: unit, Probes: 100, Successes: 100, P50Ms: 50, P95Ms: 100, DownMbps: 50, UpMbps: 50, IntegrityPassed: 10}
}

func report(h *mkt, e int64, oracles []string, ms ...qos.UnitMeasurement) {
	h.t.Helper()
	for _, o := range oracles {
		h.ok(o, &qos.MsgReport{Epoch: e, Units: ms})
	}
}

var all3 = []string{"o1", "o2", "o3"}

func unitHist(t testing.TB, kv store.KV, n uint64, e int64) qos.UnitEpochQoS {
	t.Helper()
	var h qos.UnitEpochQoS
	if !store.Get(kv, qos.UnitHistKey(n, e), &h) {
		t.Fatalf("no QoS history for unit-%d epoch %d", n, e)
	}
	return h
}

func provStake(h *mkt) core.Amount {
	p, _ := market.GetProvider(h.blk, mktRaw("prov"))
	return p.Stake
}

func hasEvent(ev []core.Event, typ string) bool {
	for _, e := range ev {
		if e.Type == typ {
			return true
		}
	}
	return false
}

func checkQoS(t *testing.T, h *mkt) {
	t.Helper()
	checkMarketInvariants(t, h.blk, h.now)
}

// ---- tests ----

func TestQoSOracleMessages(t *testing.T) {
	p := qosTestParams()
	p.MaxUnitsPerReport = 2
	h := newQoS(t, p, 10_000)
	e := h.epoch()
	if r := h.exec("o1", &qos.MsgReport{Epoch: e, Units: []qos.UnitMeasurement{good("unit-1")}}); r.Code != core.CodeFutureEpoch {
		t.Fatalf("current epoch: %s", r.Log)
	}
	h.ok("carol", &bank.MsgSend{To: mktAddr("dave"), Amount: 1000})
	if r := h.exec("dave", &qos.MsgRegisterOracle{Stake: 99}); r.Code != core.CodeInsufficientStake {
		t.Fatalf("low stake: %s", r.Log)
	}
	if r := h.exec("o1", &qos.MsgRegisterOracle{Stake: 100}); r.Code != core.CodeAlreadyExists {
		t.Fatalf("twice: %s", r.Log)
	}
	toEpoch(h, e+1)
	h.ok("prov", addUnit(unitP, unitE, gib, true)) // unit-3, created after epoch e
	cases := []struct {
		name   string
		signer string
		msg    *qos.MsgReport
		code   core.Code
	}{
		{"future", "o1", &qos.MsgReport{Epoch: e + 1, Units: []qos.UnitMeasurement{good("unit-1")}}, core.CodeFutureEpoch},
		{"late", "o1", &qos.MsgReport{Epoch: e - 1, Units: []qos.UnitMeasurement{good("unit-1")}}, core.CodeLateReport},
		{"not oracle", "carol", &qos.MsgReport{Epoch: e, Units: []qos.UnitMeasurement{good("unit-1")}}, core.CodeNotOracle},
		{"unknown unit", "o1", &qos.MsgReport{Epoch: e, Units: []qos.UnitMeasurement{good("unit-9")}}, core.CodeNotFound},
		{"unit too new", "o1", &qos.MsgReport{Epoch: e, Units: []qos.UnitMeasurement{good("unit-3")}}, core.CodeWrongState},
		{"duplicate unit", "o1", &qos.MsgReport{Epoch: e, Units: []qos.UnitMeasurement{good("unit-1"), good("unit-1")}}, core.CodeInvalidMessage},
		{"too many", "o1", &qos.MsgReport{Epoch: e, Units: []qos.UnitMeasurement{good("unit-1"), good("unit-2"), good("unit-3")}}, core.CodeTooManyUnits},
		{"successes > probes", "o1", &qos.MsgReport{Epoch: e, Units: []qos.UnitMeasurement{{Unit: "unit-1", Probes: 1, Successes: 2}}}, core.CodeInvalidMessage},
		{"no probes", "o1", &qos.MsgReport{Epoch: e, Units: []qos.UnitMeasurement{{Unit: "unit-1"}}}, core.CodeInvalidMessage},
		{"empty", "o1", &qos.MsgReport{Epoch: e}, core.CodeInvalidMessage},
	}
	for _, c := range cases {
		if r := h.exec(c.signer, c.msg); r.Code != c.code {
			t.Errorf("%s: code %s (%s), want %s", c.name, r.Code.Name(), r.Log, c.code.Name())
		}
	}
	h.ok("o1", &qos.MsgReport{Epoch: e, Units: []qos.UnitMeasurement{good("unit-1")}})
	if r := h.exec("o1", &qos.MsgReport{Epoch: e, Units: []qos.UnitMeasurement{good("unit-2")}}); r.Code != core.CodeDuplicateReport {
		t.Fatalf("duplicate: %s", r.Log)
	}
	// Deregister: unbonds, stops counting, then released.
	h.ok("o3", &qos.MsgDeregisterOracle{})
	if r := h.exec("o3", &qos.MsgReport{Epoch: e, Units: []qos.UnitMeasurement{good("unit-1")}}); r.Code != core.CodeNotOracle {
		t.Fatalf("deregistered reporter: %s", r.Log)
	}
	if qos.ActiveOracles(h.blk) != 2 {
		t.Fatalf("active %d", qos.ActiveOracles(h.blk))
	}
	b := h.bal("o3")
	o, _ := qos.GetOracle(h.blk, mktRaw("o3"))
	if o.Stake != 0 || o.UnbondingTotal() != oracleBond {
		t.Fatalf("%+v", o)
	}
	qnext(h, 599)
	checkQoS(t, h)
	qnext(h, 1)
	qnext(h, 1) // released in the EndBlock of the block at release time
	if got := h.bal("o3"); got != b+oracleBond {
		t.Fatalf("unbonded: balance %d want %d", got, b+100)
	}
	checkQoS(t, h)
	out, err := Query(h.blk, "oracles")
	if err != nil || strings.Count(string(out), `"address"`) != 2 {
		t.Fatalf("oracles query: %s %v", out, err)
	}
	if out, err = Query(h.blk, "oracles?all=true"); err != nil || strings.Count(string(out), `"address"`) != 3 {
		t.Fatalf("oracles?all query: %s %v", out, err)
	}
	if _, err = Query(h.blk, "oracles/"+mktAddr("o1")); err != nil {
		t.Fatal(err)
	}
}

// compensationOwed is what reservation id's view says it is owed.
func compensationOwed(t *testing.T, h *mkt, id string) core.Amount {
	t.Helper()
	var v types.ReservationView
	out, err := Query(h.blk, "reservations/"+id)
	if err != nil || json.Unmarshal(out, &v) != nil {
		t.Fatalf("reservation %s view: %v %s", id, err, out)
	}
	return v.CompensationOwed
}

// Median with an outlier reporter, slash and compensation to the uflash,
// oracle shares (slash and fees) and the outlier getting none.
func TestQoSMedianSlashCompensation(t *testing.T) {
	h := newQoS(t, qosTestParams(), 10_000) // 2 units: 5,000 stake each
	e := h.epoch()
	toEpoch(h, e+1)
	h.ok("carol", &market.MsgReserve{Unit: "unit-1", Bytes: 5 * gib, Term: monthS, MaxPrice: unitP}) // res-3: after epoch e
	bad := good("unit-1")
	bad.P95Ms = 300
	report(h, e, []string{"o1", "o2"}, bad)
	report(h, e, []string{"o3"}, good("unit-1")) // 100 vs median 300: outlier
	// A usage report pays a 20 uflash platform fee: 10 % of it goes to the
	// oracles in the median.
	h.ok("prov", &market.MsgReportUsage{Reservation: "res-1", Epoch: e, EgressBytes: gib})
	b1, b3 := h.bal("o1"), h.bal("o3")
	ev := toEpoch(h, e+2)
	checkQoS(t, h)
	checkMedianSlash(t, h, e, ev)
	checkOracleShares(t, h, b1, b3)
	// The views show what each reservation is owed before anyone collects.
	if o1, o2, o3 := compensationOwed(t, h, "res-1"), compensationOwed(t, h, "res-2"), compensationOwed(t, h, "res-3"); o1 != 149 || o2 != 299 || o3 != 0 {
		t.Fatalf("compensation owed in the views: %d %d %d, want 149 299 0", o1, o2, o3)
	}
	checkCompensationCollected(t, h, e)
	checkQoS(t, h)
	checkSlashStatsViews(t, h, e)
}

// checkMedianSlash: epoch e of unit-1 was judged on the median (300 ms),
// breached, and 10 % of its stake slashed and shared out.
func checkMedianSlash(t *testing.T, h *mkt, e int64, ev []core.Event) {
	t.Helper()
	hist := unitHist(t, h.blk, 1, e)
	if hist.Status != qos.QoSBreached || hist.P95Ms != 300 || hist.Reporters != 3 || strings.Join(hist.Terms, ",") != "latency" {
		t.Fatalf("%+v", hist)
	}
	// 10 % of 5,000 = 500; oracles 10 % = 50, 25 each to o1 and o2; 450
	// to the 3 GiB active in epoch e: alice 1/3, bob 2/3 (carol none),
	// each rounded down (149.99.. and 299.99..), the 2 left are dust.
	if hist.Slashed != 500 || hist.OracleShare != 50 || hist.Compensation != 450 || provStake(h) != 9_500 {
		t.Fatalf("slash %+v, stake %d", hist, provStake(h))
	}
	if !market.IsBreached(h.blk, 1, e) || !hasEvent(ev, "sla_breach") {
		t.Fatal("epoch not marked breached")
	}
}

// checkOracleShares: o1 (in the median) got its slash and fee shares, the
// outlier o3 nothing; b1 and b3 are their balances before.
func checkOracleShares(t *testing.T, h *mkt, b1, b3 core.Amount) {
	t.Helper()
	if got := h.bal("o1") - b1; got != 25+1 {
		t.Fatalf("o1 got %d, want 25 (slash share) + 1 (fee share)", got)
	}
	if got := h.bal("o3") - b3; got != 0 {
		t.Fatalf("outlier o3 got %d", got)
	}
	o1, _ := qos.GetOracle(h.blk, mktRaw("o1"))
	o3, _ := qos.GetOracle(h.blk, mktRaw("o3"))
	if o1.InMedian != 1 || o1.Outliers != 0 || o3.InMedian != 0 || o3.Outliers != 1 || o1.Rewards != 26 {
		t.Fatalf("o1 %+v o3 %+v", o1, o3)
	}
}

// checkCompensationCollected: alice collects by closing (no storage charge
// for epoch e), bob by claiming once, carol gets none, and the pools end
// empty.
func checkCompensationCollected(t *testing.T, h *mkt, e int64) {
	t.Helper()
	a := h.bal("alice")
	closeT := h.now
	h.ok("alice", &market.MsgCloseReservation{ResRef: market.ResRef{Reservation: "res-1"}})
	r1 := h.res("res-1")
	if r1.Compensation != 149 {
		t.Fatalf("alice compensation %d", r1.Compensation)
	}
	rate := new(big.Int).Mul(core.BigFromUint(uint64(unitP)), core.BigFromUint(gib))
	want, _ := core.AmountFromBig(market.GrossCeil(new(big.Int).Mul(rate, core.BigFromInt(closeT-(e+1)*qEpoch)), 200), "")
	if r1.StoragePaid != want {
		t.Fatalf("alice storage paid %d, want %d (epoch %d refunded)", r1.StoragePaid, want, e)
	}
	if got := h.bal("alice") - a; got != r1.Refunded+149-10 {
		t.Fatalf("alice got %d", got)
	}
	b := h.bal("bob")
	h.ok("bob", &qos.MsgClaimCompensation{Reservation: "res-2"})
	if h.bal("bob")-b != 299-10 || h.res("res-2").Compensation != 299 {
		t.Fatalf("bob compensation %d", h.res("res-2").Compensation)
	}
	if r := h.exec("bob", &qos.MsgClaimCompensation{Reservation: "res-2"}); r.Code != core.CodeNotFound {
		t.Fatalf("second claim: %s", r.Log)
	}
	if o := compensationOwed(t, h, "res-2"); o != 0 {
		t.Fatalf("res-2 still owed %d after its claim", o)
	}
	h.ok("carol", &market.MsgCloseReservation{ResRef: market.ResRef{Reservation: "res-3"}})
	if h.res("res-3").Compensation != 0 {
		t.Fatal("carol was not active in the breached epoch")
	}
	// 450 - 149 - 299 = 2 uflash of rounding went to the treasury as dust.
	if bank.PoolBalance(h.blk, qos.PoolCompensation) != 0 || bank.PoolBalance(h.blk, qos.PoolOracle) != 0 || qos.GetCompDust(h.blk).Sign() != 0 {
		t.Fatalf("pools left: comp %d oracle %d", bank.PoolBalance(h.blk, qos.PoolCompensation), bank.PoolBalance(h.blk, qos.PoolOracle))
	}
}

// checkSlashStatsViews: the stats, epoch stats and unit QoS views show the
// slash of epoch e.
func checkSlashStatsViews(t *testing.T, h *mkt, e int64) {
	t.Helper()
	var st types.StatsView
	out, err := Query(h.blk, "stats")
	if err != nil || !decodesJSON(out, &st) || st.Slashed != 500 || st.Compensation != 450 || st.OracleRewards != 52 || st.Fees != 20 {
		t.Fatalf("stats %s %v", out, err)
	}
	var page types.EpochStatsPage
	out, err = Query(h.blk, fmt.Sprintf("stats/epochs?from=%d&to=%d", e, e))
	if err != nil || !decodesJSON(out, &page) || len(page.Epochs) != 1 || page.Epochs[0].QoS.Breached != 1 || page.Epochs[0].Units != 2 {
		t.Fatalf("stats/epochs %s %v", out, err)
	}
	var uq types.UnitQoSView
	out, err = Query(h.blk, fmt.Sprintf("units/unit-1/qos?from=%d", e))
	if err != nil || !decodesJSON(out, &uq) || len(uq.History) != 1 || uq.Breached != 1 || uq.P95Ms != 300 || uq.ComplianceBps != 0 {
		t.Fatalf("units qos %s %v", out, err)
	}
}

// Compensation rounding: 7 uflash over 3 reservations of 1 byte each
// leaves dust, accounted exactly.
func TestQoSCompensationDust(t *testing.T) {
	p := qosTestParams()
	p.SlashFractionBps = 7 // 7 bps of 10,000 = 7 uflash
	p.OracleShareBps = 1
	h := newMkt(t, p, richBal, "prov", "c1", "c2", "c3", "o1")
	h.ok("prov", regProvider("prov"), &market.MsgStake{Amount: 10_000}, addUnit(unitP, unitE, 100*gib, true))
	h.ok("o1", &qos.MsgRegisterOracle{Stake: 100})
	for _, c := range []string{"c1", "c2", "c3"} {
		h.ok(c, &market.MsgReserve{Unit: "unit-1", Bytes: 1, Term: monthS, MaxPrice: unitP})
	}
	e := h.epoch()
	toEpoch(h, e+1)
	bad := good("unit-1")
	bad.IntegrityFailed = 1
	report(h, e, []string{"o1"}, bad)
	toEpoch(h, e+2)
	checkQoS(t, h)
	if hist := unitHist(t, h.blk, 1, e); hist.Slashed != 7 || hist.Compensation != 7 || strings.Join(hist.Terms, ",") != "integrity" {
		t.Fatalf("%+v", hist)
	}
	for i, c := range []string{"c1", "c2", "c3"} {
		h.ok(c, &market.MsgCloseReservation{ResRef: market.ResRef{Reservation: market.ResIDString(uint64(i + 1))}})
		checkQoS(t, h)
		if got := h.res(market.ResIDString(uint64(i + 1))).Compensation; got != 2 {
			t.Fatalf("%s compensation %d, want 2", c, got)
		}
	}
	if bank.PoolBalance(h.blk, qos.PoolCompensation) != 0 {
		t.Fatalf("compensation pool %d after dust sweep", bank.PoolBalance(h.blk, qos.PoolCompensation))
	}
}

func TestQoSNoQuorum(t *testing.T) {
	h := newQoS(t, qosTestParams(), 10_000) // 3 oracles: quorum 2
	e := h.epoch()
	toEpoch(h, e+1)
	bad := good("unit-1")
	bad.Successes = 0
	report(h, e, []string{"o1"}, bad)
	toEpoch(h, e+2)
	toEpoch(h, e+5) // past the scoring period
	checkQoS(t, h)
	hist := unitHist(t, h.blk, 1, e)
	if hist.Status != qos.QoSNoQuorum || hist.Quorum != 2 || hist.Reporters != 1 || hist.Slashed != 0 {
		t.Fatalf("%+v", hist)
	}
	if market.IsBreached(h.blk, 1, e) || provStake(h) != 10_000 || h.unit("unit-1").Score != market.DefaultScore {
		t.Fatal("no quorum must change nothing")
	}
	var es qos.EpochStats
	if !store.Get(h.blk, qos.EpochStatsKey(e), &es) || es.QoS.NoQuorum != 1 || es.QoS.Reported != 1 {
		t.Fatalf("gap not recorded: %+v", es)
	}
}
