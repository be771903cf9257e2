package qos

import (
	"github.com/flashback-network/flashback/api/types"
)

// View is the REST view of the record.
func (r *EpochQoSCounts) View() types.EpochQoSCounts {
	v := types.EpochQoSCounts{
		Reported:    r.Reported,
		Compliant:   r.Compliant,
		Breached:    r.Breached,
		NoQuorum:    r.NoQuorum,
		Maintenance: r.Maintenance,
	}
	return v
}

// View is the REST view of the record.
func (r *EpochStats) View() types.EpochStats {
	v := types.EpochStats{
		Epoch:        r.Epoch,
		Time:         r.Time,
		NetworkStats: r.NetworkStats.View(),
		Escrowed:     r.Escrowed,
		Staked:       r.Staked,
		RewardsPool:  r.RewardsPool,
		Treasury:     r.Treasury,
		QoS:          r.QoS.View(),
	}
	return v
}

// View is the REST view of the record.
func (r *NetworkStats) View() types.NetworkStats {
	v := types.NetworkStats{
		Providers:         r.Providers,
		Units:             r.Units,
		CapacityOffered:   r.CapacityOffered,
		CapacityReserved:  r.CapacityReserved,
		CapacityUsed:      r.CapacityUsed,
		LiveReservations:  r.LiveReservations,
		Oracles:           r.Oracles,
		Paid:              r.Paid,
		Fees:              r.Fees,
		Slashed:           r.Slashed,
		Compensation:      r.Compensation,
		OracleRewards:     r.OracleRewards,
		Rewarded:          r.Rewarded,
		ReputationSlashed: r.ReputationSlashed,
		HeldEpochs:        r.HeldEpochs,
		HoldsResolved:     r.HoldsResolved,
		HoldsExpired:      r.HoldsExpired,
		OutlierSlashed:    r.OutlierSlashed,
	}
	return v
}

// View is the REST view of the record.
func (r *Oracle) View() types.Oracle {
	v := types.Oracle{
		Address:        r.Address,
		Stake:          r.Stake,
		Active:         r.Active,
		RegisteredAt:   r.RegisteredAt,
		UpdatedAt:      r.UpdatedAt,
		Reports:        r.Reports,
		UnitsReported:  r.UnitsReported,
		InMedian:       r.InMedian,
		Outliers:       r.Outliers,
		LastEpoch:      r.LastEpoch,
		Rewards:        r.Rewards,
		Missed:         r.Missed,
		Penalized:      r.Penalized,
		MissEpochs:     r.MissEpochs,
		Jailed:         r.Jailed,
		JailedUntil:    r.JailedUntil,
		FarEpochs:      r.FarEpochs,
		OutlierSlashed: r.OutlierSlashed,
	}
	if r.Unbonding != nil {
		v.Unbonding = make([]types.UnbondingEntry, len(r.Unbonding))
		for i := range r.Unbonding {
			v.Unbonding[i] = r.Unbonding[i].View()
		}
	}
	return v
}

// View is the REST view of the record.
func (r *UnitEpochQoS) View() types.UnitEpochQoS {
	v := types.UnitEpochQoS{
		Epoch:           r.Epoch,
		Status:          r.Status,
		Reporters:       r.Reporters,
		Quorum:          r.Quorum,
		Probes:          r.Probes,
		Successes:       r.Successes,
		P50Ms:           r.P50Ms,
		P95Ms:           r.P95Ms,
		DownMbps:        r.DownMbps,
		UpMbps:          r.UpMbps,
		IntegrityPassed: r.IntegrityPassed,
		IntegrityFailed: r.IntegrityFailed,
		UptimeBps:       r.UptimeBps,
		ErrorRateBps:    r.ErrorRateBps,
		Terms:           r.Terms,
		Unenforced:      r.Unenforced,
		Slashed:         r.Slashed,
		Compensation:    r.Compensation,
		OracleShare:     r.OracleShare,
		Score:           r.Score,
	}
	return v
}

// View is the REST view of the record.
func (r *UnitMeasurement) View() types.UnitMeasurement {
	v := types.UnitMeasurement{
		Unit:            r.Unit,
		Probes:          r.Probes,
		Successes:       r.Successes,
		P50Ms:           r.P50Ms,
		P95Ms:           r.P95Ms,
		DownMbps:        r.DownMbps,
		UpMbps:          r.UpMbps,
		IntegrityPassed: r.IntegrityPassed,
		IntegrityFailed: r.IntegrityFailed,
	}
	return v
}

// View is the REST view of the record.
func (r *UnitQoS) View() types.UnitQoS {
	v := types.UnitQoS{
		ScoreMilli:   r.ScoreMilli,
		Period:       r.Period,
		PEpochs:      r.PEpochs,
		PBeat:        r.PBeat,
		PUnreachable: r.PUnreachable,
		PBreached:    r.PBreached,
		PWorse:       r.PWorse,
		LastScored:   r.LastScored,
		LastDelta:    r.LastDelta,
		Judged:       r.Judged,
		Compliant:    r.Compliant,
		Breached:     r.Breached,
		NoQuorum:     r.NoQuorum,
		Maintenance:  r.Maintenance,
		LastEpoch:    r.LastEpoch,
		HistLast:     r.HistLast,
		UptimeBps:    r.UptimeBps,
		P95Ms:        r.P95Ms,
		DownMbps:     r.DownMbps,
		UpMbps:       r.UpMbps,
		ErrorRateBps: r.ErrorRateBps,
		Slashed:      r.Slashed,
		Compensation: r.Compensation,
		Rewarded:     r.Rewarded,
		RepSlashed:   r.RepSlashed,
		Suspended:    r.Suspended,
		CompIndex:    r.CompIndex,
		CompBytes:    r.CompBytes,
		StrictUntil:  r.StrictUntil,
		Held:         r.Held,
		HeldRun:      r.HeldRun,
		HeldLast:     r.HeldLast,
		HoldTooLong:  r.HoldTooLong,
	}
	if r.Window != nil {
		v.Window = make([]types.UptimeEntry, len(r.Window))
		for i := range r.Window {
			v.Window[i] = r.Window[i].View()
		}
	}
	if r.CompRing != nil {
		v.CompRing = make([]types.CompRingEntry, len(r.CompRing))
		for i := range r.CompRing {
			v.CompRing[i] = r.CompRing[i].View()
		}
	}
	if r.Maint != nil {
		v.Maint = make([]types.MaintLog, len(r.Maint))
		for i := range r.Maint {
			v.Maint[i] = r.Maint[i].View()
		}
	}
	if r.Strict != nil {
		x := r.Strict.View()
		v.Strict = &x
	}
	return v
}

// View is the REST view of the record.
func (r *compRingEntry) View() types.CompRingEntry {
	v := types.CompRingEntry{
		Epoch: r.Epoch,
		Bytes: r.Bytes,
	}
	return v
}

// View is the REST view of the record.
func (r *maintLog) View() types.MaintLog {
	v := types.MaintLog{
		Start:       r.Start,
		End:         r.End,
		AnnouncedAt: r.AnnouncedAt,
	}
	return v
}

// View is the REST view of the record.
func (r *uptimeEntry) View() types.UptimeEntry {
	v := types.UptimeEntry{
		Epoch:     r.Epoch,
		Probes:    r.Probes,
		Successes: r.Successes,
	}
	return v
}
