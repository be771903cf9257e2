package qos

// Epoch-end work bounded per block.
//
// When the frontier can advance (the first block of a new epoch), the
// work that moves it from FOld to FNew is recorded at q/work and done in
// six phases: count the misses of assigned oracles (misses.go), judge the stored reports of epochs <= FNew (epoch then unit
// order, closing each epoch after its last unit), drop their "reported"
// marks, sweep announced maintenance, finalize the ended scoring periods, resolve
// the due held unit-epochs (hold.go).
// A block does at most the keeper's work limit (MaxEpochWorkPerBlock)
// items: a unit-epoch judged, a mark dropped, a unit swept, a score or
// decay key finalized. What is left stays recorded, with the position
// reached, and the next blocks go on from there (before any of their txs)
// until the frontier is written, so a chain halted for long, or a large
// jump in block time, never makes one block unboundedly long.
//
// The work runs as of the block that began it (its time, the active
// oracle count it took the quorum from, its current epoch), so without
// txs in between, a backlog worked off over several blocks ends in the
// same state as one block doing it all (TestEpochWorkBoundedMatchesUnbounded).
// While it is under way:
//   - the frontier (stats, queries) stays at FOld; units' QoS state and
//     history show the unit-epochs judged so far;
//   - qos/claim_compensation is refused (it would pay breaches judged but
//     not yet final twice; the limit is in the error), reports of newer
//     epochs are taken as usual;
//   - the slash shares of the epoch being judged wait in PoolOracle (the
//     record's tally; PendingOracleRewards) until it is closed;
//   - the stats snapshot of the epoch that just ended is taken when the
//     work is done (timed as of the block that began it when that was in
//     the same epoch), not mid-way;
//   - each block that leaves work emits qos_backlog (frontier, target,
//     phase, limit) and the block that finishes it qos_backlog_done.

import (
	"math"
	"sort"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/store"
)

// MaxEpochWorkPerBlock is the default bound on the epoch-end items one
// block does (see the top of this file), the market's bound on its queues.
const MaxEpochWorkPerBlock = market.MaxQueuedPerBlock

var (
	keyWork     = []byte("q/work")
	keyDecayNew = []byte("q/wn/") // decay keys written by the periods phase under way: not its work
)

// Phases of the epoch-end work, in order.
const (
	workMisses uint32 = iota
	workReports
	workMarks
	workMaintenance
	workPeriods
	workHolds
	workDone
)

var phaseNames = [...]string{"misses", "reports", "marks", "maintenance", "periods", "holds"}

// epochWork is the epoch-end work under way.
type epochWork struct {
	FOld      int64     // frontier before
	FNew      int64     // frontier after
	Cur       int64     // current epoch of the block that began it
	AsOf      core.Time // that block's time: the work runs as of it
	Quorum    uint64    // from the active oracles then
	Phase     uint32
	MaintNext uint64 // next unit of the maintenance sweep
	ScoreNext []byte // next q/sp/ key (suffix) of the periods phase
	DecayNext []byte // next q/dk/ key (suffix)
	Tally     *epochTally
	MissEpoch int64  // epoch of the miss accounting under way (misses.go)
	MissNext  uint64 // next unit of it
}

// epochTally is the accumulator of the epoch being judged, kept between
// blocks when its units span them.
type epochTally struct {
	Epoch   int64
	Counts  EpochQoSCounts
	Oracles []oracleTally // by raw address
}

type oracleTally struct {
	Oracle   []byte // raw address
	InMedian uint64
	Outliers uint64
	Reward   core.Amount
	FarN     uint64 // outlier.go
	OkN      uint64
}

func getEpochWork(kv store.KV) (*epochWork, bool) {
	var w epochWork
	if !store.Get(kv, keyWork, &w) {
		return nil, false
	}
	return &w, true
}

// EpochBacklog reports the epoch-end work still under way, if any: the
// frontier it moves to and its phase.
func EpochBacklog(kv store.KV) (target int64, phase string, pending bool) {
	w, ok := getEpochWork(kv)
	if !ok {
		return 0, "", false
	}
	return w.FNew, phaseNames[min(w.Phase, workHolds)], true
}

// PendingOracleRewards is the slash shares held in PoolOracle for the
// epoch being judged (zero after every block without a backlog).
func PendingOracleRewards(kv store.KV) core.Amount {
	w, ok := getEpochWork(kv)
	if !ok || w.Tally == nil {
		return 0
	}
	var t core.Amount
	for _, o := range w.Tally.Oracles {
		t += o.Reward
	}
	return t
}

// SetWorkLimit sets the epoch-end items one block does (n <= 0: no
// limit), MaxEpochWorkPerBlock by default. Tests compare limits with it.
func (qk *Keeper) SetWorkLimit(n int) { qk.workLimit = n }

