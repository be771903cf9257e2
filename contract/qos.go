package contract

// QoS: oracles, reports, SLA enforcement, scores, rewards and stats
// (DESIGN.md sections 3-4, issue 4). This file holds the records, params
// and messages; qos_epoch.go the epoch-end work; qos_comp.go the
// compensation index; qos_stats.go the stats and queries.
//
// State layout (all keys under "q/"; ids and epochs 8-byte big endian):
//
//	q/o/{oracle}                     oracle record (JSON)
//	q/nact                           number of active oracles (8 bytes)
//	q/seq/unbond                     oracle unbonding sequence
//	q/qb/{time}{oracle}{seq}         oracle unbonding queue
//	q/rep/{epoch}{unit}{oracle}      one oracle's measurement of a unit (JSON), until processed
//	q/rd/{epoch}{oracle}             "oracle reported for epoch" marker, until processed
//	q/front                          last epoch whose reports are final and processed (8 bytes)
//	q/u/{unit}                       per-unit QoS state (JSON)
//	q/ci/{unit}{epoch}               compensation index before epoch's delta (decimal)
//	q/cdust                          compensation rounding dust (scaled, decimal)
//	q/mu/{unit}                      units with a pending maintenance window
//	q/sp/{period}{unit}              units with data in a scoring period
//	q/dk/{period}{unit}              units whose score decays at the end of a period
//	q/ps/{owner}                     provider score sums (JSON)
//	q/st                             network totals (JSON)
//	q/fee                            fees already shared with oracles (8 bytes)
//	q/se/{epoch}                     per-epoch stats (JSON), last history_epochs
//	q/uh/{unit}{epoch}               per-unit QoS history (JSON), last history_epochs
//	q/snap                           last epoch snapshotted (8 bytes)

