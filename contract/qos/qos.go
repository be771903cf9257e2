// Package qos is the quality-of-service module: oracles, reports, SLA
// enforcement, scores, rewards and stats (DESIGN.md sections 3-4, issue 4).
// It builds on the market; the market calls back only through the
// market.Quality hooks (keeper.go). qos.go holds the records, params and
// messages; epoch.go, judge.go, maintenance.go, score.go and payouts.go the
// epoch-end work; comp.go the compensation index; stats.go the stats and
// queries.
//
// State layout (all keys under "q/"; ids and epochs 8-byte big endian):
//
//	q/o/{oracle}                     oracle record
//	q/nact                           number of active oracles (8 bytes)
//	q/seq/unbond                     oracle unbonding sequence
//	q/qb/{time}{oracle}{seq}         oracle unbonding queue
//	q/rep/{epoch}{unit}{oracle}      one oracle's measurement of a unit, until processed
//	q/rd/{epoch}{oracle}             "oracle reported for epoch" marker, until processed
//	q/front                          last epoch whose reports are final and processed (8 bytes)
//	q/u/{unit}                       per-unit QoS state
//	q/ci/{unit}{epoch}               compensation index before epoch's delta (decimal)
//	q/cdust                          compensation rounding dust (scaled, decimal)
//	q/mu/{unit}                      units with a pending maintenance window
//	q/sp/{period}{unit}              units with data in a scoring period
//	q/dk/{period}{unit}              units whose score decays at the end of a period
//	q/ps/{owner}                     provider score sums
//	q/st                             network totals
//	q/fee                            fees already shared with oracles (8 bytes)
//	q/se/{epoch}                     per-epoch stats, last history_epochs
//	q/uh/{unit}{epoch}               per-unit QoS history, last history_epochs
//	q/snap                           last epoch snapshotted (8 bytes)
package qos

// The records are stored in the binary codec (codec_*.go, generated).
//go:generate go run ../store/recordgen -out codec.go -addr Oracle.Address Oracle UnitMeasurement UnitQoS uptimeEntry maintLog compRingEntry UnitEpochQoS NetworkStats EpochStats EpochQoSCounts ProviderScoreSums

import (
	"fmt"
	"strconv"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/params"
	"github.com/flashback-network/flashback/contract/store"
)

// PoolCompensation holds slashed stake owed to consumers until their
// reservations collect it. PoolOracle holds oracle rewards between the unit
// that produced them and the payout at the end of the same epoch's work (it
// is empty after every block).
const (
	PoolCompensation = "compensation"
	PoolOracle       = "oracle"
)

var (
	KeyOracle      = []byte("q/o/")
	keyOracleCount = []byte("q/nact")
	keySeqOUnbond  = []byte("q/seq/unbond")
	keyOQueue      = []byte("q/qb/")
	keyReport      = []byte("q/rep/")
	keyReported    = []byte("q/rd/")
	keyFrontier    = []byte("q/front")
	keyUnitQoS     = []byte("q/u/")
	keyCompIdx     = []byte("q/ci/")
	keyCompDust    = []byte("q/cdust")
	keyMaintUnits  = []byte("q/mu/")
	keyScorePeriod = []byte("q/sp/")
	keyDecay       = []byte("q/dk/")
	keyProvScore   = []byte("q/ps/")
	keyStats       = []byte("q/st")
	keyFeeShared   = []byte("q/fee")
	keyEpochStats  = []byte("q/se/")
	keyUnitHist    = []byte("q/uh/")
	keySnap        = []byte("q/snap")
)

// YearSeconds is the year APYs are quoted over (365 days).
const YearSeconds = int64(365 * 86400)

// Reputation APYs in basis points per year, by score band.
const (
	apyHighBps   = 1200 // score >= 80
	apyMidBps    = 500  // 60..79
	apyLowBps    = 500  // 20..39, slashed
	apyBottomBps = 1200 // <= 19, slashed
)

// ---- params ----

// qosParams are the QoS tunables with defaults substituted for zero values.
type qosParams struct {
	Epoch          int64
	Lag            int64
	MinStake       core.Amount
	QuorumBps      uint32
	Grace          int64
	MaxUnits       int
	Window         int64
	SlashBps       uint32
	OracleShareBps uint32
	Period         int64
	Warn           uint32
	Suspend        uint32
	DecayPerMonth  uint32
	OutlierBps     uint32
	History        int64
	Unbonding      int64
}

