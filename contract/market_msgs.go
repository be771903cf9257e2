package contract

import (
	"math/big"

	"github.com/flashback-network/flashback/address"
)

func registerMarket() {
	Register("market/register_provider", func() Msg { return new(MsgRegisterProvider) })
	Register("market/update_provider", func() Msg { return new(MsgUpdateProvider) })
	Register("market/stake", func() Msg { return new(MsgStake) })
	Register("market/unstake", func() Msg { return new(MsgUnstake) })
	Register("market/deregister_provider", func() Msg { return new(MsgDeregisterProvider) })
	Register("market/add_unit", func() Msg { return new(MsgAddUnit) })
	Register("market/update_unit", func() Msg { return new(MsgUpdateUnit) })
	Register("market/unit_maintenance", func() Msg { return new(MsgUnitMaintenance) })
	Register("market/decommission_unit", func() Msg { return new(MsgDecommissionUnit) })
	Register("market/delete_unit", func() Msg { return new(MsgDeleteUnit) })
	Register("market/reserve", func() Msg { return new(MsgReserve) })
	Register("market/accept_reservation", func() Msg { return new(MsgAcceptReservation) })
	Register("market/reject_reservation", func() Msg { return new(MsgRejectReservation) })
	Register("market/topup", func() Msg { return new(MsgTopUp) })
	Register("market/extend", func() Msg { return new(MsgExtend) })
	Register("market/resize", func() Msg { return new(MsgResize) })
	Register("market/close_reservation", func() Msg { return new(MsgCloseReservation) })
	Register("market/claim", func() Msg { return new(MsgClaim) })
	Register("market/report_usage", func() Msg { return new(MsgReportUsage) })
}

// ---- providers ----

// MsgRegisterProvider makes the signer a storage provider.
type MsgRegisterProvider struct {
	Name         string `json:"name"`
	Description  string `json:"description"`
	Website      string `json:"website"`
	Endpoint     string `json:"bridge_endpoint"`
	BridgePubKey []byte `json:"bridge_pub_key"` // X25519, 32 bytes, base64 on the wire
}

func checkProviderInfo(name, desc, web, endpoint string, key []byte) error {
	if err := checkText("name", name, 64, true); err != nil {
		return err
	}
	if err := checkText("description", desc, 512, false); err != nil {
		return err
	}
	if err := checkURL("website", web, false); err != nil {
		return err
	}
	if err := checkURL("bridge_endpoint", endpoint, true); err != nil {
		return err
	}
	if len(key) != 32 {
		return Errf(CodeInvalidMessage, "bridge_pub_key is %d bytes, want a 32-byte X25519 public key (base64)", len(key))
	}
	return nil
}

func (m *MsgRegisterProvider) ValidateBasic() error {
	return checkProviderInfo(m.Name, m.Description, m.Website, m.Endpoint, m.BridgePubKey)
}

func (m *MsgRegisterProvider) Handle(ctx *Context, signer []byte) error {
	p, ok := GetProvider(ctx.KV, signer)
	if ok && !p.Deregistered {
		return Errf(CodeAlreadyExists, "%s is already a registered provider; use market/update_provider", address.Encode(signer))
	}
	if !ok {
		p = &Provider{Address: address.Encode(signer), Score: DefaultScore}
	}
	p.Name, p.Description, p.Website, p.Endpoint, p.BridgePubKey = m.Name, m.Description, m.Website, m.Endpoint, m.BridgePubKey
	p.Deregistered = false
	p.RegisteredAt, p.UpdatedAt = Time(ctx.Now()), Time(ctx.Now())
	setProvider(ctx.KV, signer, p)
	ctx.Emit("provider_registered", "provider", p.Address)
	return nil
}

// MsgUpdateProvider changes the signer's provider info; omitted (null)
// fields are unchanged.
type MsgUpdateProvider struct {
	Name         *string `json:"name,omitempty"`
	Description  *string `json:"description,omitempty"`
	Website      *string `json:"website,omitempty"`
	Endpoint     *string `json:"bridge_endpoint,omitempty"`
	BridgePubKey []byte  `json:"bridge_pub_key,omitempty"`
}

func (m *MsgUpdateProvider) ValidateBasic() error {
	if m.Name == nil && m.Description == nil && m.Website == nil && m.Endpoint == nil && m.BridgePubKey == nil {
		return Errf(CodeInvalidMessage, "nothing to update: set at least one of name, description, website, bridge_endpoint, bridge_pub_key")
	}
	name, desc, web, ep, key := "x", "", "", "http://x", make([]byte, 32)
	if m.Name != nil {
		name = *m.Name
	}
	if m.Description != nil {
		desc = *m.Description
	}
	if m.Website != nil {
		web = *m.Website
	}
	if m.Endpoint != nil {
		ep = *m.Endpoint
	}
	if m.BridgePubKey != nil {
		key = m.BridgePubKey
	}
	return checkProviderInfo(name, desc, web, ep, key)
}

func activeProvider(kv KV, signer []byte) (*Provider, error) {
	p, ok := GetProvider(kv, signer)
	if !ok || p.Deregistered {
		return nil, Errf(CodeNotFound, "%s is not a registered provider; send market/register_provider first", address.Encode(signer))
	}
	return p, nil
}

