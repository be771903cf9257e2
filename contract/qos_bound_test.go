package contract

import (
	"bytes"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/params"
	"github.com/flashback-network/flashback/contract/qos"
	"github.com/flashback-network/flashback/contract/store"
	"github.com/flashback-network/flashback/tx"
)

// ---- a chain on its own App (a work limit of its own) ----

type boundChain struct {
	t      *testing.T
	app    *App
	kv     *store.MemKV
	now    int64
	height int64
}

func cloneKV(kv store.KV) *store.MemKV {
	c := store.NewMemKV()
	kv.Iterate(nil, nil, func(k, v []byte) bool {
		c.Set(append([]byte(nil), k...), append([]byte(nil), v...))
		return true
	})
	return c
}

// forkChain copies h's committed state (h's open block must be ended and
// written) onto an app doing at most limit epoch-end items per block.
func forkChain(t *testing.T, h *mkt, limit int) *boundChain {
	a := New()
	a.QoS.SetWorkLimit(limit)
	return &boundChain{t: t, app: a, kv: cloneKV(h.kv), now: h.now, height: h.height}
}

// block runs one block dt seconds after the last (txs run after
// BeginBlock) and returns its BeginBlock events.
func (c *boundChain) block(dt int64, txs func(kv store.KV, blk core.Block)) []core.Event {
	c.now += dt
	c.height++
	kv := store.NewCache(c.kv)
	blk := core.Block{ChainID: mktChain, Height: c.height, Time: time.Unix(c.now, 0).UTC()}
	ev := c.app.BeginBlock(kv, blk)
	if txs != nil {
		txs(kv, blk)
	}
	c.app.EndBlock(kv, blk)
	kv.Write()
	return ev
}