// BeginBlock does the epoch-end work once the reports of epochs are final
// (judges them, sweeps maintenance, closes scoring periods; at most the
// work limit of items per block), and snapshots the stats of a new epoch.
func (qk *Keeper) BeginBlock(kv store.KV, blk core.Block) []core.Event {
	seedEvents := fixEpochSet(kv, blk, getQoSParams(kv), market.EpochOf(blk.Time.Unix(), getQoSParams(kv).Epoch))
	return append(seedEvents, qk.epochEnd(kv, blk)...)
}

// epochEnd is the epoch-end part of BeginBlock.
func (qk *Keeper) epochEnd(kv store.KV, blk core.Block) []core.Event {
	if market.SettlingTermEnds(kv) {
		// Judge epochs only once every term that ended in them is
		// settled (the market ends a burst of them over a few blocks).
		return nil
	}
	q := getQoSParams(kv)
	cur := market.EpochOf(blk.Time.Unix(), q.Epoch)
	var events []core.Event
	snapAt := blk.Time.Unix()
	budget := qk.workLimit
	if budget <= 0 {
		budget = math.MaxInt
	}
	for {
		w, carried := getEpochWork(kv)
		if !carried {
			fOld, fNew := Frontier(kv), cur-2-q.Grace
			if fNew <= fOld {
				break
			}
			w = &epochWork{FOld: fOld, FNew: fNew, Cur: cur, AsOf: core.Time(blk.Time.Unix()), Quorum: q.quorum(ActiveOracles(kv))}
		}
		if !qk.runEpochWork(kv, blk, q, w, &budget, &events) {
			// The epoch's stats snapshot waits for its work.
			events = append(events, core.Event{Type: "qos_backlog", Attrs: []core.Attr{
				{Key: "frontier", Value: itoa(w.FOld)}, {Key: "target", Value: itoa(w.FNew)},
				{Key: "phase", Value: phaseNames[w.Phase]}, {Key: "limit", Value: itoa(int64(qk.workLimit))}}})
			return events
		}
		if carried {
			events = append(events, core.Event{Type: "qos_backlog_done", Attrs: []core.Attr{{Key: "frontier", Value: itoa(w.FNew)}}})
			if market.EpochOf(w.AsOf.Unix(), q.Epoch) == cur {
				snapAt = w.AsOf.Unix() // as of the block that began the work, as without a backlog
			}
		}
	}
	snapshotEpoch(kv, snapAt, q, cur, &events)
	return events
}

// runEpochWork does phases of w within the budget: it writes the frontier
// and returns true when w is done, else records w for the next block.
func (qk *Keeper) runEpochWork(kv store.KV, blk core.Block, q qosParams, w *epochWork, budget *int, events *[]core.Event) bool {
	asOf := blk
	asOf.Time = w.AsOf.UTC()
	for ; w.Phase < workDone; w.Phase++ {
		var more bool
		switch w.Phase {
		case workMisses:
			more = qk.missSweep(kv, asOf, q, w, budget, events)
		case workReports:
			more = qk.judgeReports(kv, asOf, q, w, budget, events)
		case workMarks:
			more = dropReportedMarks(kv, w, budget)
		case workMaintenance:
			more = qk.maintenanceSweep(kv, asOf, q, w, budget, events)
		case workPeriods:
			more = qk.finalizePeriods(kv, asOf, q, w, budget, events)
		case workHolds:
			more = qk.holdSweep(kv, asOf, q, w, budget, events)
		}
		if more {
			store.Set(kv, keyWork, w)
			return false
		}
	}
	kv.Set(keyFrontier, store.EncodeUint64(uint64(w.FNew)))
	kv.Delete(keyWork)
	return true
}

// keysIn returns the keys in [start, end), at most limit of them.
func keysIn(kv store.KV, start, end []byte, limit int) [][]byte {
	var keys [][]byte
	if limit <= 0 {
		return nil
	}
	kv.Iterate(start, end, func(k, _ []byte) bool {
		keys = append(keys, append([]byte(nil), k...))
		return len(keys) < limit
	})
	return keys
}

// more1 is limit+1 without overflow: one more than the budget tells
// whether anything is left after it.
func more1(budget int) int { return min(budget, math.MaxInt-1) + 1 }

// reportGroup is the stored reports of one unit in one epoch.
type reportGroup struct {
	e    int64
	unit uint64
	reps []unitRep
	keys [][]byte
}