func (m *MsgUpdateProvider) Handle(ctx *Context, signer []byte) error {
	p, err := activeProvider(ctx.KV, signer)
	if err != nil {
		return err
	}
	if m.Name != nil {
		p.Name = *m.Name
	}
	if m.Description != nil {
		p.Description = *m.Description
	}
	if m.Website != nil {
		p.Website = *m.Website
	}
	if m.Endpoint != nil {
		p.Endpoint = *m.Endpoint
	}
	if m.BridgePubKey != nil {
		p.BridgePubKey = m.BridgePubKey
	}
	p.UpdatedAt = Time(ctx.Now())
	setProvider(ctx.KV, signer, p)
	ctx.Emit("provider_updated", "provider", p.Address)
	return nil
}

// MsgStake bonds tokens from the signer's balance to its provider.
type MsgStake struct {
	Amount Amount `json:"amount"`
}

func (m *MsgStake) ValidateBasic() error {
	if m.Amount == 0 {
		return Errf(CodeInvalidAmount, "amount must be positive")
	}
	return nil
}

func (m *MsgStake) Handle(ctx *Context, signer []byte) error {
	p, err := activeProvider(ctx.KV, signer)
	if err != nil {
		return err
	}
	if p.Stake, err = Add(p.Stake, m.Amount); err != nil {
		return err
	}
	if err := ToPool(ctx.KV, signer, PoolStake, m.Amount); err != nil {
		return err
	}
	setProvider(ctx.KV, signer, p)
	ctx.Emit("stake", "provider", p.Address, "amount", m.Amount.String(), "stake", p.Stake.String())
	return nil
}

// MsgUnstake starts unbonding part of the provider's stake; it is paid back
// after unbonding_period and stays slashable until then.
type MsgUnstake struct {
	Amount Amount `json:"amount"`
}

func (m *MsgUnstake) ValidateBasic() error {
	if m.Amount == 0 {
		return Errf(CodeInvalidAmount, "amount must be positive")
	}
	return nil
}

func startUnbonding(ctx *Context, signer []byte, p *Provider, amt Amount) {
	mp := getMarketParams(ctx.KV)
	seq := nextSeq(ctx.KV, keySeqUnbond)
	at := ctx.Now() + mp.Unbonding
	p.Stake -= amt
	p.Unbonding = append(p.Unbonding, UnbondingEntry{Amount: amt, ReleaseAt: Time(at), Seq: seq})
	ctx.KV.Set(mkKey(keyQueueUnbond, be8(uint64(at)), signer, be8(seq)), []byte{})
	ctx.Emit("unbond", "provider", p.Address, "amount", amt.String(), "release_at", itoa(at))
}

func (m *MsgUnstake) Handle(ctx *Context, signer []byte) error {
	p, err := activeProvider(ctx.KV, signer)
	if err != nil {
		return err
	}
	if m.Amount > p.Stake {
		return Errf(CodeInsufficientStake, "provider has %d%s bonded, cannot unstake %d%s", p.Stake, Denom, m.Amount, Denom)
	}
	mp := getMarketParams(ctx.KV)
	need, err := mulAmount(mp.MinUnitStake, p.LiveUnits)
	if err != nil {
		return err
	}
	if p.Stake-m.Amount < need {
		return Errf(CodeInsufficientStake, "%d live units need %d%s bonded (min_unit_stake %d each); at most %d%s can be unstaked", p.LiveUnits, need, Denom, mp.MinUnitStake, p.Stake-need, Denom)
	}
	startUnbonding(ctx, signer, p, m.Amount)
	setProvider(ctx.KV, signer, p)
	return nil
}

// MsgDeregisterProvider retires the signer's provider; all bonded stake
// starts unbonding. Only allowed when every unit is deleted.
type MsgDeregisterProvider struct{}

func (m *MsgDeregisterProvider) ValidateBasic() error { return nil }

func (m *MsgDeregisterProvider) Handle(ctx *Context, signer []byte) error {
	p, err := activeProvider(ctx.KV, signer)
	if err != nil {
		return err
	}
	if p.LiveUnits > 0 {
		return Errf(CodeWrongState, "provider still has %d live units; decommission and delete them first", p.LiveUnits)
	}
	if p.Stake > 0 {
		startUnbonding(ctx, signer, p, p.Stake)
	}
	p.Deregistered = true
	p.UpdatedAt = Time(ctx.Now())
	setProvider(ctx.KV, signer, p)
	ctx.Emit("provider_deregistered", "provider", p.Address)
	return nil
}

func mulAmount(a Amount, n uint64) (Amount, error) {
	v, err := MulDiv(uint64(a), n, 1)
	if err != nil {
		return 0, Errf(CodeOverflow, "%d x %d overflows", a, n)
	}
	return Amount(v), nil
}

// ---- units ----

// MsgAddUnit publishes a data unit of the signer's provider.
type MsgAddUnit struct {
	Kind         string   `json:"kind"`
	Region       string   `json:"region"`
	Country      string   `json:"country"`
	Capacity     uint64   `json:"capacity_bytes"`
	StoragePrice Amount   `json:"storage_price"` // uflash per GiB-month
	EgressPrice  Amount   `json:"egress_price"`  // uflash per GiB
	SLA          SLAOffer `json:"sla"`
	Features     Features `json:"features"`
	AutoAccept   bool     `json:"auto_accept"`
}

