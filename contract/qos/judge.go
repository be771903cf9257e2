package qos

import (
	"sort"
	"strconv"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/store"
)

// maintained reports whether an announced window covers epoch e: it
// overlaps the epoch and was announced before the epoch started.
func (qs *UnitQoS) maintained(e, epoch int64) bool {
	for _, w := range qs.Maint {
		if w.AnnouncedAt.Unix() <= e*epoch && w.Start.Unix() < (e+1)*epoch && w.End.Unix() > e*epoch {
			return true
		}
	}
	return false
}

// SLAEval is the verdict on one epoch's medians.
type SLAEval struct {
	Terms       []string
	Unreachable bool
	Beat        bool // every latency/throughput term offered beaten by >= 20 %
	Worse       bool // some latency/throughput term missed by >= 20 %
}

// Evaluate judges the medians against the offer. A zero term is not
// offered. Integrity failures and an unreachable unit always breach.
func Evaluate(sla market.SLAOffer, med UnitMeasurement, uptime, errRate uint32) SLAEval {
	var v SLAEval
	v.Unreachable = med.Successes == 0
	if v.Unreachable {
		v.Terms = append(v.Terms, "reachability")
	}
	offered, beaten := 0, 0
	if sla.MaxP95LatencyMs > 0 {
		offered++
		lim := uint64(sla.MaxP95LatencyMs)
		if uint64(med.P95Ms) > lim {
			v.Terms = append(v.Terms, "latency")
		}
		if uint64(med.P95Ms)*100 >= lim*120 {
			v.Worse = true
		}
		if uint64(med.P95Ms)*100 <= lim*80 {
			beaten++
		}
	}
	if sla.MinUptimeBps > 0 && uptime < sla.MinUptimeBps {
		v.Terms = append(v.Terms, "uptime")
	}
	for _, t := range []struct {
		name     string
		min, got uint32
	}{{"download", sla.MinDownloadMbps, med.DownMbps}, {"upload", sla.MinUploadMbps, med.UpMbps}} {
		if t.min == 0 {
			continue
		}
		offered++
		if t.got < t.min {
			v.Terms = append(v.Terms, t.name)
		}
		if uint64(t.got)*100 <= uint64(t.min)*80 {
			v.Worse = true
		}
		if uint64(t.got)*100 >= uint64(t.min)*120 {
			beaten++
		}
	}
	if sla.MaxErrorRateBps > 0 && errRate > sla.MaxErrorRateBps {
		v.Terms = append(v.Terms, "error_rate")
	}
	if med.IntegrityFailed > 0 {
		v.Terms = append(v.Terms, "integrity")
	}
	// An unreachable unit measured nothing: its zero latency beats no term.
	v.Beat = !v.Unreachable && offered > 0 && beaten == offered
	return v
}