func getQoSParams(kv store.KV) qosParams {
	p := params.Get(kv)
	d := params.Default()
	mp := market.ParamsOf(kv)
	q := qosParams{
		Epoch: mp.Epoch, Lag: mp.Lag, MinStake: p.MinOracleStake, QuorumBps: p.QuorumBps,
		Grace: p.ReportGraceEpochs, MaxUnits: int(p.MaxUnitsPerReport), Window: p.UptimeWindowEpochs,
		SlashBps: p.SlashFractionBps, OracleShareBps: p.OracleShareBps, Period: p.ScorePeriodEpochs,
		Warn: p.WarnScore, Suspend: p.SuspendScore, DecayPerMonth: p.DecayPerMonth,
		OutlierBps: p.OutlierBps, History: p.HistoryEpochs, Unbonding: mp.Unbonding,
	}
	if q.MinStake == 0 {
		q.MinStake = d.MinOracleStake
	}
	if q.QuorumBps > market.BpsDenom {
		q.QuorumBps = market.BpsDenom
	}
	// Reports for epoch e close at the end of epoch e+1+grace and are
	// processed in the next block; the market can still mark e breached
	// only while e >= current-settle_lag, so grace is at most lag-2.
	q.Grace = max(0, min(q.Grace, q.Lag-2))
	if q.MaxUnits <= 0 {
		q.MaxUnits = int(d.MaxUnitsPerReport)
	}
	if q.Window <= 0 {
		q.Window = d.UptimeWindowEpochs
	}
	if q.SlashBps == 0 {
		q.SlashBps = d.SlashFractionBps
	}
	q.SlashBps = min(q.SlashBps, market.BpsDenom)
	if q.OracleShareBps == 0 {
		q.OracleShareBps = d.OracleShareBps
	}
	q.OracleShareBps = min(q.OracleShareBps, market.BpsDenom)
	if q.Period <= 0 {
		q.Period = d.ScorePeriodEpochs
	}
	if q.Warn == 0 {
		q.Warn = d.WarnScore
	}
	if q.Suspend == 0 {
		q.Suspend = d.SuspendScore
	}
	if q.DecayPerMonth == 0 {
		q.DecayPerMonth = d.DecayPerMonth
	}
	if q.OutlierBps == 0 {
		q.OutlierBps = d.OutlierBps
	}
	if q.History <= 0 {
		q.History = d.HistoryEpochs
	}
	return q
}

// quorum is the number of reports a unit needs in an epoch.
func (q qosParams) quorum(active uint64) uint64 {
	bps := uint64(q.QuorumBps)
	if bps == 0 {
		return max(1, (2*active+2)/3)
	}
	return max(1, (active*bps+market.BpsDenom-1)/market.BpsDenom)
}

// ---- records ----

// Oracle is a bonded QoS reporter.
type Oracle struct {
	Address       string                  `json:"address"`
	Stake         core.Amount             `json:"stake"`
	Unbonding     []market.UnbondingEntry `json:"unbonding"`
	Active        bool                    `json:"active"`
	RegisteredAt  core.Time               `json:"registered_at"`
	UpdatedAt     core.Time               `json:"updated_at"`
	Reports       uint64                  `json:"reports"`
	UnitsReported uint64                  `json:"units_reported"`
	InMedian      uint64                  `json:"in_median"` // unit reports that entered the median
	Outliers      uint64                  `json:"outliers"`  // unit reports far from the median
	LastEpoch     int64                   `json:"last_epoch"`
	Rewards       core.Amount             `json:"rewards"` // oracle rewards received
}

// UnbondingTotal is the sum of the oracle's unbonding entries.
func (o *Oracle) UnbondingTotal() core.Amount {
	var t core.Amount
	for _, e := range o.Unbonding {
		t += e.Amount
	}
	return t
}

