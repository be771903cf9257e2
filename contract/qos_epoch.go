package contract

// Epoch-end QoS work, in BeginBlock after the market's term-end queue.
//
// Reports for epoch e are taken while the current epoch is e+1 ..
// e+1+grace. The first block of a later epoch (cur) advances the frontier
// F (last final epoch) to cur-2-grace and processes, in epoch then unit
// order, only the stored reports of epochs <= F: O(units reported x
// reporters), nothing scans all units or reservations. Per unit and epoch:
// quorum, medians, SLA evaluation, breach (MarkEpochBreached, slash,
// compensation, oracle share), score accumulators and history. Then
// announced maintenance not covered by reports is marked unpaid, scoring
// periods that ended are finalized (only units with data in them, plus
// units whose score decays), oracles are paid, and the epoch's stats are
// written.

import (
	"sort"

	"github.com/flashback-network/flashback/address"
)

type uptimeEntry struct {
	Epoch     int64  `json:"epoch"`
	Probes    uint64 `json:"probes"`
	Successes uint64 `json:"successes"`
}

// maintLog is an announced maintenance window and when it was announced.
type maintLog struct {
	Start       Time `json:"start"`
	End         Time `json:"end"`
	AnnouncedAt Time `json:"announced_at"`
}

// UnitQoS is a unit's QoS state: score, rolling uptime window, scoring
// period accumulators, sub-metrics, compensation base and maintenance log.
type UnitQoS struct {
	ScoreMilli int64         `json:"score_milli"` // 0..100000, the unit's score is its rounding
	Window     []uptimeEntry `json:"window,omitempty"`

	// Scoring period accumulators (Period = -1: none).
	Period       int64  `json:"period"`
	PEpochs      uint32 `json:"p_epochs"`
	PBeat        uint32 `json:"p_beat"`
	PUnreachable bool   `json:"p_unreachable,omitempty"`
	PBreached    bool   `json:"p_breached,omitempty"`
	PWorse       bool   `json:"p_worse,omitempty"`
	LastScored   int64  `json:"last_scored_period"`
	LastDelta    int64  `json:"last_delta"`

	// Sub-metrics.
	Judged       uint64 `json:"epochs_judged"`
	Compliant    uint64 `json:"epochs_compliant"`
	Breached     uint64 `json:"epochs_breached"`
	NoQuorum     uint64 `json:"epochs_no_quorum"`
	Maintenance  uint64 `json:"epochs_maintenance"`
	LastEpoch    int64  `json:"last_epoch"`
	HistLast     int64  `json:"hist_last"` // latest history entry, -1 none
	UptimeBps    uint32 `json:"uptime_bps"`
	P95Ms        uint32 `json:"p95_ms"`
	DownMbps     uint32 `json:"down_mbps"`
	UpMbps       uint32 `json:"up_mbps"`
	ErrorRateBps uint32 `json:"error_rate_bps"`
	Slashed      Amount `json:"slashed"`
	Compensation Amount `json:"compensation"`
	Rewarded     Amount `json:"rewarded"`
	RepSlashed   Amount `json:"reputation_slashed"`
	Suspended    bool   `json:"suspended"`

	// Compensation base (qos_comp.go).
	CompIndex string          `json:"comp_index"`
	CompBytes uint64          `json:"comp_bytes"`
	CompRing  []compRingEntry `json:"comp_ring,omitempty"`

	Maint []maintLog `json:"maintenance_log,omitempty"`

	// Strict holds the strictest terms the unit offered while it had live
	// reservations, until StrictUntil (by when every reservation made
	// under them has ended): the unit is judged by the strictest of these
	// and its current offer, so relaxing the SLA cannot dodge breaches on
	// reservations that copied the old terms.
	Strict      *SLAOffer `json:"strict_sla,omitempty"`
	StrictUntil Time      `json:"strict_until,omitempty"`
}

func unitQoSKey(n uint64) []byte { return mkKey(keyUnitQoS, be8(n)) }

func getUnitQoS(kv KV, n uint64) *UnitQoS {
	q := &UnitQoS{ScoreMilli: DefaultScore * 1000, Period: -1, LastScored: -1, LastEpoch: -1, HistLast: -1, CompIndex: "0"}
	getJSON(kv, unitQoSKey(n), q)
	return q
}

func setUnitQoS(kv KV, n uint64, q *UnitQoS) { setJSON(kv, unitQoSKey(n), q) }

// Epoch outcomes in the history and stats.
const (
	QoSCompliant   = "compliant"
	QoSBreached    = "breached"
	QoSNoQuorum    = "no_quorum"
	QoSMaintenance = "maintenance"
)