// processUnitEpoch judges one unit in one epoch from its reports.
func (qk *Keeper) processUnitEpoch(ctx *core.Context, q qosParams, fOld, e int64, n uint64, reps []unitRep, quorum uint64, acc *epochAcc) error {
	kv := ctx.KV
	u, ok := market.GetUnitN(kv, n)
	if !ok || u.Status == market.UnitDeleted {
		return nil // reports of a unit deleted since are dropped
	}
	quorum, fixed := unitQuorum(kv, q, e, n, u, quorum)
	qs := GetUnitQoS(kv, n)
	compTrim(qs, fOld)
	h := UnitEpochQoS{Epoch: e, Reporters: len(reps), Quorum: quorum}
	maint := qs.maintained(e, q.Epoch)
	acc.counts.Reported = satAdd(acc.counts.Reported, 1)
	if uint64(len(reps)) < quorum {
		return qk.judgeNoQuorum(ctx, q, u, n, qs, &h, reps, fixed, maint, acc)
	}
	med := medianOf(reps)
	inMedian := splitOutliers(reps, med, q.OutlierBps, acc)
	h.Probes, h.Successes, h.P50Ms, h.P95Ms = med.Probes, med.Successes, med.P50Ms, med.P95Ms
	h.DownMbps, h.UpMbps, h.IntegrityPassed, h.IntegrityFailed = med.DownMbps, med.UpMbps, med.IntegrityPassed, med.IntegrityFailed
	if med.Probes > 0 {
		h.ErrorRateBps = uint32(uint64(med.Probes-med.Successes) * market.BpsDenom / uint64(med.Probes))
	}
	if maint {
		// Announced maintenance: unpaid, not slashed, not scored, and not
		// in the uptime window.
		h.Status = QoSMaintenance
		if err := qk.markUnpaid(ctx, u, e, &h); err != nil {
			return err
		}
		return finishUnitEpoch(ctx, q, u, n, qs, &h)
	}
	qs.noteJudgedOnTime()
	if len(reps) >= minOutlierReporters {
		markFar(reps, med, q.OutlierTol, acc)
	}
	h.UptimeBps = qs.addUptime(e, q.Window, med)
	v := Evaluate(qs.judgedSLA(u, e, q.Epoch), med, h.UptimeBps, h.ErrorRateBps)
	h.Terms = v.Terms
	qs.Judged = satAdd(qs.Judged, 1)
	qs.UptimeBps, qs.P95Ms, qs.DownMbps, qs.UpMbps, qs.ErrorRateBps = h.UptimeBps, med.P95Ms, med.DownMbps, med.UpMbps, h.ErrorRateBps
	// Scoring period accumulators (a period whose data is complete is
	// finalized first).
	u, perr := qk.enterPeriod(ctx, q, u, n, qs, e)
	if perr != nil || u == nil {
		return perr
	}
	qs.PEpochs++
	if v.Beat {
		qs.PBeat++
	}
	qs.PUnreachable = qs.PUnreachable || v.Unreachable
	qs.PWorse = qs.PWorse || v.Worse
	if len(v.Terms) == 0 {
		h.Status = QoSCompliant
		qs.Compliant = satAdd(qs.Compliant, 1)
		acc.counts.Compliant = satAdd(acc.counts.Compliant, 1)
		return finishUnitEpoch(ctx, q, u, n, qs, &h)
	}
	qs.PBreached = true
	h.Status = QoSBreached
	qs.Breached = satAdd(qs.Breached, 1)
	acc.counts.Breached = satAdd(acc.counts.Breached, 1)
	if err := qk.markUnpaid(ctx, u, e, &h); err != nil {
		return err
	}
	if err := qk.slashForBreach(ctx, q, u, n, qs, e, inMedian, &h, acc); err != nil {
		return err
	}
	ctx.Emit("sla_breach", "unit", u.ID, "provider", u.Provider, "epoch", itoa(e), "terms", joinTerms(v.Terms),
		"slashed", h.Slashed.String(), "compensation", h.Compensation.String(), "oracle_share", h.OracleShare.String())
	return finishUnitEpoch(ctx, q, u, n, qs, &h)
}

// unitQuorum is unit n's quorum in epoch e: over its assigned oracles
// when e assigns them (assign.go; fixed true), else def (over the active
// oracles).
func unitQuorum(kv store.KV, q qosParams, e int64, n uint64, u *market.Unit, def uint64) (quorum uint64, fixed bool) {
	owner, err := address.Parse(u.Provider)
	if err != nil {
		return def, false
	}
	if count, fixed := assignedCount(kv, q, e, n, owner); fixed {
		return q.quorum(uint64(count)), true
	}
	return def, false
}

