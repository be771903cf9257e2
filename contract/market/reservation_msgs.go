package market

import (
	"math/big"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/store"
)

// ---- reservations ----

// MsgReserve reserves capacity on a unit for a term with escrowed payment.
type MsgReserve struct {
	Unit        string `json:"unit"`
	Bytes       uint64 `json:"bytes"`
	Term        int64  `json:"term_seconds"`
	EgressBytes uint64 `json:"egress_bytes"`
	// MaxPrice is the highest storage price (uflash per GiB-month) the
	// consumer accepts.
	MaxPrice core.Amount `json:"max_price"`
	// MaxEgressPrice, when set, is the highest egress price (uflash per
	// GiB) the consumer accepts; the unit's price is copied into the
	// reservation, so egress is never charged above it.
	MaxEgressPrice *core.Amount `json:"max_egress_price,omitempty"`

	// unitN is Unit's number, parsed once by ValidateBasic (which
	// DecodeMsg runs) for the handler.
	unitN uint64
}

func (m *MsgReserve) ValidateBasic() error {
	n, err := ParseUnitID(m.Unit)
	if err != nil {
		return err
	}
	m.unitN = n
	if m.Bytes == 0 {
		return core.Errf(core.CodeInvalidMessage, "bytes must be positive")
	}
	if m.Term <= 0 {
		return core.Errf(core.CodeInvalidMessage, "term_seconds must be positive")
	}
	return nil
}

// checkPrices refuses a unit whose prices rose above the consumer's limits.
func (m *MsgReserve) checkPrices(u *Unit) error {
	if u.StoragePrice > m.MaxPrice {
		return core.Errf(core.CodePriceTooHigh, "unit %s costs %d%s per GiB-month, above your max_price %d%s", u.ID, u.StoragePrice, core.Denom, m.MaxPrice, core.Denom)
	}
	if m.MaxEgressPrice != nil && u.EgressPrice > *m.MaxEgressPrice {
		return core.Errf(core.CodePriceTooHigh, "unit %s charges %d%s per GiB of egress, above your max_egress_price %d%s", u.ID, u.EgressPrice, core.Denom, *m.MaxEgressPrice, core.Denom)
	}
	return nil
}