import (
	"encoding/binary"
	"fmt"

	"github.com/flashback-network/flashback/address"
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
	keyOracle      = []byte("q/o/")
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
	MinStake       Amount
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

func getQoSParams(kv KV) qosParams {
	p := GetParams(kv)
	d := DefaultParams()
	mp := getMarketParams(kv)
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
	if q.QuorumBps > BpsDenom {
		q.QuorumBps = BpsDenom
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
	q.SlashBps = min(q.SlashBps, BpsDenom)
	if q.OracleShareBps == 0 {
		q.OracleShareBps = d.OracleShareBps
	}
	q.OracleShareBps = min(q.OracleShareBps, BpsDenom)
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
	return max(1, (active*bps+BpsDenom-1)/BpsDenom)
}

// ---- records ----

// Oracle is a bonded QoS reporter.
type Oracle struct {
	Address       string           `json:"address"`
	Stake         Amount           `json:"stake"`
	Unbonding     []UnbondingEntry `json:"unbonding"`
	Active        bool             `json:"active"`
	RegisteredAt  Time             `json:"registered_at"`
	UpdatedAt     Time             `json:"updated_at"`
	Reports       uint64           `json:"reports"`
	UnitsReported uint64           `json:"units_reported"`
	InMedian      uint64           `json:"in_median"` // unit reports that entered the median
	Outliers      uint64           `json:"outliers"`  // unit reports far from the median
	LastEpoch     int64            `json:"last_epoch"`
	Rewards       Amount           `json:"rewards"` // oracle rewards received
}

// UnbondingTotal is the sum of the oracle's unbonding entries.
func (o *Oracle) UnbondingTotal() Amount {
	var t Amount
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

func oracleKey(raw []byte) []byte { return mkKey(keyOracle, raw) }

// GetOracle reads an oracle by raw address.
func GetOracle(kv KV, raw []byte) (*Oracle, bool) {
	var o Oracle
	if !getJSON(kv, oracleKey(raw), &o) {
		return nil, false
	}
	return &o, true
}

func setOracle(kv KV, raw []byte, o *Oracle) { setJSON(kv, oracleKey(raw), o) }

func getU64(kv KV, key []byte) uint64 {
	if b := kv.Get(key); len(b) == 8 {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

func setU64(kv KV, key []byte, v uint64) { kv.Set(key, be8(v)) }

// ActiveOracles is the number of registered, not deregistered oracles.
func ActiveOracles(kv KV) uint64 { return getU64(kv, keyOracleCount) }

func registerQoS() {
	Register("qos/register_oracle", func() Msg { return new(MsgRegisterOracle) })
	Register("qos/deregister_oracle", func() Msg { return new(MsgDeregisterOracle) })
	Register("qos/report", func() Msg { return new(MsgReport) })
	Register("qos/claim_compensation", func() Msg { return new(MsgClaimCompensation) })
}

// ---- oracle messages ----

// MsgRegisterOracle makes the signer an oracle, bonding Stake (at least
// min_oracle_stake) into the stake pool.
type MsgRegisterOracle struct {
	Stake Amount `json:"stake"`
}

func (m *MsgRegisterOracle) ValidateBasic() error {
	if m.Stake == 0 {
		return Errf(CodeInvalidAmount, "stake must be positive (at least min_oracle_stake)")
	}
	return nil
}

func (m *MsgRegisterOracle) Handle(ctx *Context, signer []byte) error {
	q := getQoSParams(ctx.KV)
	o, ok := GetOracle(ctx.KV, signer)
	if ok && o.Active {
		return Errf(CodeAlreadyExists, "%s is already an oracle", address.Encode(signer))
	}
	if m.Stake < q.MinStake {
		return Errf(CodeInsufficientStake, "stake %d%s is below min_oracle_stake %d%s", m.Stake, Denom, q.MinStake, Denom)
	}
	if !ok {
		o = &Oracle{Address: address.Encode(signer), LastEpoch: -1}
	}
	if err := ToPool(ctx.KV, signer, PoolStake, m.Stake); err != nil {
		return err
	}
	var err error
	if o.Stake, err = Add(o.Stake, m.Stake); err != nil {
		return err
	}
	o.Active = true
	o.RegisteredAt, o.UpdatedAt = Time(ctx.Now()), Time(ctx.Now())
	setOracle(ctx.KV, signer, o)
	setU64(ctx.KV, keyOracleCount, ActiveOracles(ctx.KV)+1)
	statsAdd(ctx.KV, func(s *NetworkStats) { s.Oracles++ })
	ctx.Emit("oracle_registered", "oracle", o.Address, "stake", o.Stake.String())
	return nil
}

// MsgDeregisterOracle retires the signer's oracle: it stops counting for
// quorum at once (reports already accepted still count) and its stake
// unbonds over unbonding_period, staying slashable until released.
type MsgDeregisterOracle struct{}

func (m *MsgDeregisterOracle) ValidateBasic() error { return nil }

func (m *MsgDeregisterOracle) Handle(ctx *Context, signer []byte) error {
	o, ok := GetOracle(ctx.KV, signer)
	if !ok || !o.Active {
		return Errf(CodeNotOracle, "%s is not an active oracle", address.Encode(signer))
	}
	q := getQoSParams(ctx.KV)
	if o.Stake > 0 {
		seq := nextSeq(ctx.KV, keySeqOUnbond)
		at := ctx.Now() + q.Unbonding
		o.Unbonding = append(o.Unbonding, UnbondingEntry{Amount: o.Stake, ReleaseAt: Time(at), Seq: seq})
		ctx.KV.Set(mkKey(keyOQueue, be8(uint64(at)), signer, be8(seq)), []byte{})
		ctx.Emit("oracle_unbond", "oracle", o.Address, "amount", o.Stake.String(), "release_at", itoa(at))
		o.Stake = 0
	}
	o.Active = false
	o.UpdatedAt = Time(ctx.Now())
	setOracle(ctx.KV, signer, o)
	setU64(ctx.KV, keyOracleCount, ActiveOracles(ctx.KV)-1)
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
}

func (m *MsgReport) ValidateBasic() error {
	if m.Epoch < 0 {
		return Errf(CodeInvalidMessage, "epoch must not be negative")
	}
	if len(m.Units) == 0 {
		return Errf(CodeInvalidMessage, "units is empty: report at least one unit")
	}
	if len(m.Units) > hardMaxUnitsPerReport {
		return Errf(CodeTooManyUnits, "report has %d units, at most %d", len(m.Units), hardMaxUnitsPerReport)
	}
	seen := make(map[uint64]bool, len(m.Units))
	for i, u := range m.Units {
		n, err := parseUnitID(u.Unit)
		if err != nil {
			return fmt.Errorf("units[%d]: %w", i, err)
		}
		if seen[n] {
			return Errf(CodeInvalidMessage, "units[%d]: unit %s is listed twice; send one measurement per unit", i, u.Unit)
		}
		seen[n] = true
		if u.Probes == 0 {
			return Errf(CodeInvalidMessage, "units[%d] (%s): probes must be positive (an unreachable unit is probes > 0, successes 0)", i, u.Unit)
		}
		if u.Successes > u.Probes {
			return Errf(CodeInvalidMessage, "units[%d] (%s): successes %d exceed probes %d", i, u.Unit, u.Successes, u.Probes)
		}
		if u.P50Ms > u.P95Ms {
			return Errf(CodeInvalidMessage, "units[%d] (%s): p50_ms %d exceeds p95_ms %d", i, u.Unit, u.P50Ms, u.P95Ms)
		}
	}
	return nil
}

func reportKey(e int64, unitN uint64, oracle []byte) []byte {
	return mkKey(keyReport, be8(uint64(e)), be8(unitN), oracle)
}

func (m *MsgReport) Handle(ctx *Context, signer []byte) error {
	kv := ctx.KV
	o, ok := GetOracle(kv, signer)
	if !ok || !o.Active {
		return Errf(CodeNotOracle, "%s is not an active oracle; send qos/register_oracle first", address.Encode(signer))
	}
	q := getQoSParams(kv)
	cur := epochOf(ctx.Now(), q.Epoch)
	if m.Epoch >= cur {
		return Errf(CodeFutureEpoch, "epoch %d has not ended (current epoch %d); report it once it is over", m.Epoch, cur)
	}
	if m.Epoch < cur-1-q.Grace {
		return Errf(CodeLateReport, "epoch %d is closed for reports (current epoch %d accepts epochs %d..%d)", m.Epoch, cur, max(cur-1-q.Grace, 0), cur-1)
	}
	mark := mkKey(keyReported, be8(uint64(m.Epoch)), signer)
	if kv.Get(mark) != nil {
		return Errf(CodeDuplicateReport, "oracle %s already reported epoch %d", o.Address, m.Epoch)
	}
	if len(m.Units) > q.MaxUnits {
		return Errf(CodeTooManyUnits, "report has %d units, max_units_per_report is %d; split it over fewer units", len(m.Units), q.MaxUnits)
	}
	epochEnd := (m.Epoch + 1) * q.Epoch
	for i := range m.Units {
		um := &m.Units[i]
		u, ok := GetUnit(kv, um.Unit)
		if !ok {
			return Errf(CodeNotFound, "units[%d]: unit %s not found", i, um.Unit)
		}
		if u.Status == UnitDeleted {
			return Errf(CodeWrongState, "units[%d]: unit %s is deleted", i, um.Unit)
		}
		if u.CreatedAt.Unix() >= epochEnd {
			return Errf(CodeWrongState, "units[%d]: unit %s was created after epoch %d ended", i, um.Unit, m.Epoch)
		}
		n, _ := parseUnitID(um.Unit)
		v := *um
		v.Unit = "" // the key names it
		setJSON(kv, reportKey(m.Epoch, n, signer), &v)
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
}

func (m *MsgClaimCompensation) ValidateBasic() error { _, err := parseResID(m.Reservation); return err }

func (m *MsgClaimCompensation) Handle(ctx *Context, signer []byte) error {
	r, u, err := consumerRes(ctx.KV, signer, m.Reservation)
	if err != nil {
		return err
	}
	if r.Status != ResActive {
		return Errf(CodeWrongState, "reservation %s is %s; only active reservations earn compensation", r.ID, r.Status)
	}
	paid, err := compCollect(ctx, u, r, compClaim)
	if err != nil {
		return err
	}
	setReservation(ctx.KV, r)
	if paid == 0 {
		return Errf(CodeNotFound, "reservation %s has no compensation to claim", r.ID)
	}
	return nil
}

// ---- oracle unbonding (EndBlock) ----

func qosEndBlock(kv KV, blk Block) []Event {
	now := blk.Time.Unix()
	var events []Event
	for _, k := range dueKeys(kv, keyOQueue, now) {
		rest := k[len(keyOQueue)+8:]
		owner, seq := rest[:address.Len], beU64(rest[address.Len:])
		events = append(events, runIsolated(kv, blk, "oracle unbond", func(ctx *Context) error {
			ctx.KV.Delete(k)
			o, ok := GetOracle(ctx.KV, owner)
			if !ok {
				return nil
			}
			left, amt, found, err := releaseUnbonding(ctx.KV, owner, o.Unbonding, seq)
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