// judgeNoQuorum records a unit-epoch with fewer reports than its quorum:
// not judged, not scored; unpaid under announced maintenance, held under
// an assignment (fixed; hold.go).
func (qk *Keeper) judgeNoQuorum(ctx *core.Context, q qosParams, u *market.Unit, n uint64, qs *UnitQoS, h *UnitEpochQoS, reps []unitRep, fixed, maint bool, acc *epochAcc) error {
	h.Status = QoSNoQuorum
	qs.NoQuorum = satAdd(qs.NoQuorum, 1)
	acc.counts.NoQuorum = satAdd(acc.counts.NoQuorum, 1)
	ctx.Emit("qos_no_quorum", "unit", u.ID, "epoch", itoa(h.Epoch), "reports", itoa(int64(len(reps))), "quorum", utoa(h.Quorum), "unpaid", strconv.FormatBool(maint), "held", strconv.FormatBool(fixed && !maint))
	switch {
	case maint:
		h.Status = QoSMaintenance
		if err := qk.markUnpaid(ctx, u, h.Epoch, h); err != nil {
			return err
		}
	case fixed:
		// Under an assignment, too few of the assigned oracles reported:
		// the epoch's pay is held for their late reports, and refunded
		// if they never come, so silent auditors cannot keep a failing
		// provider paid.
		if err := qk.holdEpoch(ctx, q, u, n, qs, h.Epoch, reps, h.Quorum, h); err != nil {
			return err
		}
	}
	return finishUnitEpoch(ctx, q, u, n, qs, h)
}

// medianOf is the per-metric median of the reports.
func medianOf(reps []unitRep) UnitMeasurement {
	col := func(f func(m *UnitMeasurement) uint32) uint32 {
		vals := make([]uint32, len(reps))
		for i := range reps {
			vals[i] = f(&reps[i].m)
		}
		return median(vals)
	}
	return UnitMeasurement{
		Probes:          col(func(m *UnitMeasurement) uint32 { return m.Probes }),
		Successes:       col(func(m *UnitMeasurement) uint32 { return m.Successes }),
		P50Ms:           col(func(m *UnitMeasurement) uint32 { return m.P50Ms }),
		P95Ms:           col(func(m *UnitMeasurement) uint32 { return m.P95Ms }),
		DownMbps:        col(func(m *UnitMeasurement) uint32 { return m.DownMbps }),
		UpMbps:          col(func(m *UnitMeasurement) uint32 { return m.UpMbps }),
		IntegrityPassed: col(func(m *UnitMeasurement) uint32 { return m.IntegrityPassed }),
		IntegrityFailed: col(func(m *UnitMeasurement) uint32 { return m.IntegrityFailed }),
	}
}

// splitOutliers counts each reporter as in the median or an outlier (more
// than outlierBps from the median in p95 latency, download or upload) and
// returns the ones in the median, sorted.
func splitOutliers(reps []unitRep, med UnitMeasurement, outlierBps uint32, acc *epochAcc) []string {
	var inMedian []string
	for _, r := range reps {
		if far(r.m.P95Ms, med.P95Ms, outlierBps) || far(r.m.DownMbps, med.DownMbps, outlierBps) || far(r.m.UpMbps, med.UpMbps, outlierBps) {
			acc.outliers[r.oracle]++
			continue
		}
		acc.inMedian[r.oracle]++
		inMedian = append(inMedian, r.oracle)
	}
	sort.Strings(inMedian)
	return inMedian
}

// addUptime enters epoch e into the rolling uptime window of the last
// window epochs and returns the window's uptime.
func (qs *UnitQoS) addUptime(e, window int64, med UnitMeasurement) uint32 {
	k := 0
	for _, w := range qs.Window {
		if w.Epoch > e-window && w.Epoch < e {
			qs.Window[k] = w
			k++
		}
	}
	qs.Window = append(qs.Window[:k], uptimeEntry{Epoch: e, Probes: uint64(med.Probes), Successes: uint64(med.Successes)})
	var sp, ss uint64
	for _, w := range qs.Window {
		sp += w.Probes
		ss += w.Successes
	}
	return uint32(ss * market.BpsDenom / max(sp, 1))
}