func (m *MsgAddUnit) ValidateBasic() error {
	if !unitKinds[m.Kind] {
		return Errf(CodeInvalidMessage, "kind %q is not one of s3, azure-blob, gcs, local, function", m.Kind)
	}
	if err := checkRegion(m.Region, m.Country); err != nil {
		return err
	}
	if m.Capacity == 0 {
		return Errf(CodeInvalidMessage, "capacity_bytes must be positive")
	}
	return m.SLA.validate()
}

func (m *MsgAddUnit) Handle(ctx *Context, signer []byte) error {
	p, err := activeProvider(ctx.KV, signer)
	if err != nil {
		return err
	}
	mp := getMarketParams(ctx.KV)
	need, err := mulAmount(mp.MinUnitStake, p.LiveUnits+1)
	if err != nil {
		return err
	}
	if p.Stake < need {
		return Errf(CodeInsufficientStake, "%d units need %d%s bonded (min_unit_stake %d each), provider has %d%s; stake %d%s more", p.LiveUnits+1, need, Denom, mp.MinUnitStake, p.Stake, Denom, need-p.Stake, Denom)
	}
	n := nextSeq(ctx.KV, keySeqUnit)
	now := ctx.Now()
	u := &Unit{
		ID: unitIDString(n), Provider: p.Address, Kind: m.Kind, Region: m.Region, Country: m.Country,
		Capacity: m.Capacity, StoragePrice: m.StoragePrice, EgressPrice: m.EgressPrice, SLA: m.SLA,
		Features: m.Features, AutoAccept: m.AutoAccept, Status: UnitAvailable, Score: DefaultScore,
		FeeBps: mp.FeeBps, CreatedAt: Time(now), UpdatedAt: Time(now),
		Settlement: Settlement{SumRate: "0", Accrued: "0", AccruedTo: Time(now)},
	}
	setUnit(ctx.KV, u)
	indexUnit(ctx.KV, u)
	ctx.KV.Set(mkKey(keyProvUnits, signer, be8(n)), []byte{})
	p.LiveUnits++
	setProvider(ctx.KV, signer, p)
	ctx.Emit("unit_added", "unit", u.ID, "provider", p.Address, "kind", u.Kind, "capacity_bytes", utoa(u.Capacity))
	return nil
}

// ownUnit loads a unit and checks the signer owns it.
func ownUnit(kv KV, signer []byte, id string) (*Unit, error) {
	if _, err := parseUnitID(id); err != nil {
		return nil, err
	}
	u, ok := GetUnit(kv, id)
	if !ok {
		return nil, Errf(CodeNotFound, "unit %s not found", id)
	}
	if u.Provider != address.Encode(signer) {
		return nil, Errf(CodeUnauthorized, "unit %s belongs to %s; only its provider can change it", id, u.Provider)
	}
	return u, nil
}

// MsgUpdateUnit changes a unit's terms; omitted (null) fields are
// unchanged. New prices and SLA apply to new reservations only.
type MsgUpdateUnit struct {
	Unit         string    `json:"unit"`
	Capacity     *uint64   `json:"capacity_bytes,omitempty"`
	StoragePrice *Amount   `json:"storage_price,omitempty"`
	EgressPrice  *Amount   `json:"egress_price,omitempty"`
	SLA          *SLAOffer `json:"sla,omitempty"`
	Features     *Features `json:"features,omitempty"`
	AutoAccept   *bool     `json:"auto_accept,omitempty"`
}

func (m *MsgUpdateUnit) ValidateBasic() error {
	if _, err := parseUnitID(m.Unit); err != nil {
		return err
	}
	if m.Capacity == nil && m.StoragePrice == nil && m.EgressPrice == nil && m.SLA == nil && m.Features == nil && m.AutoAccept == nil {
		return Errf(CodeInvalidMessage, "nothing to update: set at least one of capacity_bytes, storage_price, egress_price, sla, features, auto_accept")
	}
	if m.Capacity != nil && *m.Capacity == 0 {
		return Errf(CodeInvalidMessage, "capacity_bytes must be positive")
	}
	if m.SLA != nil {
		return m.SLA.validate()
	}
	return nil
}

func (m *MsgUpdateUnit) Handle(ctx *Context, signer []byte) error {
	u, err := ownUnit(ctx.KV, signer, m.Unit)
	if err != nil {
		return err
	}
	if u.Status != UnitAvailable && u.Status != UnitMaintenance {
		return Errf(CodeWrongState, "unit %s is %s; only available or maintenance units can be updated", u.ID, u.Status)
	}
	if m.Capacity != nil && *m.Capacity < u.Reserved {
		return Errf(CodeNoCapacity, "capacity_bytes %d is below the %d bytes already reserved", *m.Capacity, u.Reserved)
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
		qosNoteSLA(ctx.KV, u, *m.SLA, ctx.Now()) // QoS keeps judging by the old terms (qos_epoch.go)
		u.SLA = *m.SLA
	}
	if m.Features != nil {
		u.Features = *m.Features
	}
	if m.AutoAccept != nil {
		u.AutoAccept = *m.AutoAccept
	}
	u.UpdatedAt = Time(ctx.Now())
	indexUnit(ctx.KV, u)
	setUnit(ctx.KV, u)
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
}