func (mk *Keeper) handleReserve(ctx *core.Context, signer []byte, m *MsgReserve) error {
	kv := ctx.KV
	mp := ParamsOf(kv)
	unitN, err := UnitNumber(m.unitN, m.Unit)
	if err != nil {
		return err
	}
	u, ok := GetUnitN(kv, unitN)
	if !ok {
		return core.Errf(core.CodeNotFound, "unit %s not found", m.Unit)
	}
	if u.Status != UnitAvailable {
		return core.Errf(core.CodeWrongState, "unit %s is %s; only available units take reservations", u.ID, u.Status)
	}
	if err := checkProviderStaked(kv, u, mp); err != nil { // stake_rule.go
		return err
	}
	if err := mk.quality.CheckAdmits(kv, u); err != nil { // QoS (qos_epoch.go)
		return err
	}
	consumer := address.Encode(signer)
	if u.Provider == consumer {
		return core.Errf(core.CodeUnauthorized, "a provider cannot reserve its own unit %s", u.ID)
	}
	if err := mk.admitConsumer(kv, u, consumer); err != nil { // disputes (dispute_hooks.go)
		return err
	}
	if m.Term > mp.MaxTerm {
		return core.Errf(core.CodeInvalidMessage, "term_seconds is %d seconds, longer than max_term %d seconds", m.Term, mp.MaxTerm)
	}
	if err := m.checkPrices(u); err != nil {
		return err
	}
	if m.Bytes > u.Capacity-u.Reserved {
		return core.Errf(core.CodeNoCapacity, "unit %s has %d bytes free, %d bytes requested", u.ID, u.Capacity-u.Reserved, m.Bytes)
	}
	commit := new(big.Int).Mul(new(big.Int).Mul(core.BigFromUint(uint64(u.StoragePrice)), core.BigFromUint(m.Bytes)), core.BigFromInt(m.Term))
	sEsc, err := storageEscrow(commit, u.FeeBps)
	if err != nil {
		return err
	}
	eNet, eFee, err := egressEscrow(m.EgressBytes, u.EgressPrice, u.FeeBps)
	if err != nil {
		return err
	}
	total, err := core.Add(sEsc, eNet)
	if err == nil {
		total, err = core.Add(total, eFee)
	}
	if err != nil {
		return core.Errf(core.CodeOverflow, "escrow for this reservation overflows an amount; reserve less")
	}
	if err := bank.ToPool(kv, signer, bank.PoolEscrow, total); err != nil {
		return err
	}
	n := store.NextSequence(kv, KeySeqRes)
	now := ctx.Now()
	r := &Reservation{
		ID: ResIDString(n), Unit: u.ID, Provider: u.Provider, Consumer: consumer,
		Bytes: m.Bytes, Term: m.Term, EgressBytes: m.EgressBytes, LastUsage: -1,
		StoragePrice: u.StoragePrice, EgressPrice: u.EgressPrice, FeeBps: u.FeeBps,
		SLA: u.SLA, Features: u.Features, Status: ResPending, CreatedAt: core.Time(now),
		Commitment: core.BigToDecimal(commit), PaidPBS: "0", StorageEsc: sEsc, EgressEsc: eNet, EgressFeeEsc: eFee,
		Escrowed: total,
	}
	owner, _ := address.Parse(u.Provider)
	un, _ := ParseUnitID(u.ID)
	kv.Set(store.Key(keyResConsumer, signer, store.EncodeUint64(n)), []byte{})
	kv.Set(store.Key(keyResProvider, owner, store.EncodeUint64(n)), []byte{})
	kv.Set(store.Key(keyResUnit, store.EncodeUint64(un), store.EncodeUint64(n)), []byte{})
	u.Reserved += m.Bytes
	u.LiveReservations++
	if u.AutoAccept {
		mk.activate(u, r, now, mp, kv)
	} else {
		r.AcceptBy = core.Time(now + mp.Accept)
		kv.Set(store.Key(keyQueueAccept, store.EncodeUint64(uint64(r.AcceptBy)), store.EncodeUint64(n)), []byte{})
	}
	mk.setUnit(kv, u)
	SetReservation(kv, r)
	ctx.Emit("reservation_created", "id", r.ID, "unit", u.ID, "consumer", consumer, "provider", u.Provider,
		"status", r.Status, "escrow", total.String(), "bytes", utoa(r.Bytes), "end", itoa(r.End.Unix()))
	return nil
}

// activate starts the reservation's term at now.
func (mk *Keeper) activate(u *Unit, r *Reservation, now int64, mp Params, kv store.KV) {
	accrueUnit(u, now, mp)
	sr := core.BigFromDecimal(u.Settlement.SumRate)
	sr.Add(sr, ResRate(r))
	u.Settlement.SumRate = core.BigToDecimal(sr)
	r.Status = ResActive
	r.Start, r.End, r.SettledTo = core.Time(now), core.Time(now+r.Term), core.Time(now)
	mk.quality.ReservationActivated(kv, u, r, now) // QoS compensation base (qos_comp.go)
	if r.AcceptBy != 0 {
		n, _ := ParseResID(r.ID)
		kv.Delete(store.Key(keyQueueAccept, store.EncodeUint64(uint64(r.AcceptBy)), store.EncodeUint64(n)))
		r.AcceptBy = 0
	}
	n, _ := ParseResID(r.ID)
	kv.Set(store.Key(keyQueueEnd, store.EncodeUint64(uint64(r.End)), store.EncodeUint64(n)), []byte{})
}

// loadRes loads reservation n (parsed at decode) and its unit.
func loadRes(kv store.KV, n uint64) (*Reservation, *Unit, error) {
	id := ResIDString(n)
	r, ok := getReservationN(kv, n)
	if !ok {
		return nil, nil, core.Errf(core.CodeNotFound, "reservation %s not found", id)
	}
	u, ok := GetUnit(kv, r.Unit)
	if !ok {
		return nil, nil, core.Errf(core.CodeInternal, "unit %s of reservation %s is missing", r.Unit, id)
	}
	return r, u, nil
}

