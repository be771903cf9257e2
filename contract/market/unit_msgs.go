package market

import (
	"math/big"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/store"
)

// ---- units ----

// MsgAddUnit publishes a data unit of the signer's provider.
type MsgAddUnit struct {
	Kind         string      `json:"kind"`
	Region       string      `json:"region"`
	Country      string      `json:"country"`
	Capacity     uint64      `json:"capacity_bytes"`
	StoragePrice core.Amount `json:"storage_price"` // uflash per GiB-month
	EgressPrice  core.Amount `json:"egress_price"`  // uflash per GiB
	SLA          SLAOffer    `json:"sla"`
	Features     Features    `json:"features"`
	AutoAccept   bool        `json:"auto_accept"`
}

func (m *MsgAddUnit) ValidateBasic() error {
	if !isUnitKind(m.Kind) {
		return core.Errf(core.CodeInvalidMessage, "kind %q is not one of s3, azure-blob, gcs, local, function", m.Kind)
	}
	if err := checkRegion(m.Region, m.Country); err != nil {
		return err
	}
	if m.Capacity == 0 {
		return core.Errf(core.CodeInvalidMessage, "capacity_bytes must be positive")
	}
	return m.SLA.validate()
}

func (mk *Keeper) handleAddUnit(ctx *core.Context, signer []byte, m *MsgAddUnit) error {
	p, err := activeProvider(ctx.KV, signer)
	if err != nil {
		return err
	}
	mp := ParamsOf(ctx.KV)
	need, err := mulAmount(mp.MinUnitStake, p.LiveUnits+1)
	if err != nil {
		return err
	}
	if p.Stake < need {
		return core.Errf(core.CodeInsufficientStake, "%d units need %d%s bonded (min_unit_stake %d%s each), provider has %d%s; stake %d%s more", p.LiveUnits+1, need, core.Denom, mp.MinUnitStake, core.Denom, p.Stake, core.Denom, need-p.Stake, core.Denom)
	}
	n := store.NextSequence(ctx.KV, KeySeqUnit)
	now := ctx.Now()
	u := &Unit{
		ID: UnitIDString(n), Provider: p.Address, Kind: m.Kind, Region: m.Region, Country: m.Country,
		Capacity: m.Capacity, StoragePrice: m.StoragePrice, EgressPrice: m.EgressPrice, SLA: m.SLA,
		Features: m.Features, AutoAccept: m.AutoAccept, Status: UnitAvailable, Score: DefaultScore,
		FeeBps: mp.FeeBps, CreatedAt: core.Time(now), UpdatedAt: core.Time(now),
		Settlement: Settlement{SumRate: "0", Accrued: "0", AccruedTo: core.Time(now)},
	}
	mk.setUnit(ctx.KV, u)
	indexUnit(ctx.KV, u)
	ctx.KV.Set(store.Key(KeyProvUnits, signer, store.EncodeUint64(n)), []byte{})
	p.LiveUnits++
	mk.SetProvider(ctx.KV, signer, p)
	ctx.Emit("unit_added", "unit", u.ID, "provider", p.Address, "kind", u.Kind, "capacity_bytes", utoa(u.Capacity))
	return nil
}

// ownUnitMsg is ownUnit for a unit message: parsed is the number its
// ValidateBasic read from id (messages built in code are parsed here).
func ownUnitMsg(kv store.KV, signer []byte, parsed uint64, id string) (*Unit, error) {
	n, err := UnitNumber(parsed, id)
	if err != nil {
		return nil, err
	}
	return ownUnit(kv, signer, n)
}

// ownUnit loads unit number n and checks the signer owns it.
func ownUnit(kv store.KV, signer []byte, n uint64) (*Unit, error) {
	id := UnitIDString(n)
	u, ok := GetUnitN(kv, n)
	if !ok {
		return nil, core.Errf(core.CodeNotFound, "unit %s not found", id)
	}
	if u.Provider != address.Encode(signer) {
		return nil, core.Errf(core.CodeUnauthorized, "unit %s belongs to %s; only its provider can change it", id, u.Provider)
	}
	return u, nil
}

// MsgUpdateUnit changes a unit's terms; omitted (null) fields are
// unchanged. New prices and SLA apply to new reservations only.
type MsgUpdateUnit struct {
	Unit         string       `json:"unit"`
	Capacity     *uint64      `json:"capacity_bytes,omitempty"`
	StoragePrice *core.Amount `json:"storage_price,omitempty"`
	EgressPrice  *core.Amount `json:"egress_price,omitempty"`
	SLA          *SLAOffer    `json:"sla,omitempty"`
	Features     *Features    `json:"features,omitempty"`
	AutoAccept   *bool        `json:"auto_accept,omitempty"`

	// unitN is Unit's number, parsed once by ValidateBasic.
	unitN uint64
}

