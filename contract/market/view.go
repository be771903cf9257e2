package market

import (
	"github.com/flashback-network/flashback/api/types"
)

// View is the REST view of the record.
func (r *Cost) View() types.Cost {
	v := types.Cost{
		Storage: r.Storage,
		Egress:  r.Egress,
		Fee:     r.Fee,
		Total:   r.Total,
	}
	return v
}

// View is the REST view of the record.
func (r *Features) View() types.Features {
	v := types.Features{
		Versioning:       r.Versioning,
		EncryptionAtRest: r.EncryptionAtRest,
		ObjectLock:       r.ObjectLock,
	}
	return v
}

// View is the REST view of the record.
func (r *MaintenanceWindow) View() types.MaintenanceWindow {
	v := types.MaintenanceWindow{
		Start: r.Start,
		End:   r.End,
	}
	return v
}

// View is the REST view of the record.
func (r *Provider) View() types.Provider {
	v := types.Provider{
		Address:      r.Address,
		Name:         r.Name,
		Description:  r.Description,
		Website:      r.Website,
		Endpoint:     r.Endpoint,
		BridgePubKey: r.BridgePubKey,
		Stake:        r.Stake,
		LiveUnits:    r.LiveUnits,
		Score:        r.Score,
		Deregistered: r.Deregistered,
		RegisteredAt: r.RegisteredAt,
		UpdatedAt:    r.UpdatedAt,
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
func (r *Reservation) View() types.Reservation {
	v := types.Reservation{
		ID:           r.ID,
		Unit:         r.Unit,
		Provider:     r.Provider,
		Consumer:     r.Consumer,
		Bytes:        r.Bytes,
		Term:         r.Term,
		EgressBytes:  r.EgressBytes,
		EgressUsed:   r.EgressUsed,
		StoredBytes:  r.StoredBytes,
		IngressBytes: r.IngressBytes,
		LastUsage:    r.LastUsage,
		StoragePrice: r.StoragePrice,
		EgressPrice:  r.EgressPrice,
		FeeBps:       r.FeeBps,
		SLA:          r.SLA.View(),
		Features:     r.Features.View(),
		Status:       r.Status,
		CreatedAt:    r.CreatedAt,
		AcceptBy:     r.AcceptBy,
		Start:        r.Start,
		End:          r.End,
		SettledTo:    r.SettledTo,
		Commitment:   r.Commitment,
		PaidPBS:      r.PaidPBS,
		StorageEsc:   r.StorageEsc,
		EgressEsc:    r.EgressEsc,
		EgressFeeEsc: r.EgressFeeEsc,
		EgressPaid:   r.EgressPaid,
		EgressFee:    r.EgressFee,
		StoragePaid:  r.StoragePaid,
		Escrowed:     r.Escrowed,
		Refunded:     r.Refunded,
		Compensation: r.Compensation,
		CompStart:    r.CompStart,
		ClosedAt:     r.ClosedAt,
	}
	return v
}

// View is the REST view of the record.
func (r *SLAOffer) View() types.SLAOffer {
	v := types.SLAOffer{
		MaxP95LatencyMs: r.MaxP95LatencyMs,
		MinUptimeBps:    r.MinUptimeBps,
		MinDownloadMbps: r.MinDownloadMbps,
		MinUploadMbps:   r.MinUploadMbps,
		MaxErrorRateBps: r.MaxErrorRateBps,
		Durability:      r.Durability,
	}
	return v
}

// View is the REST view of the record.
func (r *Settlement) View() types.Settlement {
	v := types.Settlement{
		SumRate:      r.SumRate,
		Accrued:      r.Accrued,
		AccruedTo:    r.AccruedTo,
		ClaimedNet:   r.ClaimedNet,
		ClaimedFee:   r.ClaimedFee,
		BreachCount:  r.BreachCount,
		EgressEarned: r.EgressEarned,
	}
	return v
}

// View is the REST view of the record.
func (r *UnbondingEntry) View() types.UnbondingEntry {
	v := types.UnbondingEntry{
		Amount:    r.Amount,
		ReleaseAt: r.ReleaseAt,
		Seq:       r.Seq,
	}
	return v
}

// View is the REST view of the record.
func (r *Unit) View() types.Unit {
	v := types.Unit{
		ID:               r.ID,
		Provider:         r.Provider,
		Kind:             r.Kind,
		Region:           r.Region,
		Country:          r.Country,
		Capacity:         r.Capacity,
		Reserved:         r.Reserved,
		Used:             r.Used,
		StoragePrice:     r.StoragePrice,
		EgressPrice:      r.EgressPrice,
		SLA:              r.SLA.View(),
		Features:         r.Features.View(),
		AutoAccept:       r.AutoAccept,
		Status:           r.Status,
		Score:            r.Score,
		FeeBps:           r.FeeBps,
		LiveReservations: r.LiveReservations,
		CreatedAt:        r.CreatedAt,
		UpdatedAt:        r.UpdatedAt,
		Settlement:       r.Settlement.View(),
	}
	if r.Maintenance != nil {
		x := r.Maintenance.View()
		v.Maintenance = &x
	}
	return v
}
