package qos

import (
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/params"
	"github.com/flashback-network/flashback/contract/store"
)

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
	PerUnit        int         // oracles assigned per unit and epoch
	MissPenalty    core.Amount // per unit-epoch an assigned oracle did not report
	MaxMissed      int         // misses in MissWindow epochs that jail
	MissWindow     int64
	JailEpochs     int64
	Hold           int64  // epochs a no-quorum unit-epoch stays held (hold.go)
	OutlierTol     uint32 // outlier.go
	OutlierK       int
	OutlierWindow  int64
	OutlierSlash   core.Amount
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
	q.PerUnit, q.MissPenalty, q.MaxMissed = int(p.OraclesPerUnit), p.MissPenalty, int(p.MaxMissed)
	q.MissWindow, q.JailEpochs = p.MissWindowEpochs, p.OracleJailEpochs
	q.holdAndOutlierParams(p, d)
	if q.PerUnit <= 0 {
		q.PerUnit = int(d.OraclesPerUnit)
	}
	q.PerUnit = min(q.PerUnit, MaxEpochOracles)
	if q.MissPenalty == 0 {
		q.MissPenalty = d.MissPenalty
	}
	if q.MaxMissed <= 0 {
		q.MaxMissed = int(d.MaxMissed)
	}
	q.MaxMissed = min(q.MaxMissed, maxMissedCap)
	if q.MissWindow <= 0 {
		q.MissWindow = d.MissWindowEpochs
	}
	if q.JailEpochs <= 0 {
		q.JailEpochs = d.OracleJailEpochs
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

// holdAndOutlierParams fills the held-epoch and outlier params, defaults
// for zero values, clamped to the bounds params.Validate checks.
func (q *qosParams) holdAndOutlierParams(p, d params.Params) {
	pick := func(v, def int64) int64 {
		if v == 0 {
			return def
		}
		return v
	}
	q.Hold = min(max(pick(p.HoldEpochs, d.HoldEpochs), 0), params.MaxHoldEpochs)
	q.OutlierWindow = min(max(pick(p.OutlierWindow, d.OutlierWindow), 1), params.MaxOutlierWindow)
	q.OutlierK = int(min(max(pick(int64(p.OutlierK), int64(d.OutlierK)), 1), q.OutlierWindow))
	q.OutlierTol = min(uint32(pick(int64(p.OutlierToleranceBps), int64(d.OutlierToleranceBps))), market.BpsDenom)
	q.OutlierSlash = p.OutlierSlash
	if q.OutlierSlash == 0 {
		q.OutlierSlash = d.OutlierSlash
	}
}