// UnitMeasurement is one oracle's measurement of one unit in one epoch.
type UnitMeasurement struct {
	Unit            string `json:"unit"`
	Probes          uint32 `json:"probes"`
	Successes       uint32 `json:"successes"`
	P50Ms           uint32 `json:"p50_ms"`
	P95Ms           uint32 `json:"p95_ms"`
	DownMbps        uint32 `json:"down_mbps"`
	UpMbps          uint32 `json:"up_mbps"`
	IntegrityPassed uint32 `json:"integrity_passed"`
	IntegrityFailed uint32 `json:"integrity_failed"`
}

func oracleKey(raw []byte) []byte { return store.Key(KeyOracle, raw) }

// GetOracle reads an oracle by raw address.
func GetOracle(kv store.KV, raw []byte) (*Oracle, bool) {
	var o Oracle
	if !store.Get(kv, oracleKey(raw), &o) {
		return nil, false
	}
	return &o, true
}

func setOracle(kv store.KV, raw []byte, o *Oracle) { store.Set(kv, oracleKey(raw), o) }

// ActiveOracles is the number of registered, not deregistered oracles.
func ActiveOracles(kv store.KV) uint64 { return store.GetUint64(kv, keyOracleCount) }

// ---- oracle messages ----

// MsgRegisterOracle makes the signer an oracle, bonding Stake (at least
// min_oracle_stake) into the stake pool.
type MsgRegisterOracle struct {
	Stake core.Amount `json:"stake"`
}

func (m *MsgRegisterOracle) ValidateBasic() error {
	if m.Stake == 0 {
		return core.Errf(core.CodeInvalidAmount, "stake must be positive (at least min_oracle_stake)")
	}
	return nil
}

func handleRegisterOracle(ctx *core.Context, signer []byte, m *MsgRegisterOracle) error {
	q := getQoSParams(ctx.KV)
	o, ok := GetOracle(ctx.KV, signer)
	if ok && o.Active {
		return core.Errf(core.CodeAlreadyExists, "%s is already an oracle", address.Encode(signer))
	}
	if m.Stake < q.MinStake {
		return core.Errf(core.CodeInsufficientStake, "stake %d%s is below min_oracle_stake %d%s", m.Stake, core.Denom, q.MinStake, core.Denom)
	}
	if !ok {
		o = &Oracle{Address: address.Encode(signer), LastEpoch: -1}
	}
	if err := bank.ToPool(ctx.KV, signer, bank.PoolStake, m.Stake); err != nil {
		return err
	}
	var err error
	if o.Stake, err = core.Add(o.Stake, m.Stake); err != nil {
		return err
	}
	o.Active = true
	o.RegisteredAt, o.UpdatedAt = core.Time(ctx.Now()), core.Time(ctx.Now())
	setOracle(ctx.KV, signer, o)
	store.SetUint64(ctx.KV, keyOracleCount, ActiveOracles(ctx.KV)+1)
	statsAdd(ctx.KV, func(s *NetworkStats) { s.Oracles++ })
	ctx.Emit("oracle_registered", "oracle", o.Address, "stake", o.Stake.String())
	return nil
}

// MsgDeregisterOracle retires the signer's oracle: it stops counting for
// quorum at once (reports already accepted still count) and its stake
// unbonds over unbonding_period, staying slashable until released.
type MsgDeregisterOracle struct{}

func (m *MsgDeregisterOracle) ValidateBasic() error { return nil }

func handleDeregisterOracle(ctx *core.Context, signer []byte, m *MsgDeregisterOracle) error {
	o, ok := GetOracle(ctx.KV, signer)
	if !ok || !o.Active {
		return core.Errf(core.CodeNotOracle, "%s is not an active oracle", address.Encode(signer))
	}
	q := getQoSParams(ctx.KV)
	if o.Stake > 0 {
		seq := store.NextSequence(ctx.KV, keySeqOUnbond)
		at := ctx.Now() + q.Unbonding
		o.Unbonding = append(o.Unbonding, market.UnbondingEntry{Amount: o.Stake, ReleaseAt: core.Time(at), Seq: seq})
		ctx.KV.Set(store.Key(keyOQueue, store.EncodeUint64(uint64(at)), signer, store.EncodeUint64(seq)), []byte{})
		ctx.Emit("oracle_unbond", "oracle", o.Address, "amount", o.Stake.String(), "release_at", itoa(at))
		o.Stake = 0
	}
	o.Active = false
	o.UpdatedAt = core.Time(ctx.Now())
	setOracle(ctx.KV, signer, o)
	store.SetUint64(ctx.KV, keyOracleCount, ActiveOracles(ctx.KV)-1)
	statsAdd(ctx.KV, func(s *NetworkStats) { s.Oracles-- })
	ctx.Emit("oracle_deregistered", "oracle", o.Address)
	return nil
}