func (m *MsgUnitMaintenance) ValidateBasic() error {
	if _, err := parseUnitID(m.Unit); err != nil {
		return err
	}
	switch m.Action {
	case MaintenanceStart, MaintenanceAnnounce:
		if m.WindowEnd <= 0 || m.WindowStart < 0 || (m.WindowStart > 0 && m.WindowEnd <= m.WindowStart) {
			return Errf(CodeInvalidMessage, "window_end must be after window_start (unix seconds)")
		}
		if m.WindowEnd > int64(MaxTime) {
			return Errf(CodeInvalidMessage, "window_end %d is after %s", m.WindowEnd, MaxTime)
		}
	case MaintenanceEnd:
	default:
		return Errf(CodeInvalidMessage, "action %q must be start, end or announce", m.Action)
	}
	return nil
}

func (m *MsgUnitMaintenance) Handle(ctx *Context, signer []byte) error {
	u, err := ownUnit(ctx.KV, signer, m.Unit)
	if err != nil {
		return err
	}
	now := ctx.Now()
	switch m.Action {
	case MaintenanceStart:
		if u.Status != UnitAvailable {
			return Errf(CodeWrongState, "unit %s is %s; only an available unit can enter maintenance", u.ID, u.Status)
		}
		start := m.WindowStart
		if start == 0 || start > now {
			start = now
		}
		if m.WindowEnd <= now {
			return Errf(CodeInvalidMessage, "window_end %d is not in the future (now %d)", m.WindowEnd, now)
		}
		u.Status = UnitMaintenance
		u.Maintenance = &MaintenanceWindow{Start: Time(start), End: Time(m.WindowEnd)}
	case MaintenanceEnd:
		if u.Status != UnitMaintenance {
			return Errf(CodeWrongState, "unit %s is %s, not in maintenance", u.ID, u.Status)
		}
		u.Status = UnitAvailable
		u.Maintenance = nil
	case MaintenanceAnnounce:
		if u.Status != UnitAvailable && u.Status != UnitMaintenance {
			return Errf(CodeWrongState, "unit %s is %s; maintenance can only be announced for available units", u.ID, u.Status)
		}
		if m.WindowStart < now {
			return Errf(CodeInvalidMessage, "window_start %d is in the past (now %d)", m.WindowStart, now)
		}
		u.Maintenance = &MaintenanceWindow{Start: Time(m.WindowStart), End: Time(m.WindowEnd)}
	}
	u.UpdatedAt = Time(now)
	setUnit(ctx.KV, u)
	qosNoteMaintenance(ctx.KV, u, m.Action, now) // QoS maintenance log (qos_epoch.go)
	ctx.Emit("unit_maintenance", "unit", u.ID, "action", m.Action, "status", u.Status)
	return nil
}

// MsgDecommissionUnit stops new reservations on a unit; existing ones run
// to term.
type MsgDecommissionUnit struct {
	Unit string `json:"unit"`
}

func (m *MsgDecommissionUnit) ValidateBasic() error { _, err := parseUnitID(m.Unit); return err }

func (m *MsgDecommissionUnit) Handle(ctx *Context, signer []byte) error {
	u, err := ownUnit(ctx.KV, signer, m.Unit)
	if err != nil {
		return err
	}
	if u.Status != UnitAvailable && u.Status != UnitMaintenance {
		return Errf(CodeWrongState, "unit %s is %s; only available or maintenance units can be decommissioned", u.ID, u.Status)
	}
	u.Status = UnitDecommissioning
	u.UpdatedAt = Time(ctx.Now())
	setUnit(ctx.KV, u)
	ctx.Emit("unit_decommissioning", "unit", u.ID)
	return nil
}

// MsgDeleteUnit deletes a decommissioning unit after its last reservation
// ended; its remaining revenue is claimed for the provider.
type MsgDeleteUnit struct {
	Unit string `json:"unit"`
}

func (m *MsgDeleteUnit) ValidateBasic() error { _, err := parseUnitID(m.Unit); return err }

func (m *MsgDeleteUnit) Handle(ctx *Context, signer []byte) error {
	u, err := ownUnit(ctx.KV, signer, m.Unit)
	if err != nil {
		return err
	}
	if u.Status != UnitDecommissioning {
		return Errf(CodeWrongState, "unit %s is %s; decommission it first (market/decommission_unit)", u.ID, u.Status)
	}
	if u.LiveReservations > 0 {
		return Errf(CodeWrongState, "unit %s still has %d live reservations; delete it after the last one ends", u.ID, u.LiveReservations)
	}
	mp := getMarketParams(ctx.KV)
	accrueUnit(u, ctx.Now(), mp)
	if _, _, err := claimUnit(ctx.KV, u, signer); err != nil {
		return err
	}
	// What is left is below one uflash for the provider and the treasury:
	// hand it to the dust account so the unit holds nothing.
	s := &u.Settlement
	rest := new(big.Int).Mul(bi(s.Accrued), bi64(int64(BpsDenom)+int64(u.FeeBps)))
	rest.Sub(rest, new(big.Int).Mul(bu(uint64(s.ClaimedNet+s.ClaimedFee)), bigDx))
	if err := addDust(ctx.KV, rest); err != nil {
		return err
	}
	unindexUnit(ctx.KV, u)
	u.Status = UnitDeleted
	u.UpdatedAt = Time(ctx.Now())
	setUnit(ctx.KV, u)
	p, _ := GetProvider(ctx.KV, signer)
	p.LiveUnits--
	setProvider(ctx.KV, signer, p)
	ctx.Emit("unit_deleted", "unit", u.ID)
	return nil
}

// ---- reservations ----

