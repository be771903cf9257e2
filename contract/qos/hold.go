package qos

// Held unit-epochs (issue 13).
//
// A unit-epoch with an assigned oracle set (assign.go) and fewer reports
// than its quorum is no longer refunded at once: its pay is held in the
// market (market.MarkEpochHeld: neither claimable by the provider nor
// refunded) for hold_epochs epochs, and the reports it had are kept.
//
// "Quorum returns" means: the epoch's own assigned oracles send the
// reports they owed, late. Until the hold expires, qos/report takes
// reports of a held unit-epoch from its assigned oracles (and only of
// held ones: an old epoch that is not held stays closed). Evidence must
// be about the epoch it settles: judging a held epoch by the quorum of
// the next ones would pay a provider that failed in it and recovered
// after, and would let it wait out its auditors. The late reporter still
// paid its miss penalty (misses.go): a late report is evidence, not an
// excuse.
//
// Resolution is a queue keyed by epoch (q/hq/{due}{unit}{epoch}), worked
// off by the last phase of the epoch-end work within its per-block
// budget (epochwork.go). An entry is due hold_epochs epochs after the
// work that held it, or in the next epoch's work once late reports reach
// the quorum. A due entry with a quorum is judged on the evidence then
// available: the median of the kept and late reports against the offer
// it was judged by, the uptime term on the epoch's own success ratio
// (the rolling window has moved on). Compliant: released (paid to the
// provider). Breached: refunded to the consumers and the provider slashed
// as for an on-time breach, but the slash all goes to the consumers on
// the unit when it is resolved (pro rata to bytes: the compensation index
// cannot be written behind later breaches) and the score is not touched
// (its period has moved on). A due entry without a quorum expires: it is
// refunded to the consumers. A reservation that settles while an epoch it
// spans is held is refunded its share of it (market/hold.go).
//
// A unit with more than hold_epochs consecutive held epochs is held too
// long (qos_hold_too_long, the unit's hold_too_long flag) until an epoch
// of it is judged on time again. Its consumers may close their
// reservations without fee: market/close_reservation charges no
// early-close fee at all (the unused escrow is refunded), so no market
// change is needed for it.
//
//	q/hd/{unit}{epoch}            held unit-epoch: due epoch, quorum (8+8 bytes)
//	q/hq/{due}{unit}{epoch}       resolution queue
//	q/hr/{epoch}{unit}{oracle}    reports of a held unit-epoch, kept and late

import (
	"strconv"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/store"
)

// QoSHeld is the history status of a held unit-epoch until it is resolved.
const QoSHeld = "held"

var (
	keyHeld      = []byte("q/hd/")
	keyHoldQueue = []byte("q/hq/")
	keyHeldRep   = []byte("q/hr/")
)

func heldKey(n uint64, e int64) []byte {
	return store.Key(keyHeld, store.EncodeUint64(n), store.EncodeUint64(uint64(e)))
}

func holdQueueKey(due int64, n uint64, e int64) []byte {
	return store.Key(keyHoldQueue, store.EncodeUint64(uint64(due)), store.EncodeUint64(n), store.EncodeUint64(uint64(e)))
}

func heldRepPrefix(e int64, n uint64) []byte {
	return store.Key(keyHeldRep, store.EncodeUint64(uint64(e)), store.EncodeUint64(n))
}

// heldRecord is a held unit-epoch's due epoch and quorum.
type heldRecord struct {
	Due    int64
	Quorum uint64
}

func getHeld(kv store.KV, n uint64, e int64) (heldRecord, bool) {
	b := kv.Get(heldKey(n, e))
	if len(b) != 16 {
		return heldRecord{}, false
	}
	return heldRecord{Due: int64(store.DecodeUint64(b[:8])), Quorum: store.DecodeUint64(b[8:])}, true
}