// ---- report ----

// hardMaxUnitsPerReport bounds a report before state is read; the
// max_units_per_report param is checked in Handle.
const hardMaxUnitsPerReport = 100_000

// MsgReport is an oracle's measurements for one ended epoch. One per
// oracle per epoch, for the epoch that just ended (or up to
// report_grace_epochs before it).
type MsgReport struct {
	Epoch int64             `json:"epoch"`
	Units []UnitMeasurement `json:"units"`

	// unitNs are the units' numbers, parsed once by ValidateBasic (which
	// DecodeMsg runs) for the handler.
	unitNs []uint64
}

// unitNumbers are the reported units' numbers (parsed by ValidateBasic;
// parsed here for a message that did not pass through it).
func (m *MsgReport) unitNumbers() ([]uint64, error) {
	if len(m.unitNs) == len(m.Units) {
		return m.unitNs, nil
	}
	ns := make([]uint64, len(m.Units))
	for i, u := range m.Units {
		n, err := market.ParseUnitID(u.Unit)
		if err != nil {
			return nil, fmt.Errorf("units[%d]: %w", i, err)
		}
		ns[i] = n
	}
	return ns, nil
}

func (m *MsgReport) ValidateBasic() error {
	if m.Epoch < 0 {
		return core.Errf(core.CodeInvalidMessage, "epoch must not be negative")
	}
	if len(m.Units) == 0 {
		return core.Errf(core.CodeInvalidMessage, "units is empty: report at least one unit")
	}
	if len(m.Units) > hardMaxUnitsPerReport {
		return core.Errf(core.CodeTooManyUnits, "report has %d units, at most %d", len(m.Units), hardMaxUnitsPerReport)
	}
	m.unitNs = nil
	ns, err := m.unitNumbers()
	if err != nil {
		return err
	}
	seen := make(map[uint64]bool, len(m.Units))
	for i, u := range m.Units {
		n := ns[i]
		if seen[n] {
			return core.Errf(core.CodeInvalidMessage, "units[%d]: unit %s is listed twice; send one measurement per unit", i, u.Unit)
		}
		seen[n] = true
		if u.Probes == 0 {
			return core.Errf(core.CodeInvalidMessage, "units[%d] (%s): probes must be positive (an unreachable unit is probes > 0, successes 0)", i, u.Unit)
		}
		if u.Successes > u.Probes {
			return core.Errf(core.CodeInvalidMessage, "units[%d] (%s): successes %d exceed probes %d", i, u.Unit, u.Successes, u.Probes)
		}
		if u.P50Ms > u.P95Ms {
			return core.Errf(core.CodeInvalidMessage, "units[%d] (%s): p50_ms %d exceeds p95_ms %d", i, u.Unit, u.P50Ms, u.P95Ms)
		}
	}
	m.unitNs = ns
	return nil
}

func reportKey(e int64, unitN uint64, oracle []byte) []byte {
	return store.Key(keyReport, store.EncodeUint64(uint64(e)), store.EncodeUint64(unitN), oracle)
}