// providerRes loads a reservation for its unit's provider.
func providerRes(kv store.KV, signer []byte, n uint64) (*Reservation, *Unit, error) {
	id := ResIDString(n)
	r, u, err := loadRes(kv, n)
	if err != nil {
		return nil, nil, err
	}
	if u.Provider != address.Encode(signer) {
		return nil, nil, core.Errf(core.CodeUnauthorized, "reservation %s is on unit %s of %s; only that provider can do this", id, u.ID, u.Provider)
	}
	return r, u, nil
}

// ConsumerRes loads live reservation n (parsed at decode) for its
// consumer.
func ConsumerRes(kv store.KV, signer []byte, n uint64) (*Reservation, *Unit, error) {
	id := ResIDString(n)
	r, u, err := loadRes(kv, n)
	if err != nil {
		return nil, nil, err
	}
	if r.Consumer != address.Encode(signer) {
		return nil, nil, core.Errf(core.CodeUnauthorized, "reservation %s belongs to %s; only its consumer can change it", id, r.Consumer)
	}
	if !r.Live() {
		return nil, nil, core.Errf(core.CodeWrongState, "reservation %s is %s", id, r.Status)
	}
	return r, u, nil
}

// ResRef is a message that names one reservation.
type ResRef struct {
	Reservation string `json:"reservation"`

	// resN is Reservation's number, parsed once by ValidateBasic.
	resN uint64
}

func (m *ResRef) ValidateBasic() error {
	n, err := ParseResID(m.Reservation)
	m.resN = n
	return err
}

// resNumber is the reservation's number (see ResNumber).
func (m *ResRef) resNumber() (uint64, error) { return ResNumber(m.resN, m.Reservation) }

// acceptOpen refuses a pending reservation whose accept deadline passed
// before now: its expiry is queued (EndBlock may take it blocks later when
// many are due at once) and counts as of the deadline.
func acceptOpen(r *Reservation, now int64) error {
	if r.AcceptBy.Unix() < now {
		return core.Errf(core.CodeWrongState, "reservation %s was not accepted by %s; it expired", r.ID, r.AcceptBy)
	}
	return nil
}

// MsgAcceptReservation is the provider accepting a pending reservation; its
// term starts now.
type MsgAcceptReservation struct{ ResRef }

func (mk *Keeper) handleAcceptReservation(ctx *core.Context, signer []byte, m *MsgAcceptReservation) error {
	n, err := m.resNumber()
	if err != nil {
		return err
	}
	r, u, err := providerRes(ctx.KV, signer, n)
	if err != nil {
		return err
	}
	if r.Status != ResPending {
		return core.Errf(core.CodeWrongState, "reservation %s is %s, not pending", r.ID, r.Status)
	}
	if err := acceptOpen(r, ctx.Now()); err != nil {
		return err
	}
	if u.Status != UnitAvailable && u.Status != UnitMaintenance {
		return core.Errf(core.CodeWrongState, "unit %s is %s; reject the reservation instead", u.ID, u.Status)
	}
	mk.activate(u, r, ctx.Now(), ParamsOf(ctx.KV), ctx.KV)
	mk.setUnit(ctx.KV, u)
	SetReservation(ctx.KV, r)
	ctx.Emit("reservation_accepted", "id", r.ID, "unit", u.ID, "end", itoa(r.End.Unix()))
	return nil
}

// MsgRejectReservation is the provider refusing a pending reservation; the
// consumer gets everything back.
type MsgRejectReservation struct{ ResRef }

func (mk *Keeper) handleRejectReservation(ctx *core.Context, signer []byte, m *MsgRejectReservation) error {
	n, err := m.resNumber()
	if err != nil {
		return err
	}
	r, u, err := providerRes(ctx.KV, signer, n)
	if err != nil {
		return err
	}
	if r.Status != ResPending {
		return core.Errf(core.CodeWrongState, "reservation %s is %s, not pending", r.ID, r.Status)
	}
	if err := acceptOpen(r, ctx.Now()); err != nil {
		return err
	}
	if err := mk.finishRes(ctx, u, r, ctx.Now(), ResRejected, ParamsOf(ctx.KV)); err != nil {
		return err
	}
	mk.setUnit(ctx.KV, u)
	SetReservation(ctx.KV, r)
	return nil
}