// UnitEpochQoS is one unit's QoS outcome in one epoch.
type UnitEpochQoS struct {
	Epoch           int64    `json:"epoch"`
	Status          string   `json:"status"`
	Reporters       int      `json:"reporters"`
	Quorum          uint64   `json:"quorum"`
	Probes          uint32   `json:"probes"`
	Successes       uint32   `json:"successes"`
	P50Ms           uint32   `json:"p50_ms"`
	P95Ms           uint32   `json:"p95_ms"`
	DownMbps        uint32   `json:"down_mbps"`
	UpMbps          uint32   `json:"up_mbps"`
	IntegrityPassed uint32   `json:"integrity_passed"`
	IntegrityFailed uint32   `json:"integrity_failed"`
	UptimeBps       uint32   `json:"uptime_bps"` // over the rolling window
	ErrorRateBps    uint32   `json:"error_rate_bps"`
	Terms           []string `json:"breached_terms,omitempty"`
	Unenforced      bool     `json:"unenforced,omitempty"` // too old for the settlement to refund
	Slashed         Amount   `json:"slashed"`
	Compensation    Amount   `json:"compensation"`
	OracleShare     Amount   `json:"oracle_share"`
	Score           uint32   `json:"score"`
}

type unitRep struct {
	oracle string // raw address
	m      UnitMeasurement
}

// epochAcc collects, for one epoch, what oracles earned and what happened.
type epochAcc struct {
	inMedian map[string]uint64
	outliers map[string]uint64
	reward   map[string]Amount // slash shares, held in PoolOracle
	counts   EpochQoSCounts
}

func newEpochAcc() *epochAcc {
	return &epochAcc{inMedian: map[string]uint64{}, outliers: map[string]uint64{}, reward: map[string]Amount{}}
}

func (a *epochAcc) merge(b *epochAcc) {
	for k, v := range b.inMedian {
		a.inMedian[k] += v
	}
	for k, v := range b.outliers {
		a.outliers[k] += v
	}
	for k, v := range b.reward {
		a.reward[k] += v
	}
	a.counts.add(b.counts)
}

// isolated runs fn on a cache over kv and keeps its writes only if it
// succeeds; a failure becomes a qos_error event.
func isolated(kv KV, blk Block, what string, events *[]Event, fn func(ctx *Context) error) bool {
	c := NewCache(kv)
	ctx := &Context{KV: c, Block: blk}
	if err := fn(ctx); err != nil {
		*events = append(*events, Event{Type: "qos_error", Attrs: []Attr{{Key: "what", Value: what}, {Key: "error", Value: err.Error()}}})
		return false
	}
	c.Write()
	*events = append(*events, ctx.Events()...)
	return true
}

func qosBeginBlock(kv KV, blk Block) []Event {
	now := blk.Time.Unix()
	q := getQoSParams(kv)
	cur := epochOf(now, q.Epoch)
	var events []Event
	fOld := frontier(kv)
	fNew := cur - 2 - q.Grace
	if fNew > fOld {
		processReports(kv, blk, q, fOld, fNew, &events)
		maintenanceSweep(kv, blk, q, fOld, fNew, cur, &events)
		finalizePeriods(kv, blk, q, fNew, &events)
		kv.Set(keyFrontier, be8(uint64(fNew)))
	}
	snapshotEpoch(kv, blk, q, cur, &events)
	return events
}

// processReports handles every stored report of epochs <= fNew.
func processReports(kv KV, blk Block, q qosParams, fOld, fNew int64, events *[]Event) {
	end := mkKey(keyReport, be8(uint64(fNew+1)))
	type rec struct {
		e     int64
		unit  uint64
		rep   unitRep
		key   []byte
		valid bool
	}
	var recs []rec
	kv.Iterate(keyReport, end, func(k, v []byte) bool {
		rest := k[len(keyReport):]
		r := rec{key: append([]byte(nil), k...)}
		if len(rest) == 16+address.Len {
			r.e, r.unit = int64(beU64(rest[:8])), beU64(rest[8:16])
			r.rep.oracle = string(rest[16:])
			r.valid = jsonOK(v, &r.rep.m)
		}
		recs = append(recs, r)
		return true
	})
	active := ActiveOracles(kv)
	quorum := q.quorum(active)
	for i := 0; i < len(recs); {
		e := recs[i].e
		acc := newEpochAcc()
		for i < len(recs) && recs[i].e == e {
			n := recs[i].unit
			var reps []unitRep
			for ; i < len(recs) && recs[i].e == e && recs[i].unit == n; i++ {
				if recs[i].valid {
					reps = append(reps, recs[i].rep)
				}
			}
			local := newEpochAcc()
			if isolated(kv, blk, "qos "+unitIDString(n), events, func(ctx *Context) error {
				return processUnitEpoch(ctx, q, fOld, e, n, reps, quorum, local)
			}) {
				acc.merge(local)
			}
		}
		isolated(kv, blk, "qos epoch "+itoa(e), events, func(ctx *Context) error {
			return closeEpoch(ctx, q, e, acc)
		})
	}
	for _, r := range recs {
		kv.Delete(r.key)
	}
	var marks [][]byte
	kv.Iterate(keyReported, mkKey(keyReported, be8(uint64(fNew+1))), func(k, _ []byte) bool {
		marks = append(marks, append([]byte(nil), k...))
		return true
	})
	for _, k := range marks {
		kv.Delete(k)
	}
}