func setHeld(kv store.KV, n uint64, e int64, r heldRecord) {
	kv.Set(heldKey(n, e), append(store.EncodeUint64(uint64(r.Due)), store.EncodeUint64(r.Quorum)...))
}

// IsHeldEpoch reports whether unit n's epoch e is held for late reports.
func IsHeldEpoch(kv store.KV, n uint64, e int64) bool { _, ok := getHeld(kv, n, e); return ok }

// holdEpoch holds unit u's epoch e (reps: the reports it had, below
// quorum). An epoch already final in the market (a halt) is recorded as
// unenforced, as markUnpaid does: there is nothing left to hold.
func (qk *Keeper) holdEpoch(ctx *core.Context, q qosParams, u *market.Unit, n uint64, qs *UnitQoS, e int64, reps []unitRep, quorum uint64, h *UnitEpochQoS) error {
	kv := ctx.KV
	now := max(ctx.Now(), u.Settlement.AccruedTo.Unix())
	if err := qk.market.MarkEpochHeld(kv, u.ID, e, now); err != nil {
		if core.CodeOf(err) != core.CodeWrongState {
			return err
		}
		h.Unenforced = true
		ctx.Emit("qos_hold", "unit", u.ID, "epoch", itoa(e), "reports", itoa(int64(len(reps))), "quorum", utoa(quorum), "unenforced", "true")
		return nil
	}
	for _, r := range reps {
		m := r.m
		m.Unit = ""
		store.Set(kv, store.Key(heldRepPrefix(e, n), []byte(r.oracle)), &m)
	}
	due := market.EpochOf(ctx.Now(), q.Epoch) + q.Hold
	setHeld(kv, n, e, heldRecord{Due: due, Quorum: quorum})
	kv.Set(holdQueueKey(due, n, e), []byte{})
	if qs.HeldLast == e-1 && qs.HeldRun > 0 {
		qs.HeldRun = satAdd(qs.HeldRun, 1)
	} else {
		qs.HeldRun = 1
	}
	qs.HeldLast, qs.Held = e, satAdd(qs.Held, 1)
	h.Status = QoSHeld
	statsAdd(kv, func(s *NetworkStats) { s.HeldEpochs = satAdd(s.HeldEpochs, 1) })
	ctx.Emit("qos_hold", "unit", u.ID, "provider", u.Provider, "epoch", itoa(e), "reports", itoa(int64(len(reps))), "quorum", utoa(quorum), "until_epoch", itoa(due))
	if qs.HeldRun > uint64(q.Hold) && !qs.HoldTooLong {
		qs.HoldTooLong = true
		ctx.Emit("qos_hold_too_long", "unit", u.ID, "provider", u.Provider, "epoch", itoa(e), "held_run", utoa(qs.HeldRun), "hold_epochs", itoa(q.Hold))
	}
	return nil
}

// noteJudgedOnTime ends the unit's run of held epochs.
func (qs *UnitQoS) noteJudgedOnTime() { qs.HeldRun, qs.HoldTooLong = 0, false }

// takeLateReport stores oracle's late measurement of held unit n in epoch
// e (the caller checked the oracle is assigned) and, when it completes the
// quorum, moves the resolution to the next epoch's work.
func takeLateReport(kv store.KV, q qosParams, i int, e int64, n uint64, u *market.Unit, oracle []byte, m UnitMeasurement, cur int64) (quorate bool, err error) {
	hr, ok := getHeld(kv, n, e)
	if !ok {
		return false, core.Errf(core.CodeLateReport, "units[%d]: epoch %d of %s is closed for reports: only held unit-epochs (no quorum yet) take late reports, and this one is not held", i, e, u.ID)
	}
	pfx := heldRepPrefix(e, n)
	k := store.Key(pfx, oracle)
	if kv.Get(k) != nil {
		return false, core.Errf(core.CodeDuplicateReport, "units[%d]: oracle %s already reported %s for epoch %d", i, address.Encode(oracle), u.ID, e)
	}
	m.Unit = ""
	store.Set(kv, k, &m)
	count := uint64(len(keysIn(kv, pfx, store.PrefixEnd(pfx), MaxEpochOracles+1)))
	if count < hr.Quorum || hr.Due <= cur+1 {
		return count >= hr.Quorum, nil
	}
	kv.Delete(holdQueueKey(hr.Due, n, e))
	hr.Due = cur + 1
	setHeld(kv, n, e, hr)
	kv.Set(holdQueueKey(hr.Due, n, e), []byte{})
	return true, nil
}

