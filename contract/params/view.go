package params

import (
	"github.com/flashback-network/flashback/api/types"
)

// View is the REST view of the record.
func (r *Params) View() types.Params {
	v := types.Params{
		TxFee:              r.TxFee,
		EpochSeconds:       r.EpochSeconds,
		FeeBps:             r.FeeBps,
		MinUnitStake:       r.MinUnitStake,
		UnbondingPeriod:    r.UnbondingPeriod,
		AcceptTimeout:      r.AcceptTimeout,
		MaxTerm:            r.MaxTerm,
		SettleLagEpochs:    r.SettleLagEpochs,
		MinOracleStake:     r.MinOracleStake,
		QuorumBps:          r.QuorumBps,
		ReportGraceEpochs:  r.ReportGraceEpochs,
		MaxUnitsPerReport:  r.MaxUnitsPerReport,
		UptimeWindowEpochs: r.UptimeWindowEpochs,
		SlashFractionBps:   r.SlashFractionBps,
		OracleShareBps:     r.OracleShareBps,
		ScorePeriodEpochs:  r.ScorePeriodEpochs,
		WarnScore:          r.WarnScore,
		SuspendScore:       r.SuspendScore,
		DecayPerMonth:      r.DecayPerMonth,
		OutlierBps:         r.OutlierBps,
		HistoryEpochs:      r.HistoryEpochs,
		OraclesPerUnit:     r.OraclesPerUnit,
		MissPenalty:        r.MissPenalty,
		MaxMissed:          r.MaxMissed,
		MissWindowEpochs:   r.MissWindowEpochs,
		OracleJailEpochs:   r.OracleJailEpochs,

		HoldEpochs:          r.HoldEpochs,
		OutlierToleranceBps: r.OutlierToleranceBps,
		OutlierK:            r.OutlierK,
		OutlierWindow:       r.OutlierWindow,
		OutlierSlash:        r.OutlierSlash,
		DisputeDeposit:      r.DisputeDeposit,
		DisputeWindow:       r.DisputeWindow,
		DisputeSlash:        r.DisputeSlash,
	}
	return v
}