// MsgReserve reserves capacity on a unit for a term with escrowed payment.
type MsgReserve struct {
	Unit        string `json:"unit"`
	Bytes       uint64 `json:"bytes"`
	Term        int64  `json:"term_seconds"`
	EgressBytes uint64 `json:"egress_bytes"`
	// MaxPrice is the highest storage price (uflash per GiB-month) the
	// consumer accepts.
	MaxPrice Amount `json:"max_price"`
}

func (m *MsgReserve) ValidateBasic() error {
	if _, err := parseUnitID(m.Unit); err != nil {
		return err
	}
	if m.Bytes == 0 {
		return Errf(CodeInvalidMessage, "bytes must be positive")
	}
	if m.Term <= 0 {
		return Errf(CodeInvalidMessage, "term_seconds must be positive")
	}
	return nil
}

func (m *MsgReserve) Handle(ctx *Context, signer []byte) error {
	kv := ctx.KV
	mp := getMarketParams(kv)
	u, ok := GetUnit(kv, m.Unit)
	if !ok {
		return Errf(CodeNotFound, "unit %s not found", m.Unit)
	}
	if u.Status != UnitAvailable {
		return Errf(CodeWrongState, "unit %s is %s; only available units take reservations", u.ID, u.Status)
	}
	if err := checkNotSuspended(kv, u); err != nil { // QoS (qos_epoch.go)
		return err
	}
	consumer := address.Encode(signer)
	if u.Provider == consumer {
		return Errf(CodeUnauthorized, "a provider cannot reserve its own unit %s", u.ID)
	}
	if m.Term > mp.MaxTerm {
		return Errf(CodeInvalidMessage, "term_seconds %d is longer than max_term %d", m.Term, mp.MaxTerm)
	}
	if u.StoragePrice > m.MaxPrice {
		return Errf(CodePriceTooHigh, "unit %s costs %d%s per GiB-month, above your max_price %d", u.ID, u.StoragePrice, Denom, m.MaxPrice)
	}
	if m.Bytes > u.Capacity-u.Reserved {
		return Errf(CodeNoCapacity, "unit %s has %d bytes free, %d requested", u.ID, u.Capacity-u.Reserved, m.Bytes)
	}
	commit := new(big.Int).Mul(new(big.Int).Mul(bu(uint64(u.StoragePrice)), bu(m.Bytes)), bi64(m.Term))
	sEsc, err := storageEscrow(commit, u.FeeBps)
	if err != nil {
		return err
	}
	eNet, eFee, err := egressEscrow(m.EgressBytes, u.EgressPrice, u.FeeBps)
	if err != nil {
		return err
	}
	total, err := Add(sEsc, eNet)
	if err == nil {
		total, err = Add(total, eFee)
	}
	if err != nil {
		return Errf(CodeOverflow, "escrow for this reservation overflows an amount; reserve less")
	}
	if err := ToPool(kv, signer, PoolEscrow, total); err != nil {
		return err
	}
	n := nextSeq(kv, keySeqRes)
	now := ctx.Now()
	r := &Reservation{
		ID: resIDString(n), Unit: u.ID, Provider: u.Provider, Consumer: consumer,
		Bytes: m.Bytes, Term: m.Term, EgressBytes: m.EgressBytes, LastUsage: -1,
		StoragePrice: u.StoragePrice, EgressPrice: u.EgressPrice, FeeBps: u.FeeBps,
		SLA: u.SLA, Features: u.Features, Status: ResPending, CreatedAt: Time(now),
		Commitment: bs(commit), PaidPBS: "0", StorageEsc: sEsc, EgressEsc: eNet, EgressFeeEsc: eFee,
		Escrowed: total,
	}
	owner, _ := address.Parse(u.Provider)
	un, _ := parseUnitID(u.ID)
	kv.Set(mkKey(keyResConsumer, signer, be8(n)), []byte{})
	kv.Set(mkKey(keyResProvider, owner, be8(n)), []byte{})
	kv.Set(mkKey(keyResUnit, be8(un), be8(n)), []byte{})
	u.Reserved += m.Bytes
	u.LiveReservations++
	if u.AutoAccept {
		activate(u, r, now, mp, kv)
	} else {
		r.AcceptBy = Time(now + mp.Accept)
		kv.Set(mkKey(keyQueueAccept, be8(uint64(r.AcceptBy)), be8(n)), []byte{})
	}
	setUnit(kv, u)
	setReservation(kv, r)
	ctx.Emit("reservation_created", "id", r.ID, "unit", u.ID, "consumer", consumer, "provider", u.Provider,
		"status", r.Status, "escrow", total.String(), "bytes", utoa(r.Bytes), "end", itoa(r.End.Unix()))
	return nil
}

// activate starts the reservation's term at now.
func activate(u *Unit, r *Reservation, now int64, mp marketParams, kv KV) {
	accrueUnit(u, now, mp)
	sr := bi(u.Settlement.SumRate)
	sr.Add(sr, resRate(r))
	u.Settlement.SumRate = bs(sr)
	r.Status = ResActive
	r.Start, r.End, r.SettledTo = Time(now), Time(now+r.Term), Time(now)
	compOnActivate(kv, u, r, now) // QoS compensation base (qos_comp.go)
	if r.AcceptBy != 0 {
		n, _ := parseResID(r.ID)
		kv.Delete(mkKey(keyQueueAccept, be8(uint64(r.AcceptBy)), be8(n)))
		r.AcceptBy = 0
	}
	n, _ := parseResID(r.ID)
	kv.Set(mkKey(keyQueueEnd, be8(uint64(r.End)), be8(n)), []byte{})
}