func median(vals []uint32) uint32 {
	s := append([]uint32(nil), vals...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[(len(s)-1)/2]
}

// far reports whether x is more than bps (relative) away from med.
func far(x, med uint32, bps uint32) bool {
	d := int64(x) - int64(med)
	if d < 0 {
		d = -d
	}
	return d*BpsDenom > int64(bps)*max(int64(med), 1)
}

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

// slaEval is the verdict on one epoch's medians.
type slaEval struct {
	terms       []string
	unreachable bool
	beat        bool // every latency/throughput term offered beaten by >= 20 %
	worse       bool // some latency/throughput term missed by >= 20 %
}

// evaluate judges the medians against the offer. A zero term is not
// offered. Integrity failures and an unreachable unit always breach.
func evaluate(sla SLAOffer, med UnitMeasurement, uptime, errRate uint32) slaEval {
	var v slaEval
	v.unreachable = med.Successes == 0
	if v.unreachable {
		v.terms = append(v.terms, "reachability")
	}
	offered, beaten := 0, 0
	if sla.MaxP95LatencyMs > 0 {
		offered++
		lim := uint64(sla.MaxP95LatencyMs)
		if uint64(med.P95Ms) > lim {
			v.terms = append(v.terms, "latency")
		}
		if uint64(med.P95Ms)*100 >= lim*120 {
			v.worse = true
		}
		if uint64(med.P95Ms)*100 <= lim*80 {
			beaten++
		}
	}
	if sla.MinUptimeBps > 0 && uptime < sla.MinUptimeBps {
		v.terms = append(v.terms, "uptime")
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
			v.terms = append(v.terms, t.name)
		}
		if uint64(t.got)*100 <= uint64(t.min)*80 {
			v.worse = true
		}
		if uint64(t.got)*100 >= uint64(t.min)*120 {
			beaten++
		}
	}
	if sla.MaxErrorRateBps > 0 && errRate > sla.MaxErrorRateBps {
		v.terms = append(v.terms, "error_rate")
	}
	if med.IntegrityFailed > 0 {
		v.terms = append(v.terms, "integrity")
	}
	// An unreachable unit measured nothing: its zero latency beats no term.
	v.beat = !v.unreachable && offered > 0 && beaten == offered
	return v
}