// holdSweep resolves the due held unit-epochs, one per budget item; it
// returns true when work is left.
func (qk *Keeper) holdSweep(kv store.KV, blk core.Block, q qosParams, w *epochWork, budget *int, events *[]core.Event) bool {
	end := store.Key(keyHoldQueue, store.EncodeUint64(uint64(w.Cur+1)))
	keys := keysIn(kv, keyHoldQueue, end, more1(*budget))
	more := len(keys) > *budget
	if more {
		keys = keys[:*budget]
	}
	for _, k := range keys {
		rest := k[len(keyHoldQueue)+8:]
		n, e := store.DecodeUint64(rest[:8]), int64(store.DecodeUint64(rest[8:]))
		isolated(kv, blk, "qos hold "+market.UnitIDString(n), events, func(ctx *core.Context) error {
			return qk.resolveHold(ctx, q, n, e, w.FNew)
		})
		kv.Delete(k)
		clearHeld(kv, n, e)
		*budget--
	}
	return more
}

// clearHeld drops a resolved hold's record and reports.
func clearHeld(kv store.KV, n uint64, e int64) {
	kv.Delete(heldKey(n, e))
	pfx := heldRepPrefix(e, n)
	for _, k := range keysIn(kv, pfx, store.PrefixEnd(pfx), MaxEpochOracles+1) {
		kv.Delete(k)
	}
}

// heldReports reads the reports of held unit n in epoch e, in oracle order.
func heldReports(kv store.KV, e int64, n uint64) []unitRep {
	var reps []unitRep
	pfx := heldRepPrefix(e, n)
	kv.Iterate(pfx, store.PrefixEnd(pfx), func(k, v []byte) bool {
		var r unitRep
		if decodes(v, &r.m) {
			r.oracle = string(k[len(pfx):])
			reps = append(reps, r)
		}
		return len(reps) <= MaxEpochOracles
	})
	return reps
}