// enterPeriod moves the unit's scoring accumulators to the period of epoch
// e, finalizing the period they held. It returns the unit as it is after
// that (nil if it is gone).
func (qk *Keeper) enterPeriod(ctx *core.Context, q qosParams, u *market.Unit, n uint64, qs *UnitQoS, e int64) (*market.Unit, error) {
	kv := ctx.KV
	p := e / q.Period
	if qs.Period == p {
		return u, nil
	}
	if qs.Period >= 0 {
		if err := qk.finalizeUnitPeriod(ctx, q, u, n, qs, qs.Period); err != nil {
			return nil, err
		}
		kv.Delete(store.Key(keyScorePeriod, store.EncodeUint64(uint64(qs.Period)), store.EncodeUint64(n)))
		var ok bool
		if u, ok = market.GetUnitN(kv, n); !ok {
			return nil, nil
		}
	}
	qs.Period, qs.PEpochs, qs.PBeat, qs.PUnreachable, qs.PBreached, qs.PWorse = p, 0, 0, false, false, false
	kv.Set(store.Key(keyScorePeriod, store.EncodeUint64(uint64(p)), store.EncodeUint64(n)), []byte{})
	return u, nil
}

func joinTerms(t []string) string {
	s := ""
	for i, x := range t {
		if i > 0 {
			s += ","
		}
		s += x
	}
	return s
}

// markUnpaid marks the epoch breached in the settlement index (no pay,
// consumers refunded). An epoch too old for that (blocks skipped epochs)
// is recorded as unenforced.
func (qk *Keeper) markUnpaid(ctx *core.Context, u *market.Unit, e int64, h *UnitEpochQoS) error {
	n, _ := market.ParseUnitID(u.ID)
	if market.IsBreached(ctx.KV, n, e) {
		return nil
	}
	// The epoch-end work runs as of the block that began it; a unit a
	// later block accrued further is marked as of that (never accrued
	// backwards).
	now := max(ctx.Now(), u.Settlement.AccruedTo.Unix())
	if err := qk.market.MarkEpochBreached(ctx.KV, u.ID, e, now); err != nil {
		if core.CodeOf(err) != core.CodeWrongState {
			return err
		}
		h.Unenforced = true
	}
	return nil
}

// unitStake is the stake attributed to one of the provider's units: its
// bonded plus unbonding stake (still slashable) over its live units.
func unitStake(p *market.Provider) core.Amount {
	if p.LiveUnits == 0 {
		return 0
	}
	return (p.Stake + p.UnbondingTotal()) / core.Amount(p.LiveUnits)
}

// slashProvider takes up to amt from the bonded stake, then from the
// unbonding entries (soonest released first), and returns what it took.
// The tokens stay in PoolStake; the caller moves them.
func slashProvider(p *market.Provider, amt core.Amount) core.Amount {
	take := min(amt, p.Stake)
	p.Stake -= take
	for i := 0; i < len(p.Unbonding) && take < amt; i++ {
		t := min(amt-take, p.Unbonding[i].Amount)
		p.Unbonding[i].Amount -= t
		take += t
	}
	return take
}

func bpsOf(a core.Amount, bps uint32) core.Amount {
	v, _ := core.MulDiv(uint64(a), uint64(bps), market.BpsDenom)
	return core.Amount(v)
}