func loadRes(kv KV, id string) (*Reservation, *Unit, error) {
	if _, err := parseResID(id); err != nil {
		return nil, nil, err
	}
	r, ok := GetReservation(kv, id)
	if !ok {
		return nil, nil, Errf(CodeNotFound, "reservation %s not found", id)
	}
	u, ok := GetUnit(kv, r.Unit)
	if !ok {
		return nil, nil, Errf(CodeInternal, "unit %s of reservation %s is missing", r.Unit, id)
	}
	return r, u, nil
}

// providerRes loads a reservation for its unit's provider.
func providerRes(kv KV, signer []byte, id string) (*Reservation, *Unit, error) {
	r, u, err := loadRes(kv, id)
	if err != nil {
		return nil, nil, err
	}
	if u.Provider != address.Encode(signer) {
		return nil, nil, Errf(CodeUnauthorized, "reservation %s is on unit %s of %s; only that provider can do this", id, u.ID, u.Provider)
	}
	return r, u, nil
}

// consumerRes loads a live reservation for its consumer.
func consumerRes(kv KV, signer []byte, id string) (*Reservation, *Unit, error) {
	r, u, err := loadRes(kv, id)
	if err != nil {
		return nil, nil, err
	}
	if r.Consumer != address.Encode(signer) {
		return nil, nil, Errf(CodeUnauthorized, "reservation %s belongs to %s; only its consumer can change it", id, r.Consumer)
	}
	if !r.live() {
		return nil, nil, Errf(CodeWrongState, "reservation %s is %s", id, r.Status)
	}
	return r, u, nil
}

type resRef struct {
	Reservation string `json:"reservation"`
}

func (m *resRef) ValidateBasic() error { _, err := parseResID(m.Reservation); return err }

// MsgAcceptReservation is the provider accepting a pending reservation; its
// term starts now.
type MsgAcceptReservation struct{ resRef }

func (m *MsgAcceptReservation) Handle(ctx *Context, signer []byte) error {
	r, u, err := providerRes(ctx.KV, signer, m.Reservation)
	if err != nil {
		return err
	}
	if r.Status != ResPending {
		return Errf(CodeWrongState, "reservation %s is %s, not pending", r.ID, r.Status)
	}
	if u.Status != UnitAvailable && u.Status != UnitMaintenance {
		return Errf(CodeWrongState, "unit %s is %s; reject the reservation instead", u.ID, u.Status)
	}
	activate(u, r, ctx.Now(), getMarketParams(ctx.KV), ctx.KV)
	setUnit(ctx.KV, u)
	setReservation(ctx.KV, r)
	ctx.Emit("reservation_accepted", "id", r.ID, "unit", u.ID, "end", itoa(r.End.Unix()))
	return nil
}

// MsgRejectReservation is the provider refusing a pending reservation; the
// consumer gets everything back.
type MsgRejectReservation struct{ resRef }

func (m *MsgRejectReservation) Handle(ctx *Context, signer []byte) error {
	r, u, err := providerRes(ctx.KV, signer, m.Reservation)
	if err != nil {
		return err
	}
	if r.Status != ResPending {
		return Errf(CodeWrongState, "reservation %s is %s, not pending", r.ID, r.Status)
	}
	if err := finishRes(ctx, u, r, ctx.Now(), ResRejected, getMarketParams(ctx.KV)); err != nil {
		return err
	}
	setUnit(ctx.KV, u)
	setReservation(ctx.KV, r)
	return nil
}

// escrowMore moves delta from the consumer into escrow for r.
func escrowMore(kv KV, consumer []byte, r *Reservation, delta Amount) error {
	total, err := Add(r.Escrowed, delta)
	if err != nil {
		return err
	}
	if err := ToPool(kv, consumer, PoolEscrow, delta); err != nil {
		return err
	}
	r.Escrowed = total
	return nil
}

// MsgTopUp adds egress allowance to a reservation (escrowed at its price).
type MsgTopUp struct {
	Reservation string `json:"reservation"`
	EgressBytes uint64 `json:"egress_bytes"`
}

func (m *MsgTopUp) ValidateBasic() error {
	if _, err := parseResID(m.Reservation); err != nil {
		return err
	}
	if m.EgressBytes == 0 {
		return Errf(CodeInvalidMessage, "egress_bytes must be positive")
	}
	return nil
}

func (m *MsgTopUp) Handle(ctx *Context, signer []byte) error {
	r, _, err := consumerRes(ctx.KV, signer, m.Reservation)
	if err != nil {
		return err
	}
	allow := r.EgressBytes + m.EgressBytes
	if allow < r.EgressBytes {
		return Errf(CodeOverflow, "egress allowance would overflow")
	}
	eNet, eFee, err := egressEscrow(allow, r.EgressPrice, r.FeeBps)
	if err != nil {
		return err
	}
	delta, err := Add(eNet-r.EgressEsc, eFee-r.EgressFeeEsc)
	if err != nil {
		return err
	}
	if err := escrowMore(ctx.KV, signer, r, delta); err != nil {
		return err
	}
	r.EgressBytes, r.EgressEsc, r.EgressFeeEsc = allow, eNet, eFee
	setReservation(ctx.KV, r)
	ctx.Emit("reservation_topup", "id", r.ID, "egress_bytes", utoa(allow), "escrow", delta.String())
	return nil
}