func (m *MsgUpdateUnit) ValidateBasic() error {
	n, err := ParseUnitID(m.Unit)
	if err != nil {
		return err
	}
	m.unitN = n
	if m.Capacity == nil && m.StoragePrice == nil && m.EgressPrice == nil && m.SLA == nil && m.Features == nil && m.AutoAccept == nil {
		return core.Errf(core.CodeInvalidMessage, "nothing to update: set at least one of capacity_bytes, storage_price, egress_price, sla, features, auto_accept")
	}
	if m.Capacity != nil && *m.Capacity == 0 {
		return core.Errf(core.CodeInvalidMessage, "capacity_bytes must be positive")
	}
	if m.SLA != nil {
		return m.SLA.validate()
	}
	return nil
}

func (mk *Keeper) handleUpdateUnit(ctx *core.Context, signer []byte, m *MsgUpdateUnit) error {
	u, err := ownUnitMsg(ctx.KV, signer, m.unitN, m.Unit)
	if err != nil {
		return err
	}
	if u.Status != UnitAvailable && u.Status != UnitMaintenance {
		return core.Errf(core.CodeWrongState, "unit %s is %s; only available or maintenance units can be updated", u.ID, u.Status)
	}
	if m.Capacity != nil && *m.Capacity < u.Reserved {
		return core.Errf(core.CodeNoCapacity, "capacity_bytes %d bytes is below the %d bytes already reserved", *m.Capacity, u.Reserved)
	}
	unindexUnit(ctx.KV, u)
	if m.Capacity != nil {
		u.Capacity = *m.Capacity
	}
	if m.StoragePrice != nil {
		u.StoragePrice = *m.StoragePrice
	}
	if m.EgressPrice != nil {
		u.EgressPrice = *m.EgressPrice
	}
	if m.SLA != nil {
		mk.quality.SLAChanging(ctx.KV, u, *m.SLA, ctx.Now()) // QoS keeps judging by the old terms (qos_epoch.go)
		u.SLA = *m.SLA
	}
	if m.Features != nil {
		u.Features = *m.Features
	}
	if m.AutoAccept != nil {
		u.AutoAccept = *m.AutoAccept
	}
	u.UpdatedAt = core.Time(ctx.Now())
	indexUnit(ctx.KV, u)
	mk.setUnit(ctx.KV, u)
	ctx.Emit("unit_updated", "unit", u.ID)
	return nil
}

// Maintenance actions.
const (
	MaintenanceStart    = "start"    // available -> maintenance now
	MaintenanceEnd      = "end"      // maintenance -> available
	MaintenanceAnnounce = "announce" // record a future window, no status change
)

// MsgUnitMaintenance moves a unit between available and maintenance, or
// announces a maintenance window. Times are unix seconds.
type MsgUnitMaintenance struct {
	Unit        string `json:"unit"`
	Action      string `json:"action"`
	WindowStart int64  `json:"window_start,omitempty"`
	WindowEnd   int64  `json:"window_end,omitempty"`

	// unitN is Unit's number, parsed once by ValidateBasic.
	unitN uint64
}

func (m *MsgUnitMaintenance) ValidateBasic() error {
	n, err := ParseUnitID(m.Unit)
	if err != nil {
		return err
	}
	m.unitN = n
	switch m.Action {
	case MaintenanceStart, MaintenanceAnnounce:
		if m.WindowEnd <= 0 || m.WindowStart < 0 || (m.WindowStart > 0 && m.WindowEnd <= m.WindowStart) {
			return core.Errf(core.CodeInvalidMessage, "window_end must be after window_start (unix seconds)")
		}
		if m.WindowEnd > int64(core.MaxTime) {
			return core.Errf(core.CodeInvalidMessage, "window_end %d is after %s", m.WindowEnd, core.MaxTime)
		}
	case MaintenanceEnd:
	default:
		return core.Errf(core.CodeInvalidMessage, "action %q must be start, end or announce", m.Action)
	}
	return nil
}