// readReportGroups reads the stored reports of epochs <= fNew, at most
// limit groups; more tells whether another follows and nextE its epoch.
func readReportGroups(kv store.KV, fNew int64, limit int) (groups []reportGroup, nextE int64, more bool) {
	end := store.Key(keyReport, store.EncodeUint64(uint64(fNew+1)))
	kv.Iterate(keyReport, end, func(k, v []byte) bool {
		rest := k[len(keyReport):]
		var e int64
		var unit uint64
		var rep unitRep
		valid := false
		if len(rest) == 16+address.Len {
			e, unit = int64(store.DecodeUint64(rest[:8])), store.DecodeUint64(rest[8:16])
			rep.oracle = string(rest[16:])
			valid = decodes(v, &rep.m)
		}
		if n := len(groups); n == 0 || groups[n-1].e != e || groups[n-1].unit != unit {
			if n == limit {
				nextE, more = e, true
				return false
			}
			groups = append(groups, reportGroup{e: e, unit: unit})
		}
		g := &groups[len(groups)-1]
		g.keys = append(g.keys, append([]byte(nil), k...))
		if valid {
			g.reps = append(g.reps, rep)
		}
		return true
	})
	return groups, nextE, more
}

// judgeReports judges stored reports, one unit-epoch per budget item, and
// closes each epoch after its last unit.
func (qk *Keeper) judgeReports(kv store.KV, blk core.Block, q qosParams, w *epochWork, budget *int, events *[]core.Event) bool {
	groups, nextE, more := readReportGroups(kv, w.FNew, *budget)
	acc := w.Tally.acc()
	closeAcc := func() {
		isolated(kv, blk, "qos epoch "+itoa(acc.epoch), events, func(ctx *core.Context) error {
			return closeEpoch(ctx, q, acc.epoch, acc)
		})
		acc = nil
	}
	for _, g := range groups {
		if acc != nil && acc.epoch != g.e {
			closeAcc()
		}
		if acc == nil {
			acc = newEpochAcc(g.e)
		}
		local := newEpochAcc(g.e)
		if isolated(kv, blk, "qos "+market.UnitIDString(g.unit), events, func(ctx *core.Context) error {
			return qk.processUnitEpoch(ctx, q, w.FOld, g.e, g.unit, g.reps, w.Quorum, local)
		}) {
			acc.merge(local)
		}
		for _, k := range g.keys {
			kv.Delete(k)
		}
		*budget--
	}
	if acc != nil && (!more || nextE != acc.epoch) {
		closeAcc()
	}
	w.Tally = acc.tally()
	return more
}

// dropReportedMarks deletes the "reported" marks of epochs <= FNew.
func dropReportedMarks(kv store.KV, w *epochWork, budget *int) bool {
	end := store.Key(keyReported, store.EncodeUint64(uint64(w.FNew+1)))
	keys := keysIn(kv, keyReported, end, more1(*budget))
	more := len(keys) > *budget
	if more {
		keys = keys[:*budget]
	}
	for _, k := range keys {
		kv.Delete(k)
	}
	*budget -= len(keys)
	return more
}

// acc is the tally as an accumulator (nil for none).
func (t *epochTally) acc() *epochAcc {
	if t == nil {
		return nil
	}
	a := newEpochAcc(t.Epoch)
	a.counts = t.Counts
	for _, o := range t.Oracles {
		k := string(o.Oracle)
		if o.InMedian > 0 {
			a.inMedian[k] = o.InMedian
		}
		if o.Outliers > 0 {
			a.outliers[k] = o.Outliers
		}
		if o.Reward > 0 {
			a.reward[k] = o.Reward
		}
		if o.FarN > 0 {
			a.farN[k] = o.FarN
		}
		if o.OkN > 0 {
			a.okN[k] = o.OkN
		}
	}
	return a
}

// tally is the accumulator as a record, oracles in address order (nil for
// none).
func (a *epochAcc) tally() *epochTally {
	if a == nil {
		return nil
	}
	t := &epochTally{Epoch: a.epoch, Counts: a.counts}
	for _, o := range a.oracles() {
		t.Oracles = append(t.Oracles, oracleTally{Oracle: []byte(o), InMedian: a.inMedian[o], Outliers: a.outliers[o], Reward: a.reward[o], FarN: a.farN[o], OkN: a.okN[o]})
	}
	return t
}

// oracles are the oracles the accumulator names, in address order.
func (a *epochAcc) oracles() []string {
	names := map[string]bool{}
	for o := range a.inMedian {
		names[o] = true
	}
	for o := range a.outliers {
		names[o] = true
	}
	for o := range a.reward {
		names[o] = true
	}
	for o := range a.farN {
		names[o] = true
	}
	for o := range a.okN {
		names[o] = true
	}
	out := make([]string, 0, len(names))
	for o := range names {
		out = append(out, o)
	}
	sort.Strings(out) // byte order, as the keys
	return out
}