// MsgExtend lengthens a reservation's term at its own price.
type MsgExtend struct {
	Reservation  string `json:"reservation"`
	ExtraSeconds int64  `json:"extra_seconds"`
}

func (m *MsgExtend) ValidateBasic() error {
	if _, err := parseResID(m.Reservation); err != nil {
		return err
	}
	if m.ExtraSeconds <= 0 {
		return Errf(CodeInvalidMessage, "extra_seconds must be positive")
	}
	return nil
}

func (m *MsgExtend) Handle(ctx *Context, signer []byte) error {
	kv := ctx.KV
	r, u, err := consumerRes(kv, signer, m.Reservation)
	if err != nil {
		return err
	}
	if u.Status == UnitDecommissioning || u.Status == UnitDeleted {
		return Errf(CodeWrongState, "unit %s is %s; reservations on it cannot be extended", u.ID, u.Status)
	}
	mp := getMarketParams(kv)
	if m.ExtraSeconds > mp.MaxTerm-r.Term {
		return Errf(CodeInvalidMessage, "term would be %d+%d seconds, longer than max_term %d", r.Term, m.ExtraSeconds, mp.MaxTerm)
	}
	commit := bi(r.Commitment)
	commit.Add(commit, new(big.Int).Mul(resRate(r), bi64(m.ExtraSeconds)))
	sEsc, err := storageEscrow(commit, r.FeeBps)
	if err != nil {
		return err
	}
	delta := sEsc - r.StorageEsc
	if err := escrowMore(kv, signer, r, delta); err != nil {
		return err
	}
	r.Commitment, r.StorageEsc = bs(commit), sEsc
	r.Term += m.ExtraSeconds
	if r.Status == ResActive {
		n, _ := parseResID(r.ID)
		kv.Delete(mkKey(keyQueueEnd, be8(uint64(r.End)), be8(n)))
		r.End += Time(m.ExtraSeconds)
		kv.Set(mkKey(keyQueueEnd, be8(uint64(r.End)), be8(n)), []byte{})
	}
	setReservation(kv, r)
	ctx.Emit("reservation_extended", "id", r.ID, "end", itoa(r.End.Unix()), "escrow", delta.String())
	return nil
}

// MsgResize grows a reservation to Bytes (the new total) for the rest of
// its term, escrowing the difference.
type MsgResize struct {
	Reservation string `json:"reservation"`
	Bytes       uint64 `json:"bytes"`
}

func (m *MsgResize) ValidateBasic() error {
	if _, err := parseResID(m.Reservation); err != nil {
		return err
	}
	if m.Bytes == 0 {
		return Errf(CodeInvalidMessage, "bytes must be positive")
	}
	return nil
}

func (m *MsgResize) Handle(ctx *Context, signer []byte) error {
	kv := ctx.KV
	r, u, err := consumerRes(kv, signer, m.Reservation)
	if err != nil {
		return err
	}
	if m.Bytes <= r.Bytes {
		return Errf(CodeInvalidMessage, "bytes %d must be larger than the reserved %d (reservations only grow)", m.Bytes, r.Bytes)
	}
	if u.Status != UnitAvailable {
		return Errf(CodeWrongState, "unit %s is %s; only available units can grow reservations", u.ID, u.Status)
	}
	grow := m.Bytes - r.Bytes
	if grow > u.Capacity-u.Reserved {
		return Errf(CodeNoCapacity, "unit %s has %d bytes free, %d more requested", u.ID, u.Capacity-u.Reserved, grow)
	}
	mp := getMarketParams(kv)
	now := ctx.Now()
	remaining := r.Term
	if r.Status == ResActive {
		remaining = r.End.Unix() - now
	}
	dRate := new(big.Int).Mul(bu(uint64(r.StoragePrice)), bu(grow))
	commit := bi(r.Commitment)
	commit.Add(commit, new(big.Int).Mul(dRate, bi64(remaining)))
	sEsc, err := storageEscrow(commit, r.FeeBps)
	if err != nil {
		return err
	}
	delta := sEsc - r.StorageEsc
	if err := escrowMore(kv, signer, r, delta); err != nil {
		return err
	}
	if r.Status == ResActive {
		accrueUnit(u, now, mp)
		settleRes(kv, u, r, now, mp)
		if _, err := compCollect(ctx, u, r, compResize, grow); err != nil { // QoS compensation (qos_comp.go)
			return err
		}
		sr := bi(u.Settlement.SumRate)
		sr.Add(sr, dRate)
		u.Settlement.SumRate = bs(sr)
	}
	r.Bytes = m.Bytes
	r.Commitment, r.StorageEsc = bs(commit), sEsc
	u.Reserved += grow
	setUnit(kv, u)
	setReservation(kv, r)
	ctx.Emit("reservation_resized", "id", r.ID, "bytes", utoa(r.Bytes), "escrow", delta.String())
	return nil
}

// MsgCloseReservation ends a reservation early: settled to now, the unused
// escrow refunded. A pending one is cancelled with a full refund.
type MsgCloseReservation struct{ resRef }