// slashForBreach slashes slash_fraction_bps of the unit's stake: the
// oracle share to the reporters in the median (equal split, remainder to
// the consumers), the rest to the consumers active in epoch e through the
// compensation index (to the rewards pool when there were none).
func (qk *Keeper) slashForBreach(ctx *core.Context, q qosParams, u *market.Unit, n uint64, qs *UnitQoS, e int64, inMedian []string, h *UnitEpochQoS, acc *epochAcc) error {
	kv := ctx.KV
	owner, _ := address.Parse(u.Provider)
	p, ok := market.GetProvider(kv, owner)
	if !ok {
		return nil
	}
	taken := slashProvider(p, bpsOf(unitStake(p), q.SlashBps))
	if taken == 0 {
		return nil
	}
	qk.market.SetProviderNoting(ctx, owner, p) // may pause its units' reservations
	var each core.Amount
	if len(inMedian) > 0 {
		each = bpsOf(taken, q.OracleShareBps) / core.Amount(len(inMedian))
	}
	oracles := each * core.Amount(len(inMedian))
	if oracles > 0 {
		if err := bank.PoolToPool(kv, bank.PoolStake, PoolOracle, oracles); err != nil {
			return err
		}
		for _, o := range inMedian {
			acc.reward[o] += each
		}
	}
	consumers := taken - oracles
	done, err := compDistribute(kv, n, qs, e, consumers)
	if err != nil {
		return err
	}
	if done {
		h.Compensation = consumers
		qs.Compensation = satAdd(qs.Compensation, consumers)
	} else if consumers > 0 {
		if err := bank.PoolToPool(kv, bank.PoolStake, bank.PoolRewards, consumers); err != nil {
			return err
		}
	}
	h.Slashed, h.OracleShare = taken, oracles
	qs.Slashed = satAdd(qs.Slashed, taken)
	statsAdd(kv, func(s *NetworkStats) {
		s.Slashed = satAdd(s.Slashed, taken)
		s.Compensation = satAdd(s.Compensation, h.Compensation)
	})
	return nil
}

// finishUnitEpoch writes the unit's QoS state and history entry.
func finishUnitEpoch(ctx *core.Context, q qosParams, u *market.Unit, n uint64, qs *UnitQoS, h *UnitEpochQoS) error {
	kv := ctx.KV
	if h.Status == QoSMaintenance {
		qs.Maintenance = satAdd(qs.Maintenance, 1)
	}
	qs.LastEpoch = max(qs.LastEpoch, h.Epoch)
	h.Score = u.Score // setScore keeps u in step
	writeUnitHistory(kv, q, n, qs, h)
	SetUnitQoS(kv, n, qs)
	return nil
}

// strictest combines two offers term by term (a zero term is not offered).
func strictest(a, b market.SLAOffer) market.SLAOffer {
	minNZ := func(x, y uint32) uint32 {
		if x == 0 || (y != 0 && y < x) {
			return y
		}
		return x
	}
	return market.SLAOffer{
		MaxP95LatencyMs: minNZ(a.MaxP95LatencyMs, b.MaxP95LatencyMs),
		MinUptimeBps:    max(a.MinUptimeBps, b.MinUptimeBps),
		MinDownloadMbps: max(a.MinDownloadMbps, b.MinDownloadMbps),
		MinUploadMbps:   max(a.MinUploadMbps, b.MinUploadMbps),
		MaxErrorRateBps: minNZ(a.MaxErrorRateBps, b.MaxErrorRateBps),
		Durability:      a.Durability || b.Durability,
	}
}

// judgedSLA is the offer epoch e is judged by.
func (qs *UnitQoS) judgedSLA(u *market.Unit, e, epoch int64) market.SLAOffer {
	if qs.Strict != nil && e*epoch < qs.StrictUntil.Unix() {
		return strictest(u.SLA, *qs.Strict)
	}
	return u.SLA
}

// qosNoteSLA is called by market/update_unit before the unit's offer
// changes to sla: while reservations may hold the old terms, they keep
// counting. Every such reservation ends by now + accept_timeout +
// max_term (a term, extensions included, is at most max_term).
func qosNoteSLA(kv store.KV, u *market.Unit, sla market.SLAOffer, now int64) {
	if u.LiveReservations == 0 || sla == u.SLA {
		return
	}
	n, _ := market.ParseUnitID(u.ID)
	qs := GetUnitQoS(kv, n)
	old := u.SLA
	if qs.Strict != nil && now < qs.StrictUntil.Unix() {
		old = strictest(old, *qs.Strict)
	}
	mp := market.ParamsOf(kv)
	qs.Strict = &old
	qs.StrictUntil = max(qs.StrictUntil, core.Time(now+mp.Accept+mp.MaxTerm))
	SetUnitQoS(kv, n, qs)
}
