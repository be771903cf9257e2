package qos

// Epoch-end QoS work, in BeginBlock after the market's term-end queue
// (epochwork.go bounds it per block).
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

	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/store"
)

type uptimeEntry struct {
	Epoch     int64  `json:"epoch"`
	Probes    uint64 `json:"probes"`
	Successes uint64 `json:"successes"`
}

// maintLog is an announced maintenance window and when it was announced.
type maintLog struct {
	Start       core.Time `json:"start"`
	End         core.Time `json:"end"`
	AnnouncedAt core.Time `json:"announced_at"`
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
	Judged       uint64      `json:"epochs_judged"`
	Compliant    uint64      `json:"epochs_compliant"`
	Breached     uint64      `json:"epochs_breached"`
	NoQuorum     uint64      `json:"epochs_no_quorum"`
	Maintenance  uint64      `json:"epochs_maintenance"`
	LastEpoch    int64       `json:"last_epoch"`
	HistLast     int64       `json:"hist_last"` // latest history entry, -1 none
	UptimeBps    uint32      `json:"uptime_bps"`
	P95Ms        uint32      `json:"p95_ms"`
	DownMbps     uint32      `json:"down_mbps"`
	UpMbps       uint32      `json:"up_mbps"`
	ErrorRateBps uint32      `json:"error_rate_bps"`
	Slashed      core.Amount `json:"slashed"`
	Compensation core.Amount `json:"compensation"`
	Rewarded     core.Amount `json:"rewarded"`
	RepSlashed   core.Amount `json:"reputation_slashed"`
	Suspended    bool        `json:"suspended"`

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
	Strict      *market.SLAOffer `json:"strict_sla,omitempty"`
	StrictUntil core.Time        `json:"strict_until,omitempty"`

	// Held epochs (hold.go): how many were held, the current run of
	// consecutive held epochs and its last epoch, and whether the run is
	// longer than hold_epochs.
	Held        uint64 `json:"epochs_held"`
	HeldRun     uint64 `json:"held_run"`
	HeldLast    int64  `json:"held_last"`
	HoldTooLong bool   `json:"hold_too_long"`
}

func unitQoSKey(n uint64) []byte { return store.Key(keyUnitQoS, store.EncodeUint64(n)) }

// GetUnitQoS reads unit n's QoS state (the zero state when none).
func GetUnitQoS(kv store.KV, n uint64) *UnitQoS {
	q := &UnitQoS{ScoreMilli: market.DefaultScore * 1000, Period: -1, LastScored: -1, LastEpoch: -1, HistLast: -1, CompIndex: "0"}
	store.Get(kv, unitQoSKey(n), q)
	return q
}

// SetUnitQoS writes unit n's QoS state.
func SetUnitQoS(kv store.KV, n uint64, q *UnitQoS) { store.Set(kv, unitQoSKey(n), q) }

// Epoch outcomes in the history and stats.
const (
	QoSCompliant   = "compliant"
	QoSBreached    = "breached"
	QoSNoQuorum    = "no_quorum"
	QoSMaintenance = "maintenance"
)

// UnitEpochQoS is one unit's QoS outcome in one epoch.
type UnitEpochQoS struct {
	Epoch           int64       `json:"epoch"`
	Status          string      `json:"status"`
	Reporters       int         `json:"reporters"`
	Quorum          uint64      `json:"quorum"`
	Probes          uint32      `json:"probes"`
	Successes       uint32      `json:"successes"`
	P50Ms           uint32      `json:"p50_ms"`
	P95Ms           uint32      `json:"p95_ms"`
	DownMbps        uint32      `json:"down_mbps"`
	UpMbps          uint32      `json:"up_mbps"`
	IntegrityPassed uint32      `json:"integrity_passed"`
	IntegrityFailed uint32      `json:"integrity_failed"`
	UptimeBps       uint32      `json:"uptime_bps"` // over the rolling window
	ErrorRateBps    uint32      `json:"error_rate_bps"`
	Terms           []string    `json:"breached_terms,omitempty"`
	Unenforced      bool        `json:"unenforced,omitempty"` // too old for the settlement to refund
	Slashed         core.Amount `json:"slashed"`
	Compensation    core.Amount `json:"compensation"`
	OracleShare     core.Amount `json:"oracle_share"`
	Score           uint32      `json:"score"`
}

type unitRep struct {
	oracle string // raw address
	m      UnitMeasurement
}

// epochAcc collects, for one epoch, what oracles earned and what happened.
type epochAcc struct {
	epoch    int64
	inMedian map[string]uint64
	outliers map[string]uint64
	reward   map[string]core.Amount // slash shares, held in PoolOracle
	farN     map[string]uint64      // reports outside outlier_tolerance_bps (outlier.go)
	okN      map[string]uint64      // reports checked and within it
	counts   EpochQoSCounts
}

func newEpochAcc(e int64) *epochAcc {
	return &epochAcc{epoch: e, inMedian: map[string]uint64{}, outliers: map[string]uint64{}, reward: map[string]core.Amount{},
		farN: map[string]uint64{}, okN: map[string]uint64{}}
}

func (a *epochAcc) merge(b *epochAcc) {
	for k, v := range b.inMedian {
		a.inMedian[k] = satAdd(a.inMedian[k], v)
	}
	for k, v := range b.outliers {
		a.outliers[k] = satAdd(a.outliers[k], v)
	}
	for k, v := range b.reward {
		a.reward[k] += v // shares of slashes held in PoolOracle: bounded by the pool
	}
	for k, v := range b.farN {
		a.farN[k] = satAdd(a.farN[k], v)
	}
	for k, v := range b.okN {
		a.okN[k] = satAdd(a.okN[k], v)
	}
	a.counts.add(b.counts)
}

// isolated runs fn on a cache over kv and keeps its writes only if it
// succeeds; a failure becomes a qos_error event.
func isolated(kv store.KV, blk core.Block, what string, events *[]core.Event, fn func(ctx *core.Context) error) bool {
	c := store.NewCache(kv)
	ctx := &core.Context{KV: c, Block: blk}
	if err := fn(ctx); err != nil {
		*events = append(*events, core.Event{Type: "qos_error", Attrs: []core.Attr{{Key: "what", Value: what}, {Key: "error", Value: err.Error()}}})
		return false
	}
	c.Write()
	*events = append(*events, ctx.Events()...)
	return true
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
	return d*market.BpsDenom > int64(bps)*max(int64(med), 1)
}