// processUnitEpoch judges one unit in one epoch from its reports.
func processUnitEpoch(ctx *Context, q qosParams, fOld, e int64, n uint64, reps []unitRep, quorum uint64, acc *epochAcc) error {
	kv := ctx.KV
	u, ok := getUnitN(kv, n)
	if !ok || u.Status == UnitDeleted {
		return nil // reports of a unit deleted since are dropped
	}
	qs := getUnitQoS(kv, n)
	compTrim(qs, fOld)
	h := UnitEpochQoS{Epoch: e, Reporters: len(reps), Quorum: quorum}
	maint := qs.maintained(e, q.Epoch)
	acc.counts.Reported++
	if uint64(len(reps)) < quorum {
		h.Status = QoSNoQuorum
		qs.NoQuorum++
		acc.counts.NoQuorum++
		ctx.Emit("qos_no_quorum", "unit", u.ID, "epoch", itoa(e), "reports", itoa(int64(len(reps))), "quorum", utoa(quorum))
		if maint {
			h.Status = QoSMaintenance
			if err := markUnpaid(ctx, u, e, &h); err != nil {
				return err
			}
		}
		return finishUnitEpoch(ctx, q, u, n, qs, &h)
	}
	// Medians, metric by metric.
	col := func(f func(m *UnitMeasurement) uint32) uint32 {
		vals := make([]uint32, len(reps))
		for i := range reps {
			vals[i] = f(&reps[i].m)
		}
		return median(vals)
	}
	med := UnitMeasurement{
		Probes:          col(func(m *UnitMeasurement) uint32 { return m.Probes }),
		Successes:       col(func(m *UnitMeasurement) uint32 { return m.Successes }),
		P50Ms:           col(func(m *UnitMeasurement) uint32 { return m.P50Ms }),
		P95Ms:           col(func(m *UnitMeasurement) uint32 { return m.P95Ms }),
		DownMbps:        col(func(m *UnitMeasurement) uint32 { return m.DownMbps }),
		UpMbps:          col(func(m *UnitMeasurement) uint32 { return m.UpMbps }),
		IntegrityPassed: col(func(m *UnitMeasurement) uint32 { return m.IntegrityPassed }),
		IntegrityFailed: col(func(m *UnitMeasurement) uint32 { return m.IntegrityFailed }),
	}
	var inMedian []string
	for _, r := range reps {
		if far(r.m.P95Ms, med.P95Ms, q.OutlierBps) || far(r.m.DownMbps, med.DownMbps, q.OutlierBps) || far(r.m.UpMbps, med.UpMbps, q.OutlierBps) {
			acc.outliers[r.oracle]++
			continue
		}
		acc.inMedian[r.oracle]++
		inMedian = append(inMedian, r.oracle)
	}
	sort.Strings(inMedian)
	h.Probes, h.Successes, h.P50Ms, h.P95Ms = med.Probes, med.Successes, med.P50Ms, med.P95Ms
	h.DownMbps, h.UpMbps, h.IntegrityPassed, h.IntegrityFailed = med.DownMbps, med.UpMbps, med.IntegrityPassed, med.IntegrityFailed
	if med.Probes > 0 {
		h.ErrorRateBps = uint32(uint64(med.Probes-med.Successes) * BpsDenom / uint64(med.Probes))
	}
	if maint {
		// Announced maintenance: unpaid, not slashed, not scored, and not
		// in the uptime window.
		h.Status = QoSMaintenance
		if err := markUnpaid(ctx, u, e, &h); err != nil {
			return err
		}
		return finishUnitEpoch(ctx, q, u, n, qs, &h)
	}
	// Rolling uptime window over the last uptime_window_epochs epochs.
	k := 0
	for _, w := range qs.Window {
		if w.Epoch > e-q.Window && w.Epoch < e {
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
	h.UptimeBps = uint32(ss * BpsDenom / max(sp, 1))
	v := evaluate(qs.judgedSLA(u, e, q.Epoch), med, h.UptimeBps, h.ErrorRateBps)
	h.Terms = v.terms
	qs.Judged++
	qs.UptimeBps, qs.P95Ms, qs.DownMbps, qs.UpMbps, qs.ErrorRateBps = h.UptimeBps, med.P95Ms, med.DownMbps, med.UpMbps, h.ErrorRateBps
	// Scoring period accumulators (a period whose data is complete is
	// finalized first).
	p := e / q.Period
	if qs.Period != p {
		if qs.Period >= 0 {
			if err := finalizeUnitPeriod(ctx, q, u, n, qs, qs.Period); err != nil {
				return err
			}
			kv.Delete(mkKey(keyScorePeriod, be8(uint64(qs.Period)), be8(n)))
			if u, ok = getUnitN(kv, n); !ok {
				return nil
			}
		}
		qs.Period, qs.PEpochs, qs.PBeat, qs.PUnreachable, qs.PBreached, qs.PWorse = p, 0, 0, false, false, false
		kv.Set(mkKey(keyScorePeriod, be8(uint64(p)), be8(n)), []byte{})
	}
	qs.PEpochs++
	if v.beat {
		qs.PBeat++
	}
	qs.PUnreachable = qs.PUnreachable || v.unreachable
	qs.PWorse = qs.PWorse || v.worse
	if len(v.terms) == 0 {
		h.Status = QoSCompliant
		qs.Compliant++
		acc.counts.Compliant++
		return finishUnitEpoch(ctx, q, u, n, qs, &h)
	}
	qs.PBreached = true
	h.Status = QoSBreached
	qs.Breached++
	acc.counts.Breached++
	if err := markUnpaid(ctx, u, e, &h); err != nil {
		return err
	}
	if err := slashForBreach(ctx, q, u, n, qs, e, inMedian, &h, acc); err != nil {
		return err
	}
	ctx.Emit("sla_breach", "unit", u.ID, "provider", u.Provider, "epoch", itoa(e), "terms", joinTerms(v.terms),
		"slashed", h.Slashed.String(), "compensation", h.Compensation.String(), "oracle_share", h.OracleShare.String())
	return finishUnitEpoch(ctx, q, u, n, qs, &h)
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
func markUnpaid(ctx *Context, u *Unit, e int64, h *UnitEpochQoS) error {
	n, _ := parseUnitID(u.ID)
	if isBreached(ctx.KV, n, e) {
		return nil
	}
	if err := MarkEpochBreached(ctx.KV, u.ID, e, ctx.Now()); err != nil {
		if CodeOf(err) != CodeWrongState {
			return err
		}
		h.Unenforced = true
	}
	return nil
}

// unitStake is the stake attributed to one of the provider's units: its
// bonded plus unbonding stake (still slashable) over its live units.
func unitStake(p *Provider) Amount {
	if p.LiveUnits == 0 {
		return 0
	}
	return (p.Stake + p.UnbondingTotal()) / Amount(p.LiveUnits)
}

// slashProvider takes up to amt from the bonded stake, then from the
// unbonding entries (soonest released first), and returns what it took.
// The tokens stay in PoolStake; the caller moves them.
func slashProvider(p *Provider, amt Amount) Amount {
	take := min(amt, p.Stake)
	p.Stake -= take
	for i := 0; i < len(p.Unbonding) && take < amt; i++ {
		t := min(amt-take, p.Unbonding[i].Amount)
		p.Unbonding[i].Amount -= t
		take += t
	}
	return take
}

func bpsOf(a Amount, bps uint32) Amount {
	v, _ := MulDiv(uint64(a), uint64(bps), BpsDenom)
	return Amount(v)
}

// slashForBreach slashes slash_fraction_bps of the unit's stake: the
// oracle share to the reporters in the median (equal split, remainder to
// the consumers), the rest to the consumers active in epoch e through the
// compensation index (to the rewards pool when there were none).
func slashForBreach(ctx *Context, q qosParams, u *Unit, n uint64, qs *UnitQoS, e int64, inMedian []string, h *UnitEpochQoS, acc *epochAcc) error {
	kv := ctx.KV
	owner, _ := address.Parse(u.Provider)
	p, ok := GetProvider(kv, owner)
	if !ok {
		return nil
	}
	taken := slashProvider(p, bpsOf(unitStake(p), q.SlashBps))
	if taken == 0 {
		return nil
	}
	setProvider(kv, owner, p)
	var each Amount
	if len(inMedian) > 0 {
		each = bpsOf(taken, q.OracleShareBps) / Amount(len(inMedian))
	}
	oracles := each * Amount(len(inMedian))
	if oracles > 0 {
		if err := PoolToPool(kv, PoolStake, PoolOracle, oracles); err != nil {
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
		qs.Compensation += consumers
	} else if consumers > 0 {
		if err := PoolToPool(kv, PoolStake, PoolRewards, consumers); err != nil {
			return err
		}
	}
	h.Slashed, h.OracleShare = taken, oracles
	qs.Slashed += taken
	statsAdd(kv, func(s *NetworkStats) {
		s.Slashed += taken
		s.Compensation += h.Compensation
	})
	return nil
}

// finishUnitEpoch writes the unit's QoS state and history entry.
func finishUnitEpoch(ctx *Context, q qosParams, u *Unit, n uint64, qs *UnitQoS, h *UnitEpochQoS) error {
	kv := ctx.KV
	if h.Status == QoSMaintenance {
		qs.Maintenance++
	}
	qs.LastEpoch = max(qs.LastEpoch, h.Epoch)
	h.Score = u.Score // setScore keeps u in step
	writeUnitHistory(kv, q, n, qs, h)
	setUnitQoS(kv, n, qs)
	return nil
}

// strictest combines two offers term by term (a zero term is not offered).
func strictest(a, b SLAOffer) SLAOffer {
	minNZ := func(x, y uint32) uint32 {
		if x == 0 || (y != 0 && y < x) {
			return y
		}
		return x
	}
	return SLAOffer{
		MaxP95LatencyMs: minNZ(a.MaxP95LatencyMs, b.MaxP95LatencyMs),
		MinUptimeBps:    max(a.MinUptimeBps, b.MinUptimeBps),
		MinDownloadMbps: max(a.MinDownloadMbps, b.MinDownloadMbps),
		MinUploadMbps:   max(a.MinUploadMbps, b.MinUploadMbps),
		MaxErrorRateBps: minNZ(a.MaxErrorRateBps, b.MaxErrorRateBps),
		Durability:      a.Durability || b.Durability,
	}
}

// judgedSLA is the offer epoch e is judged by.
func (qs *UnitQoS) judgedSLA(u *Unit, e, epoch int64) SLAOffer {
	if qs.Strict != nil && e*epoch < qs.StrictUntil.Unix() {
		return strictest(u.SLA, *qs.Strict)
	}
	return u.SLA
}

// qosNoteSLA is called by market/update_unit before the unit's offer
// changes to sla: while reservations may hold the old terms, they keep
// counting. Every such reservation ends by now + accept_timeout +
// max_term (a term, extensions included, is at most max_term).
func qosNoteSLA(kv KV, u *Unit, sla SLAOffer, now int64) {
	if u.LiveReservations == 0 || sla == u.SLA {
		return
	}
	n, _ := parseUnitID(u.ID)
	qs := getUnitQoS(kv, n)
	old := u.SLA
	if qs.Strict != nil && now < qs.StrictUntil.Unix() {
		old = strictest(old, *qs.Strict)
	}
	mp := getMarketParams(kv)
	qs.Strict = &old
	qs.StrictUntil = max(qs.StrictUntil, Time(now+mp.Accept+mp.MaxTerm))
	setUnitQoS(kv, n, qs)
}

// ---- maintenance ----

// qosNoteMaintenance logs the unit's maintenance window as changed by a
// market/unit_maintenance action at now (market_msgs.go calls it).
func qosNoteMaintenance(kv KV, u *Unit, action string, now int64) {
	n, _ := parseUnitID(u.ID)
	qs := getUnitQoS(kv, n)
	q := getQoSParams(kv)
	f := frontier(kv)
	k := 0
	for _, w := range qs.Maint {
		if w.Start.Unix() > now || w.End.Unix() <= (f+1)*q.Epoch {
			continue // superseded (a new action replaces future windows) or final
		}
		if action == MaintenanceEnd && w.End.Unix() > now {
			w.End = Time(now)
		}
		qs.Maint[k] = w
		k++
	}
	qs.Maint = qs.Maint[:k]
	if action != MaintenanceEnd && u.Maintenance != nil {
		qs.Maint = append(qs.Maint, maintLog{Start: u.Maintenance.Start, End: u.Maintenance.End, AnnouncedAt: Time(now)})
		if len(qs.Maint) > 16 {
			qs.Maint = qs.Maint[len(qs.Maint)-16:]
		}
	}
	if len(qs.Maint) == 0 {
		qs.Maint = nil
		kv.Delete(mkKey(keyMaintUnits, be8(n)))
	} else {
		kv.Set(mkKey(keyMaintUnits, be8(n)), []byte{})
	}
	setUnitQoS(kv, n, qs)
}

// maintenanceSweep marks unpaid the newly final epochs covered by announced
// maintenance that no report judged (O(units with a pending window)).
func maintenanceSweep(kv KV, blk Block, q qosParams, fOld, fNew, cur int64, events *[]Event) {
	var units []uint64
	kv.Iterate(keyMaintUnits, PrefixEnd(keyMaintUnits), func(k, _ []byte) bool {
		units = append(units, beU64(k[len(keyMaintUnits):]))
		return true
	})
	from := max(fOld+1, cur-q.Lag, 0)
	for _, n := range units {
		isolated(kv, blk, "qos maintenance "+unitIDString(n), events, func(ctx *Context) error {
			u, ok := getUnitN(ctx.KV, n)
			qs := getUnitQoS(ctx.KV, n)
			if ok && u.Status != UnitDeleted {
				for e := from; e <= fNew; e++ {
					if !qs.maintained(e, q.Epoch) || isBreached(ctx.KV, n, e) {
						continue
					}
					h := UnitEpochQoS{Epoch: e, Status: QoSMaintenance}
					if err := markUnpaid(ctx, u, e, &h); err != nil {
						return err
					}
					if err := finishUnitEpoch(ctx, q, u, n, qs, &h); err != nil {
						return err
					}
					statsEpochCounts(ctx.KV, e, EpochQoSCounts{Maintenance: 1})
				}
			}
			k := 0
			for _, w := range qs.Maint {
				if ok && u.Status != UnitDeleted && w.End.Unix() > (fNew+1)*q.Epoch {
					qs.Maint[k] = w
					k++
				}
			}
			qs.Maint = qs.Maint[:k]
			if k == 0 {
				qs.Maint = nil
				ctx.KV.Delete(mkKey(keyMaintUnits, be8(n)))
			}
			setUnitQoS(ctx.KV, n, qs)
			return nil
		})
	}
}

// ---- scoring periods ----

// finalizePeriods finalizes the ended scoring periods (<= the last one
// whose epochs are all final) of units with data in them, then decays the
// scores of units scheduled for decay that had none.
func finalizePeriods(kv KV, blk Block, q qosParams, fNew int64, events *[]Event) {
	pmax := (fNew+1)/q.Period - 1
	if pmax < 0 {
		return
	}
	collect := func(prefix []byte) (keys [][]byte) {
		kv.Iterate(prefix, mkKey(prefix, be8(uint64(pmax+1))), func(k, _ []byte) bool {
			keys = append(keys, append([]byte(nil), k...))
			return true
		})
		return keys
	}
	sp, dk := collect(keyScorePeriod), collect(keyDecay)
	i, j := 0, 0
	for i < len(sp) || j < len(dk) {
		// Next period with work, data before decay.
		var p int64 = -1
		if i < len(sp) {
			p = int64(beU64(sp[i][len(keyScorePeriod) : len(keyScorePeriod)+8]))
		}
		if j < len(dk) {
			if pd := int64(beU64(dk[j][len(keyDecay) : len(keyDecay)+8])); p < 0 || pd < p {
				p = pd
			}
		}
		for ; i < len(sp) && int64(beU64(sp[i][len(keyScorePeriod):len(keyScorePeriod)+8])) == p; i++ {
			k := sp[i]
			n := beU64(k[len(keyScorePeriod)+8:])
			isolated(kv, blk, "qos score "+unitIDString(n), events, func(ctx *Context) error {
				ctx.KV.Delete(k)
				u, ok := getUnitN(ctx.KV, n)
				qs := getUnitQoS(ctx.KV, n)
				if !ok || u.Status == UnitDeleted || qs.Period != p {
					return nil
				}
				if err := finalizeUnitPeriod(ctx, q, u, n, qs, p); err != nil {
					return err
				}
				setUnitQoS(ctx.KV, n, qs)
				return nil
			})
		}
		for ; j < len(dk) && int64(beU64(dk[j][len(keyDecay):len(keyDecay)+8])) == p; j++ {
			k := dk[j]
			n := beU64(k[len(keyDecay)+8:])
			isolated(kv, blk, "qos decay "+unitIDString(n), events, func(ctx *Context) error {
				ctx.KV.Delete(k)
				u, ok := getUnitN(ctx.KV, n)
				qs := getUnitQoS(ctx.KV, n)
				if !ok || u.Status == UnitDeleted || qs.LastScored >= p || (qs.Period == p && qs.PEpochs > 0) {
					return nil // scored on its data instead
				}
				step := int64(q.DecayPerMonth) * 1000 * q.Period * q.Epoch / MonthSeconds
				s := qs.ScoreMilli
				switch {
				case s > 50_000:
					s = max(50_000, s-step)
				case s < 50_000:
					s = min(50_000, s+step)
				}
				if err := setScore(ctx, q, u, qs, s, 0); err != nil {
					return err
				}
				qs.LastScored = p
				if s != 50_000 {
					ctx.KV.Set(mkKey(keyDecay, be8(uint64(p+1)), be8(n)), []byte{})
				}
				setUnitQoS(ctx.KV, n, qs)
				return nil
			})
		}
	}
}

// finalizeUnitPeriod applies period p's score change and reputation reward
// or slash to the unit (qs must hold p's accumulators; it is not saved).
func finalizeUnitPeriod(ctx *Context, q qosParams, u *Unit, n uint64, qs *UnitQoS, p int64) error {
	if qs.PEpochs == 0 {
		return nil
	}
	var d int64 = 1
	if qs.PUnreachable {
		d = -1
	}
	if qs.PBreached {
		d -= 2
	} else {
		d += 2
	}
	if qs.PWorse {
		d -= 3
	} else if qs.PBeat == qs.PEpochs {
		d += 3
	}
	s := min(max(qs.ScoreMilli+d*1000, 0), 100_000)
	if err := setScore(ctx, q, u, qs, s, d); err != nil {
		return err
	}
	qs.LastScored = p
	qs.Period, qs.PEpochs, qs.PBeat, qs.PUnreachable, qs.PBreached, qs.PWorse = -1, 0, 0, false, false, false
	if s != 50_000 {
		ctx.KV.Set(mkKey(keyDecay, be8(uint64(p+1)), be8(n)), []byte{})
	}
	return reputation(ctx, q, u, qs)
}

// setScore moves the unit's score (in milli-points), keeping the market's
// score index, the provider's mean and the warning/suspension state right.
func setScore(ctx *Context, q qosParams, u *Unit, qs *UnitQoS, milli int64, delta int64) error {
	kv := ctx.KV
	qs.ScoreMilli = milli
	qs.LastDelta = delta
	score := uint32((milli + 500) / 1000)
	if err := SetUnitScore(kv, u.ID, score); err != nil {
		return err
	}
	u.Score = score
	ctx.Emit("unit_score", "unit", u.ID, "score", utoa(uint64(score)), "delta", itoa(delta))
	if owner, err := address.Parse(u.Provider); err == nil {
		if p, ok := GetProvider(kv, owner); ok {
			p.Score = ProviderScoreOf(kv, owner)
			setProvider(kv, owner, p)
		}
	}
	switch {
	case score < q.Suspend && !qs.Suspended:
		qs.Suspended = true
		ctx.Emit("unit_suspended", "unit", u.ID, "provider", u.Provider, "score", utoa(uint64(score)))
	case score >= q.Suspend && qs.Suspended:
		qs.Suspended = false
		ctx.Emit("unit_reinstated", "unit", u.ID, "provider", u.Provider, "score", utoa(uint64(score)))
	}
	if score < q.Warn {
		ctx.Emit("score_warning", "unit", u.ID, "provider", u.Provider, "score", utoa(uint64(score)),
			"warn_score", utoa(uint64(q.Warn)), "suspend_score", utoa(uint64(q.Suspend)))
	}
	return nil
}

// reputation pays (score >= 80: 12 %/yr, 60-79: 5 %/yr) or slashes
// (20-39: 5 %/yr, <= 19: 12 %/yr) the unit's stake for one period.
func reputation(ctx *Context, q qosParams, u *Unit, qs *UnitQoS) error {
	kv := ctx.KV
	owner, _ := address.Parse(u.Provider)
	p, ok := GetProvider(kv, owner)
	if !ok {
		return nil
	}
	var bps uint64
	reward := true
	switch s := u.Score; {
	case s >= 80:
		bps = apyHighBps
	case s >= 60:
		bps = apyMidBps
	case s >= 40:
		return nil
	case s >= 20:
		bps, reward = apyLowBps, false
	default:
		bps, reward = apyBottomBps, false
	}
	periodSec := uint64(q.Period * q.Epoch)
	amt, err := MulDiv(uint64(unitStake(p)), bps*periodSec, BpsDenom*uint64(YearSeconds))
	if err != nil || amt == 0 {
		return nil
	}
	if reward {
		a := min(Amount(amt), PoolBalance(kv, PoolRewards))
		if a == 0 {
			return nil
		}
		if err := FromPool(kv, PoolRewards, owner, a); err != nil {
			return err
		}
		qs.Rewarded += a
		statsAdd(kv, func(s *NetworkStats) { s.Rewarded += a })
		ctx.Emit("reputation_reward", "unit", u.ID, "provider", u.Provider, "amount", a.String())
		return nil
	}
	a := slashProvider(p, Amount(amt))
	if a == 0 {
		return nil
	}
	setProvider(kv, owner, p)
	if err := PoolToPool(kv, PoolStake, PoolRewards, a); err != nil {
		return err
	}
	qs.RepSlashed += a
	statsAdd(kv, func(s *NetworkStats) { s.ReputationSlashed += a })
	ctx.Emit("reputation_slash", "unit", u.ID, "provider", u.Provider, "amount", a.String())
	return nil
}

// ---- oracle payouts ----

// closeEpoch pays the oracles their slash shares (held in PoolOracle) and
// their share of the platform fees collected since the last payout,
// weighted by their reports in the median (outliers get none), and
// records their stats and the epoch's counts.
func closeEpoch(ctx *Context, q qosParams, e int64, acc *epochAcc) error {
	kv := ctx.KV
	names := map[string]bool{}
	for o := range acc.inMedian {
		names[o] = true
	}
	for o := range acc.outliers {
		names[o] = true
	}
	for o := range acc.reward {
		names[o] = true
	}
	oracles := make([]string, 0, len(names))
	for o := range names {
		oracles = append(oracles, o)
	}
	sort.Strings(oracles)
	var total uint64
	for _, o := range oracles {
		total += acc.inMedian[o]
	}
	st := getStats(kv)
	var budget Amount
	if total > 0 && st.Fees > Amount(getU64(kv, keyFeeShared)) {
		budget = min(bpsOf(st.Fees-Amount(getU64(kv, keyFeeShared)), q.OracleShareBps), PoolBalance(kv, PoolTreasury))
		setU64(kv, keyFeeShared, uint64(st.Fees))
	}
	var rewarded Amount
	for _, o := range oracles {
		raw := []byte(o)
		rec, ok := GetOracle(kv, raw)
		if !ok {
			continue
		}
		pay := acc.reward[o]
		if pay > 0 {
			if err := FromPool(kv, PoolOracle, raw, pay); err != nil {
				return err
			}
		}
		if c := acc.inMedian[o]; c > 0 && budget > 0 {
			f, err := MulDiv(uint64(budget), c, total)
			if err != nil {
				return err
			}
			if f > 0 {
				if err := FromPool(kv, PoolTreasury, raw, Amount(f)); err != nil {
					return err
				}
				pay += Amount(f)
			}
		}
		rec.InMedian += acc.inMedian[o]
		rec.Outliers += acc.outliers[o]
		rec.Rewards += pay
		rewarded += pay
		setOracle(kv, raw, rec)
		if pay > 0 {
			ctx.Emit("oracle_reward", "oracle", rec.Address, "epoch", itoa(e), "amount", pay.String())
		}
	}
	if rest := PoolBalance(kv, PoolOracle); rest > 0 {
		// Shares of oracles gone since (cannot happen: records are kept).
		if err := PoolToPool(kv, PoolOracle, PoolTreasury, rest); err != nil {
			return err
		}
	}
	if rewarded > 0 {
		statsAdd(kv, func(s *NetworkStats) { s.OracleRewards += rewarded })
	}
	statsEpochCounts(kv, e, acc.counts)
	return nil
}

// checkNotSuspended rejects new reservations on a unit whose score is
// below suspend_score (market/reserve calls it).
func checkNotSuspended(kv KV, u *Unit) error {
	if q := getQoSParams(kv); u.Score < q.Suspend {
		return Errf(CodeUnitSuspended, "unit %s is suspended: its score %d is below suspend_score %d; choose another unit", u.ID, u.Score, q.Suspend)
	}
	return nil
}