func (mk *Keeper) handleUnitMaintenance(ctx *core.Context, signer []byte, m *MsgUnitMaintenance) error {
	u, err := ownUnitMsg(ctx.KV, signer, m.unitN, m.Unit)
	if err != nil {
		return err
	}
	now := ctx.Now()
	switch m.Action {
	case MaintenanceStart:
		if u.Status != UnitAvailable {
			return core.Errf(core.CodeWrongState, "unit %s is %s; only an available unit can enter maintenance", u.ID, u.Status)
		}
		start := m.WindowStart
		if start == 0 || start > now {
			start = now
		}
		if m.WindowEnd <= now {
			return core.Errf(core.CodeInvalidMessage, "window_end %d is not in the future (now %d)", m.WindowEnd, now)
		}
		u.Status = UnitMaintenance
		u.Maintenance = &MaintenanceWindow{Start: core.Time(start), End: core.Time(m.WindowEnd)}
	case MaintenanceEnd:
		if u.Status != UnitMaintenance {
			return core.Errf(core.CodeWrongState, "unit %s is %s, not in maintenance", u.ID, u.Status)
		}
		u.Status = UnitAvailable
		u.Maintenance = nil
	case MaintenanceAnnounce:
		if u.Status != UnitAvailable && u.Status != UnitMaintenance {
			return core.Errf(core.CodeWrongState, "unit %s is %s; maintenance can only be announced for available units", u.ID, u.Status)
		}
		if m.WindowStart < now {
			return core.Errf(core.CodeInvalidMessage, "window_start %d is in the past (now %d)", m.WindowStart, now)
		}
		u.Maintenance = &MaintenanceWindow{Start: core.Time(m.WindowStart), End: core.Time(m.WindowEnd)}
	}
	u.UpdatedAt = core.Time(now)
	mk.setUnit(ctx.KV, u)
	mk.quality.MaintenanceChanged(ctx.KV, u, m.Action, now) // QoS maintenance log (qos_epoch.go)
	ctx.Emit("unit_maintenance", "unit", u.ID, "action", m.Action, "status", u.Status)
	return nil
}

// MsgDecommissionUnit stops new reservations on a unit; existing ones run
// to term.
type MsgDecommissionUnit struct {
	Unit string `json:"unit"`

	// unitN is Unit's number, parsed once by ValidateBasic.
	unitN uint64
}

func (m *MsgDecommissionUnit) ValidateBasic() error {
	n, err := ParseUnitID(m.Unit)
	m.unitN = n
	return err
}

func (mk *Keeper) handleDecommissionUnit(ctx *core.Context, signer []byte, m *MsgDecommissionUnit) error {
	u, err := ownUnitMsg(ctx.KV, signer, m.unitN, m.Unit)
	if err != nil {
		return err
	}
	if u.Status != UnitAvailable && u.Status != UnitMaintenance {
		return core.Errf(core.CodeWrongState, "unit %s is %s; only available or maintenance units can be decommissioned", u.ID, u.Status)
	}
	u.Status = UnitDecommissioning
	u.UpdatedAt = core.Time(ctx.Now())
	mk.setUnit(ctx.KV, u)
	ctx.Emit("unit_decommissioning", "unit", u.ID)
	return nil
}

// MsgDeleteUnit deletes a decommissioning unit after its last reservation
// ended; its remaining revenue is claimed for the provider.
type MsgDeleteUnit struct {
	Unit string `json:"unit"`

	// unitN is Unit's number, parsed once by ValidateBasic.
	unitN uint64
}

func (m *MsgDeleteUnit) ValidateBasic() error {
	n, err := ParseUnitID(m.Unit)
	m.unitN = n
	return err
}

func (mk *Keeper) handleDeleteUnit(ctx *core.Context, signer []byte, m *MsgDeleteUnit) error {
	u, err := ownUnitMsg(ctx.KV, signer, m.unitN, m.Unit)
	if err != nil {
		return err
	}
	if u.Status != UnitDecommissioning {
		return core.Errf(core.CodeWrongState, "unit %s is %s; decommission it first (market/decommission_unit)", u.ID, u.Status)
	}
	if u.LiveReservations > 0 {
		return core.Errf(core.CodeWrongState, "unit %s still has %d live reservations; delete it after the last one ends", u.ID, u.LiveReservations)
	}
	mp := ParamsOf(ctx.KV)
	accrueUnit(u, ctx.Now(), mp)
	if _, _, err := mk.claimUnit(ctx.KV, u, signer); err != nil {
		return err
	}
	// What is left is below one uflash for the provider and the treasury:
	// hand it to the dust account so the unit holds nothing.
	s := &u.Settlement
	rest := new(big.Int).Mul(core.BigFromDecimal(s.Accrued), core.BigFromInt(int64(BpsDenom)+int64(u.FeeBps)))
	rest.Sub(rest, new(big.Int).Mul(core.BigFromUint(uint64(s.ClaimedNet+s.ClaimedFee)), NanoPerUflash()))
	if err := addDust(ctx.KV, rest); err != nil {
		return err
	}
	unindexUnit(ctx.KV, u)
	u.Status = UnitDeleted
	u.UpdatedAt = core.Time(ctx.Now())
	mk.setUnit(ctx.KV, u)
	p, _ := GetProvider(ctx.KV, signer)
	p.LiveUnits--
	ctx.Emit("unit_deleted", "unit", u.ID)
	mk.SetProviderNoting(ctx, signer, p) // fewer units may need no more than the stake
	return nil
}