// signedTx is name's tx of msgs at its next sequence in kv.
func signedTx(t *testing.T, kv store.KV, name string, msgs ...core.Msg) []byte {
	t.Helper()
	var wm []tx.Msg
	for _, m := range msgs {
		w, err := Wrap(m)
		if err != nil {
			t.Fatal(err)
		}
		wm = append(wm, w)
	}
	seq := bank.GetAccount(kv, mktRaw(name)).Sequence
	raw, err := tx.Sign(tx.Body{ChainID: mktChain, Sequence: seq, Fee: params.Get(kv).TxFee.String(), Msgs: wm}, mktKey(name))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// prefixRecords is every key and value under prefix.
func prefixRecords(kv store.KV, prefix []byte) map[string]string {
	out := map[string]string{}
	kv.Iterate(prefix, store.PrefixEnd(prefix), func(k, v []byte) bool {
		out[string(k)] = string(v)
		return true
	})
	return out
}

func changedRecords(before, after map[string]string) int {
	n := 0
	for k, v := range after {
		if w, ok := before[k]; !ok || w != v {
			n++
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			n++
		}
	}
	return n
}

// ---- the backlog ----

const backlogUnits = 10

// epochBacklog builds a chain whose next block (one in epoch e+22, after
// a halt of 20 epochs, ten scoring periods) finalizes epoch e with work
// for many blocks under a small limit: backlogUnits units reported by
// three oracles (every other one unreachable: breached, slashed, its
// consumers compensated, the oracles paid), six of them in announced
// maintenance over e+2..e+20 (three to e+130), scores away from 50 (decay keys) from two judged
// epochs before. It returns h with its last block ended and written.
func epochBacklog(t *testing.T) (*mkt, int64) {
	h := newQoS(t, qosTestParams(), 1_000_000)
	var msgs []core.Msg
	for range backlogUnits - 2 {
		msgs = append(msgs, addUnit(unitP, unitE, 100*gib, true))
	}
	h.ok("prov", msgs...)
	msgs = nil
	for i := 3; i <= backlogUnits; i++ {
		msgs = append(msgs, &market.MsgReserve{Unit: market.UnitIDString(uint64(i)), Bytes: gib, Term: monthS, MaxPrice: unitP})
	}
	h.ok("carol", msgs...)
	measure := func(breachEvery int) []qos.UnitMeasurement {
		var ms []qos.UnitMeasurement
		for i := 1; i <= backlogUnits; i++ {
			m := good(market.UnitIDString(uint64(i)))
			if i%breachEvery == 0 {
				m.Successes = 0
			}
			ms = append(ms, m)
		}
		return ms
	}
	e := h.epoch()
	for x := e; x < e+2; x++ { // two judged epochs: scores move, periods end
		toEpoch(h, x+1)
		report(h, x, all3, measure(2)...)
	}
	e += 2
	toEpoch(h, e+1)
	report(h, e, all3, measure(2)...)
	// Every other window outlasts the new frontier: its unit stays in
	// the sweep, which must go on past it.
	for i, u := range []string{"unit-2", "unit-3", "unit-5", "unit-6", "unit-8", "unit-9"} {
		end := e + 21 + 109*int64(i%2)
		h.ok("prov", &market.MsgUnitMaintenance{Unit: u, Action: "announce", WindowStart: (e + 2) * qEpoch, WindowEnd: end * qEpoch})
	}
	EndBlock(h.blk, h.block())
	h.blk.Write()
	return h, e
}

// A backlog of epoch-end work larger than the limit is worked off over
// several blocks, at most limit items each (unit QoS records changed per
// block), with qos_backlog visible and the frontier held back until the
// last; the state it ends in is byte for byte that of one unbounded block
// followed by the same empty blocks.
func TestEpochWorkBoundedMatchesUnbounded(t *testing.T) {
	t.Run("after a halt", func(t *testing.T) { testBoundedMatchesUnbounded(t, 22) })
	t.Run("no halt", func(t *testing.T) { testBoundedMatchesUnbounded(t, 2) })
}

// testBoundedMatchesUnbounded: the next block is in epoch e+ahead.
func testBoundedMatchesUnbounded(t *testing.T, ahead int64) {
	const limit = 3
	h, e := epochBacklog(t)
	jump := (e+ahead)*qEpoch + 1 - h.now
	bounded, unbounded := forkChain(t, h, limit), forkChain(t, h, 0)
	scored := map[string]int{} // unit_score events per unit, bounded run
	countScores := func(ev []core.Event, into map[string]int) {
		for _, x := range ev {
			if x.Type == "unit_score" {
				into[x.Attrs[0].Value]++
			}
		}
	}
	ev := unbounded.block(jump, nil)
	if hasEvent(ev, "qos_backlog") {
		t.Fatal("the unbounded app left a backlog")
	}
	unboundedScored := map[string]int{}
	countScores(ev, unboundedScored)

	if qos.Frontier(unbounded.kv) != e+ahead-2 {
		t.Fatalf("unbounded frontier %d, want %d", qos.Frontier(unbounded.kv), e+ahead-2)
	}
	fOld := qos.Frontier(bounded.kv)
	blocks := 0
	for dt := jump; ; dt = 1 {
		before := prefixRecords(bounded.kv, []byte("q/u/"))
		ev := bounded.block(dt, nil)
		countScores(ev, scored)
		blocks++
		if n := changedRecords(before, prefixRecords(bounded.kv, []byte("q/u/"))); n > limit {
			t.Fatalf("block %d changed %d unit QoS records, the limit is %d", blocks, n, limit)
		}
		checkMarketInvariants(t, bounded.kv, bounded.now)
		if err := bank.CheckSupply(bounded.kv); err != nil {
			t.Fatal(err)
		}
		target, _, pending := qos.EpochBacklog(bounded.kv)
		if !pending {
			if !hasEvent(ev, "qos_backlog_done") {
				t.Fatal("the block that finished the backlog emitted no qos_backlog_done")
			}
			break
		}
		if !hasEvent(ev, "qos_backlog") || target != e+ahead-2 || qos.Frontier(bounded.kv) != fOld {
			t.Fatalf("block %d: backlog event %v, target %d, frontier %d (want %d until done)", blocks, hasEvent(ev, "qos_backlog"), target, qos.Frontier(bounded.kv), fOld)
		}
		if blocks > 40 {
			t.Fatal("the backlog is not shrinking")
		}
	}
	if blocks < 5 {
		t.Fatalf("the backlog took %d blocks at %d items each; the scenario is too small to test the bound", blocks, limit)
	}
	// One advance of the frontier scores a unit once (its period's data),
	// however many periods the halt skipped: the decay keys that scoring
	// writes for them wait for the next advance, bounded or not.
	if !maps.Equal(scored, unboundedScored) || len(scored) != backlogUnits {
		t.Fatalf("unit_score events per unit: bounded %v, unbounded %v, want one for each of %d units", scored, unboundedScored, backlogUnits)
	}
	for u, n := range scored {
		if n != 1 {
			t.Fatalf("%s scored %d times in one frontier advance", u, n)
		}
	}
	if (ahead > 2 && len(prefixRecords(bounded.kv, []byte("q/dk/"))) == 0) || len(prefixRecords(bounded.kv, []byte("q/wn/"))) != 0 {
		t.Fatal("no decay keys left for the next advance, or marks of the periods work left behind")
	}
	for unbounded.now < bounded.now {
		unbounded.block(1, nil)
	}
	if got, want := stateOf(bounded.kv), stateOf(unbounded.kv); !slices.Equal(got, want) {
		diffStates(t, got, want)
	}
	if qos.GetStats(bounded.kv).OracleRewards == 0 || qos.GetStats(bounded.kv).Compensation == 0 {
		t.Fatal("the scenario paid no oracle rewards or compensation: it does not exercise the epoch close")
	}
}

// stateOf is every key and value, in key order.
func stateOf(kv store.KV) []string {
	var out []string
	kv.Iterate(nil, nil, func(k, v []byte) bool {
		out = append(out, string(k), string(v))
		return true
	})
	return out
}

func diffStates(t *testing.T, got, want []string) {
	t.Helper()
	g, w := map[string]string{}, map[string]string{}
	for i := 0; i < len(got); i += 2 {
		g[got[i]] = got[i+1]
	}
	for i := 0; i < len(want); i += 2 {
		w[want[i]] = want[i+1]
	}
	var lines []string
	for k, v := range g {
		if wv, ok := w[k]; !ok || wv != v {
			lines = append(lines, "bounded:   "+strconv.Quote(k)+" = "+strconv.Quote(v)+" (unbounded "+strconv.Quote(wv)+")")
		}
	}
	for k, v := range w {
		if _, ok := g[k]; !ok {
			lines = append(lines, "unbounded only: "+strconv.Quote(k)+" = "+strconv.Quote(v))
		}
	}
	slices.Sort(lines)
	t.Fatalf("bounded and unbounded runs end in different states (%d keys):\n%s", len(lines), strings.Join(lines[:min(len(lines), 20)], "\n"))
}

// Txs between the blocks of a backlog do not change how its unit-epochs
// are judged: oracles registering meanwhile do not raise the quorum of
// reports already in (it is the one of the block that began the work),
// and a unit a tx accrued past that block is marked breached as of its
// accrual (the market never accrues backwards: an epoch its settlement
// has passed is recorded unenforced); every invariant holds after every
// block.
func TestEpochBacklogWithTxsBetween(t *testing.T) {
	h, e := epochBacklog(t)
	c := forkChain(t, h, 3)
	c.block((e+2)*qEpoch+1-h.now, nil) // no halt: epoch e is still enforceable
	if _, _, pending := qos.EpochBacklog(c.kv); !pending {
		t.Fatal("no backlog after the first block")
	}
	c.block(qEpoch, func(kv store.KV, blk core.Block) { // in the next epoch
		for _, o := range []string{"alice", "bob", "carol"} { // 6 active: a quorum of 4 > the 3 reporters
			if r := c.app.ExecTx(kv, blk, signedTx(t, kv, o, &qos.MsgRegisterOracle{Stake: 100}), Deliver); r.Code != core.CodeOK {
				t.Fatalf("%s registers: %s", o, r.Log)
			}
		}
		// unit-10 (breached in e, judged last) accrued to this block.
		msg := &market.MsgReserve{Unit: "unit-10", Bytes: gib, Term: monthS, MaxPrice: unitP}
		if r := c.app.ExecTx(kv, blk, signedTx(t, kv, "alice", msg), Deliver); r.Code != core.CodeOK {
			t.Fatalf("reserve: %s", r.Log)
		}
		if u, _ := market.GetUnit(kv, "unit-10"); u.Settlement.AccruedTo.Unix() != blk.Time.Unix() {
			t.Fatalf("unit-10 accrued to %d, want %d: the test does not exercise the late accrual", u.Settlement.AccruedTo, blk.Time.Unix())
		}
	})
	for i := 0; ; i++ {
		if _, _, pending := qos.EpochBacklog(c.kv); !pending {
			break
		}
		if i > 40 {
			t.Fatal("backlog not worked off")
		}
		if ev := c.block(1, nil); hasEvent(ev, "qos_no_quorum") || hasEvent(ev, "qos_error") {
			t.Fatalf("block %d: %v", i, ev)
		}
		checkMarketInvariants(t, c.kv, c.now)
	}
	for n := uint64(1); n <= backlogUnits; n++ {
		want := qos.QoSCompliant
		if n%2 == 0 {
			want = qos.QoSBreached
		}
		// unit-10 was accrued into epoch e+3 before it was judged: its
		// settlement no longer holds e, which stays paid (unenforced).
		late := n == backlogUnits
		if hist := unitHist(t, c.kv, n, e); hist.Status != want || hist.Quorum != 2 || hist.Unenforced != late {
			t.Fatalf("unit-%d epoch %d: %s, quorum %d, unenforced %v; want %s with the quorum of 3 oracles", n, e, hist.Status, hist.Quorum, hist.Unenforced, want)
		}
		if n%2 == 0 && market.IsBreached(c.kv, n, e) == late {
			t.Fatalf("unit-%d epoch %d marked breached: %v", n, e, market.IsBreached(c.kv, n, e))
		}
	}
}

// While the backlog is worked off, a compensation claim is refused with
// the limit in the error and changes nothing but the fee; once it is done
// the claim pays.
func TestClaimRefusedDuringEpochBacklog(t *testing.T) {
	h, e := epochBacklog(t)
	c := forkChain(t, h, 3)
	claim := &qos.MsgClaimCompensation{Reservation: "res-4"}
	c.block((e+22)*qEpoch+1-h.now, func(kv store.KV, blk core.Block) {
		if _, _, pending := qos.EpochBacklog(kv); !pending {
			t.Fatal("no backlog after the first block")
		}
		before := bank.GetAccount(kv, mktRaw("carol")).Balance
		r := c.app.ExecTx(kv, blk, signedTx(t, kv, "carol", claim), Deliver)
		if r.Code != core.CodeWrongState || !strings.Contains(r.Log, strconv.Itoa(qos.MaxEpochWorkPerBlock)) {
			t.Fatalf("claim during the backlog: %s (%s), want wrong_state naming the limit", r.Code.Name(), r.Log)
		}
		if got := bank.GetAccount(kv, mktRaw("carol")).Balance; got != before-params.Get(kv).TxFee {
			t.Fatalf("carol has %d, want %d (only the fee spent)", got, before-params.Get(kv).TxFee)
		}
	})
	for i := 0; ; i++ {
		if _, _, pending := qos.EpochBacklog(c.kv); !pending {
			break
		}
		if i > 40 {
			t.Fatal("backlog not worked off")
		}
		c.block(1, nil)
	}
	c.block(1, func(kv store.KV, blk core.Block) {
		before := bank.GetAccount(kv, mktRaw("carol")).Balance
		if r := c.app.ExecTx(kv, blk, signedTx(t, kv, "carol", claim), Deliver); r.Code != core.CodeOK {
			t.Fatalf("claim after the backlog: %s", r.Log)
		}
		if bank.GetAccount(kv, mktRaw("carol")).Balance <= before-params.Get(kv).TxFee {
			t.Fatal("the claim paid nothing after a breached epoch")
		}
	})
}

// An oracle has at most MaxOracleUnbondingEntries unbonding entries: one
// more deregistration fails, saying when the earliest releases, and works
// again once it has.
func TestOracleUnbondingEntriesCapped(t *testing.T) {
	h := newQoS(t, qosTestParams(), 10_000)
	raw := mktRaw("o1")
	var first core.Time
	for i := range qos.MaxOracleUnbondingEntries {
		h.ok("o1", &qos.MsgDeregisterOracle{})
		if i == 0 {
			o, _ := qos.GetOracle(h.blk, raw)
			first = o.Unbonding[0].ReleaseAt
		}
		h.ok("o1", &qos.MsgRegisterOracle{Stake: oracleBond})
		h.next(10)
	}
	r := h.exec("o1", &qos.MsgDeregisterOracle{})
	if r.Code != core.CodeLimitExceeded || !strings.Contains(r.Log, first.String()) || !strings.Contains(r.Log, strconv.Itoa(qos.MaxOracleUnbondingEntries)) {
		t.Fatalf("deregistration over the cap: %s (%s), want wrong_state naming the cap and %s", r.Code.Name(), r.Log, first)
	}
	o, _ := qos.GetOracle(h.blk, raw)
	if !o.Active || o.Stake != oracleBond || len(o.Unbonding) != qos.MaxOracleUnbondingEntries {
		t.Fatalf("refused deregistration changed the oracle: active %v stake %d entries %d", o.Active, o.Stake, len(o.Unbonding))
	}
	h.next(first.Unix() - h.now) // its EndBlock releases the first entry
	h.next(1)
	if o, _ := qos.GetOracle(h.blk, raw); len(o.Unbonding) != qos.MaxOracleUnbondingEntries-1 {
		t.Fatalf("%d entries after the first release, want %d", len(o.Unbonding), qos.MaxOracleUnbondingEntries-1)
	}
	h.ok("o1", &qos.MsgDeregisterOracle{})
	if err := bank.CheckSupply(h.blk); err != nil {
		t.Fatal(err)
	}
}

// deleteCounter counts deletes of keys under prefix that are not there.
type deleteCounter struct {
	store.KV
	prefix []byte
	absent int
}

func (d *deleteCounter) Delete(k []byte) {
	if bytes.HasPrefix(k, d.prefix) && d.KV.Get(k) == nil {
		d.absent++
	}
	d.KV.Delete(k)
}

// After a halt longer than history_epochs, writing a unit's history entry
// deletes only the old entries that are there, not one key per epoch of
// the gap (history_epochs per unit, each a write in the block's tree).
func TestHistoryPruneAfterHaltVisitsOnlyEntries(t *testing.T) {
	h, e := epochBacklog(t)
	c := forkChain(t, h, 0)
	const ahead = 102 // the maintenance epochs judged are e+100, past twice history_epochs
	c.now += (e+ahead)*qEpoch + 1 - c.now
	c.height++
	d := &deleteCounter{KV: store.NewCache(c.kv), prefix: []byte("q/uh/")}
	c.app.BeginBlock(d, core.Block{ChainID: mktChain, Height: c.height, Time: time.Unix(c.now, 0).UTC()})
	if hist := unitHist(t, d, 3, e+ahead-2); hist.Status != qos.QoSMaintenance {
		t.Fatalf("unit-3 epoch %d: %s, want maintenance (the scenario writes history after the gap)", e+ahead-2, hist.Status)
	}
	if d.absent != 0 {
		t.Fatalf("%d deletes of history entries that were not there", d.absent)
	}
}

// The app's default limit is MaxEpochWorkPerBlock: an epoch with more
// reported units than that is judged over two blocks.
func TestEpochWorkDefaultLimit(t *testing.T) {
	p := qosTestParams()
	n := qos.MaxEpochWorkPerBlock + 20
	p.MaxUnitsPerReport = uint32(n)
	h := newQoS(t, p, 1_000_000_000)
	var msgs []core.Msg
	for range n - 2 {
		msgs = append(msgs, addUnit(unitP, unitE, gib, true))
	}
	h.execBatched("prov", msgs)
	e := h.epoch()
	// Six oracles report a sixth of the units each (one report fits in a
	// tx): every unit-epoch is judged (no quorum) all the same.
	reporters := []string{"o1", "o2", "o3", "alice", "bob", "carol"}
	for _, o := range reporters[3:] {
		h.ok(o, &qos.MsgRegisterOracle{Stake: 100})
	}
	toEpoch(h, e+1)
	for k, o := range reporters {
		var ms []qos.UnitMeasurement
		for i := 1 + k; i <= n; i += len(reporters) {
			ms = append(ms, good(market.UnitIDString(uint64(i))))
		}
		h.ok(o, &qos.MsgReport{Epoch: e, Units: ms})
	}
	judged := func() int {
		c := 0
		for i := 1; i <= n; i++ {
			if store.Get(h.blk, qos.UnitHistKey(uint64(i), e), &qos.UnitEpochQoS{}) {
				c++
			}
		}
		return c
	}
	ev := toEpoch(h, e+2)
	if got := judged(); got != qos.MaxEpochWorkPerBlock || !hasEvent(ev, "qos_backlog") {
		t.Fatalf("first block judged %d unit-epochs (backlog event %v), want %d", got, hasEvent(ev, "qos_backlog"), qos.MaxEpochWorkPerBlock)
	}
	ev = qnext(h, 1)
	if got := judged(); got != n || !hasEvent(ev, "qos_backlog_done") || qos.Frontier(h.blk) != e {
		t.Fatalf("second block: %d of %d judged, done event %v, frontier %d (want %d)", got, n, hasEvent(ev, "qos_backlog_done"), qos.Frontier(h.blk), e)
	}
	checkQoS(t, h)
}