func (m *MsgCloseReservation) Handle(ctx *Context, signer []byte) error {
	r, u, err := consumerRes(ctx.KV, signer, m.Reservation)
	if err != nil {
		return err
	}
	mp := getMarketParams(ctx.KV)
	if r.Status == ResActive {
		accrueUnit(u, ctx.Now(), mp)
	}
	if err := finishRes(ctx, u, r, ctx.Now(), ResCancelled, mp); err != nil {
		return err
	}
	setUnit(ctx.KV, u)
	setReservation(ctx.KV, r)
	return nil
}

// MsgClaim pays the signer's provider its final revenue on one unit, or on
// all its units when Unit is empty.
type MsgClaim struct {
	Unit string `json:"unit,omitempty"`
}

func (m *MsgClaim) ValidateBasic() error {
	if m.Unit != "" {
		_, err := parseUnitID(m.Unit)
		return err
	}
	return nil
}

func (m *MsgClaim) Handle(ctx *Context, signer []byte) error {
	kv := ctx.KV
	mp := getMarketParams(kv)
	var units []*Unit
	if m.Unit != "" {
		u, err := ownUnit(kv, signer, m.Unit)
		if err != nil {
			return err
		}
		units = append(units, u)
	} else {
		if _, ok := GetProvider(kv, signer); !ok {
			return Errf(CodeNotFound, "%s is not a provider", address.Encode(signer))
		}
		pfx := mkKey(keyProvUnits, signer)
		var ids []uint64
		kv.Iterate(pfx, PrefixEnd(pfx), func(k, _ []byte) bool {
			ids = append(ids, beU64(k[len(pfx):]))
			return true
		})
		for _, n := range ids {
			if u, ok := getUnitN(kv, n); ok && u.Status != UnitDeleted {
				units = append(units, u)
			}
		}
	}
	for _, u := range units {
		if u.Status == UnitDeleted {
			continue
		}
		accrueUnit(u, ctx.Now(), mp)
		net, fee, err := claimUnit(kv, u, signer)
		if err != nil {
			return err
		}
		setUnit(kv, u)
		if net > 0 || fee > 0 {
			ctx.Emit("claim", "unit", u.ID, "provider", u.Provider, "amount", net.String(), "fee", fee.String())
		}
	}
	return nil
}

// MsgReportUsage is the bridge (signing with the provider key) reporting a
// reservation's usage for an epoch. Egress is charged from the escrowed
// allowance, never beyond it, and paid to the provider at once.
type MsgReportUsage struct {
	Reservation  string `json:"reservation"`
	Epoch        int64  `json:"epoch"`
	StoredBytes  uint64 `json:"stored_bytes"`
	IngressBytes uint64 `json:"ingress_bytes"`
	EgressBytes  uint64 `json:"egress_bytes"`
}

func (m *MsgReportUsage) ValidateBasic() error {
	if _, err := parseResID(m.Reservation); err != nil {
		return err
	}
	if m.Epoch < 0 {
		return Errf(CodeInvalidMessage, "epoch must not be negative")
	}
	return nil
}

func (m *MsgReportUsage) Handle(ctx *Context, signer []byte) error {
	kv := ctx.KV
	r, u, err := providerRes(kv, signer, m.Reservation)
	if err != nil {
		return err
	}
	if r.Status != ResActive {
		return Errf(CodeWrongState, "reservation %s is %s; usage is reported for active reservations", r.ID, r.Status)
	}
	mp := getMarketParams(kv)
	if cur := epochOf(ctx.Now(), mp.Epoch); m.Epoch > cur {
		return Errf(CodeInvalidMessage, "epoch %d is in the future (current epoch %d)", m.Epoch, cur)
	}
	if m.Epoch <= r.LastUsage {
		return Errf(CodeWrongState, "usage of reservation %s for epoch %d was already reported (last %d)", r.ID, m.Epoch, r.LastUsage)
	}
	used := r.EgressUsed + m.EgressBytes
	if used < r.EgressUsed || used > r.EgressBytes {
		used = r.EgressBytes
		ctx.Emit("egress_allowance_exhausted", "id", r.ID)
	}
	netTot, feeTot, err := egressEscrow(used, r.EgressPrice, r.FeeBps)
	if err != nil {
		return err
	}
	netTot, feeTot = min(netTot, r.EgressEsc), min(feeTot, r.EgressFeeEsc)
	dNet, dFee := netTot-r.EgressPaid, feeTot-r.EgressFee
	owner, _ := address.Parse(u.Provider)
	if dNet > 0 {
		if err := FromPool(kv, PoolEscrow, owner, dNet); err != nil {
			return err
		}
	}
	if dFee > 0 {
		if err := PoolToPool(kv, PoolEscrow, PoolTreasury, dFee); err != nil {
			return err
		}
	}
	r.EgressUsed, r.EgressPaid, r.EgressFee = used, netTot, feeTot
	statsPaid(kv, dNet, dFee)
	if u.Used >= r.StoredBytes {
		u.Used -= r.StoredBytes
	} else {
		u.Used = 0
	}
	u.Used += m.StoredBytes
	r.StoredBytes = m.StoredBytes
	r.IngressBytes += m.IngressBytes
	r.LastUsage = m.Epoch
	u.Settlement.EgressEarned += dNet
	setUnit(kv, u)
	setReservation(kv, r)
	ctx.Emit("usage", "id", r.ID, "epoch", itoa(m.Epoch), "egress_bytes", utoa(m.EgressBytes),
		"egress_paid", dNet.String(), "fee", dFee.String())
	return nil
}