func handleReport(ctx *core.Context, signer []byte, m *MsgReport) error {
	kv := ctx.KV
	o, ok := GetOracle(kv, signer)
	if !ok || !o.Active {
		return core.Errf(core.CodeNotOracle, "%s is not an active oracle; send qos/register_oracle first", address.Encode(signer))
	}
	q := getQoSParams(kv)
	cur := market.EpochOf(ctx.Now(), q.Epoch)
	if m.Epoch >= cur {
		return core.Errf(core.CodeFutureEpoch, "epoch %d has not ended (current epoch %d); report it once it is over", m.Epoch, cur)
	}
	if m.Epoch < cur-1-q.Grace {
		return core.Errf(core.CodeLateReport, "epoch %d is closed for reports (current epoch %d accepts epochs %d..%d)", m.Epoch, cur, max(cur-1-q.Grace, 0), cur-1)
	}
	mark := store.Key(keyReported, store.EncodeUint64(uint64(m.Epoch)), signer)
	if kv.Get(mark) != nil {
		return core.Errf(core.CodeDuplicateReport, "oracle %s already reported epoch %d", o.Address, m.Epoch)
	}
	if len(m.Units) > q.MaxUnits {
		return core.Errf(core.CodeTooManyUnits, "report has %d units, max_units_per_report is %d; split it over fewer units", len(m.Units), q.MaxUnits)
	}
	epochEnd := (m.Epoch + 1) * q.Epoch
	ns, err := m.unitNumbers()
	if err != nil {
		return err
	}
	for i := range m.Units {
		um := &m.Units[i]
		n := ns[i]
		u, ok := market.GetUnitN(kv, n)
		if !ok {
			return core.Errf(core.CodeNotFound, "units[%d]: unit %s not found", i, um.Unit)
		}
		if u.Status == market.UnitDeleted {
			return core.Errf(core.CodeWrongState, "units[%d]: unit %s is deleted", i, um.Unit)
		}
		if u.CreatedAt.Unix() >= epochEnd {
			return core.Errf(core.CodeWrongState, "units[%d]: unit %s was created after epoch %d ended", i, um.Unit, m.Epoch)
		}
		v := *um
		v.Unit = "" // the key names it
		store.Set(kv, reportKey(m.Epoch, n, signer), &v)
	}
	kv.Set(mark, []byte{1})
	o.Reports++
	o.UnitsReported += uint64(len(m.Units))
	o.LastEpoch = max(o.LastEpoch, m.Epoch)
	setOracle(kv, signer, o)
	ctx.Emit("qos_report", "oracle", o.Address, "epoch", itoa(m.Epoch), "units", itoa(int64(len(m.Units))))
	return nil
}

// ---- compensation claim ----

// MsgClaimCompensation pays the consumer the compensation its active
// reservation has earned so far (it is also paid when the reservation
// ends or is resized).
type MsgClaimCompensation struct {
	Reservation string `json:"reservation"`

	// resN is Reservation's number, parsed once by ValidateBasic.
	resN uint64
}

func (m *MsgClaimCompensation) ValidateBasic() error {
	n, err := market.ParseResID(m.Reservation)
	m.resN = n
	return err
}

func handleClaimCompensation(ctx *core.Context, signer []byte, m *MsgClaimCompensation) error {
	n, err := market.ResNumber(m.resN, m.Reservation)
	if err != nil {
		return err
	}
	r, u, err := market.ConsumerRes(ctx.KV, signer, n)
	if err != nil {
		return err
	}
	if r.Status != market.ResActive {
		return core.Errf(core.CodeWrongState, "reservation %s is %s; only active reservations earn compensation", r.ID, r.Status)
	}
	paid, err := compCollect(ctx, u, r, compClaim)
	if err != nil {
		return err
	}
	market.SetReservation(ctx.KV, r)
	if paid == 0 {
		return core.Errf(core.CodeNotFound, "reservation %s has no compensation to claim", r.ID)
	}
	return nil
}

// ---- oracle unbonding (EndBlock) ----

// EndBlock releases oracle stake whose unbonding is over.
func EndBlock(kv store.KV, blk core.Block) []core.Event {
	now := blk.Time.Unix()
	var events []core.Event
	for _, k := range market.DueKeys(kv, keyOQueue, now, market.MaxQueuedPerBlock) {
		rest := k[len(keyOQueue)+8:]
		owner, seq := rest[:address.Len], store.DecodeUint64(rest[address.Len:])
		events = append(events, market.RunIsolated(kv, blk, "oracle unbond", func(ctx *core.Context) error {
			ctx.KV.Delete(k)
			o, ok := GetOracle(ctx.KV, owner)
			if !ok {
				return nil
			}
			left, amt, found, err := market.ReleaseUnbonding(ctx.KV, owner, o.Unbonding, seq)
			if err != nil || !found {
				return err
			}
			o.Unbonding = left
			setOracle(ctx.KV, owner, o)
			ctx.Emit("oracle_unbonded", "oracle", o.Address, "amount", amt.String())
			return nil
		})...)
	}
	return events
}

func itoa(v int64) string  { return strconv.FormatInt(v, 10) }
func utoa(v uint64) string { return strconv.FormatUint(v, 10) }