// resolveHold settles held unit n's epoch e: judged on its reports when
// they reach the quorum, else refunded (expired). compEpoch is the epoch a
// late breach's compensation is indexed at (the frontier being written).
func (qk *Keeper) resolveHold(ctx *core.Context, q qosParams, n uint64, e, compEpoch int64) error {
	kv := ctx.KV
	hr, ok := getHeld(kv, n, e)
	u, uok := market.GetUnitN(kv, n)
	if !ok || !uok {
		return nil
	}
	if u.Status == market.UnitDeleted {
		// Nothing left to judge: whatever the hold still holds goes back
		// to the consumers.
		var h UnitEpochQoS
		return qk.markUnpaid(ctx, u, e, &h)
	}
	reps := heldReports(kv, e, n)
	qs := GetUnitQoS(kv, n)
	h := UnitEpochQoS{Epoch: e, Reporters: len(reps), Quorum: hr.Quorum}
	store.Get(kv, UnitHistKey(n, e), &h)
	h.Reporters = len(reps)
	if uint64(len(reps)) < hr.Quorum {
		if err := qk.markUnpaid(ctx, u, e, &h); err != nil {
			return err
		}
		h.Status = QoSNoQuorum
		statsAdd(kv, func(s *NetworkStats) { s.HoldsExpired = satAdd(s.HoldsExpired, 1) })
		ctx.Emit("qos_hold_expired", "unit", u.ID, "provider", u.Provider, "epoch", itoa(e), "reports", itoa(int64(len(reps))), "quorum", utoa(hr.Quorum), "refunded", "true", "unenforced", strconv.FormatBool(h.Unenforced))
		return qk.writeResolved(ctx, q, n, qs, &h)
	}
	med := medianOf(reps)
	h.Probes, h.Successes, h.P50Ms, h.P95Ms = med.Probes, med.Successes, med.P50Ms, med.P95Ms
	h.DownMbps, h.UpMbps, h.IntegrityPassed, h.IntegrityFailed = med.DownMbps, med.UpMbps, med.IntegrityPassed, med.IntegrityFailed
	h.ErrorRateBps = uint32(uint64(med.Probes-med.Successes) * market.BpsDenom / uint64(max(med.Probes, 1)))
	h.UptimeBps = uint32(uint64(med.Successes) * market.BpsDenom / uint64(max(med.Probes, 1)))
	v := Evaluate(qs.judgedSLA(u, e, q.Epoch), med, h.UptimeBps, h.ErrorRateBps)
	h.Terms = v.Terms
	qs.Judged = satAdd(qs.Judged, 1)
	statsAdd(kv, func(s *NetworkStats) { s.HoldsResolved = satAdd(s.HoldsResolved, 1) })
	if len(v.Terms) == 0 {
		if err := qk.market.ReleaseHeld(kv, u.ID, e); err != nil {
			return err
		}
		h.Status = QoSCompliant
		qs.Compliant = satAdd(qs.Compliant, 1)
		ctx.Emit("qos_hold_resolved", "unit", u.ID, "provider", u.Provider, "epoch", itoa(e), "status", QoSCompliant, "reports", itoa(int64(len(reps))), "quorum", utoa(hr.Quorum), "paid", "true")
		return qk.writeResolved(ctx, q, n, qs, &h)
	}
	h.Status = QoSBreached
	qs.Breached = satAdd(qs.Breached, 1)
	if err := qk.markUnpaid(ctx, u, e, &h); err != nil {
		return err
	}
	if err := qk.slashForBreach(ctx, q, u, n, qs, compEpoch, nil, &h, newEpochAcc(e)); err != nil {
		return err
	}
	ctx.Emit("qos_hold_resolved", "unit", u.ID, "provider", u.Provider, "epoch", itoa(e), "status", QoSBreached, "terms", joinTerms(v.Terms),
		"reports", itoa(int64(len(reps))), "quorum", utoa(hr.Quorum), "paid", "false", "slashed", h.Slashed.String(), "compensation", h.Compensation.String())
	return qk.writeResolved(ctx, q, n, qs, &h)
}

// writeResolved writes the unit's QoS state and, while the history keeps
// epoch e, its entry.
func (qk *Keeper) writeResolved(ctx *core.Context, q qosParams, n uint64, qs *UnitQoS, h *UnitEpochQoS) error {
	if h.Epoch > qs.HistLast-q.History {
		writeUnitHistory(ctx.KV, q, n, qs, h)
	}
	SetUnitQoS(ctx.KV, n, qs)
	return nil
}

// HeldRef is a held unit-epoch and the epoch whose work resolves it.
type HeldRef struct {
	Unit  uint64
	Epoch int64
	Due   int64
}

// HeldUnitEpochs lists up to limit held unit-epochs in unit, epoch order.
func HeldUnitEpochs(kv store.KV, limit int) []HeldRef {
	var out []HeldRef
	kv.Iterate(keyHeld, store.PrefixEnd(keyHeld), func(k, v []byte) bool {
		rest := k[len(keyHeld):]
		if len(rest) == 16 && len(v) == 16 {
			out = append(out, HeldRef{Unit: store.DecodeUint64(rest[:8]), Epoch: int64(store.DecodeUint64(rest[8:])), Due: int64(store.DecodeUint64(v[:8]))})
		}
		return len(out) < limit
	})
	return out
}
