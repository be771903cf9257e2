package market

import (
	"math/big"

	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/store"
)

// escrowMore moves delta from the consumer into escrow for r.
func escrowMore(kv store.KV, consumer []byte, r *Reservation, delta core.Amount) error {
	total, err := core.Add(r.Escrowed, delta)
	if err != nil {
		return err
	}
	if err := bank.ToPool(kv, consumer, bank.PoolEscrow, delta); err != nil {
		return err
	}
	r.Escrowed = total
	return nil
}

// MsgTopUp adds egress allowance to a reservation (escrowed at its price).
type MsgTopUp struct {
	Reservation string `json:"reservation"`
	EgressBytes uint64 `json:"egress_bytes"`

	// resN is Reservation's number, parsed once by ValidateBasic.
	resN uint64
}

func (m *MsgTopUp) ValidateBasic() error {
	n, err := ParseResID(m.Reservation)
	if err != nil {
		return err
	}
	m.resN = n
	if m.EgressBytes == 0 {
		return core.Errf(core.CodeInvalidMessage, "egress_bytes must be positive")
	}
	return nil
}

func handleTopUp(ctx *core.Context, signer []byte, m *MsgTopUp) error {
	n, err := ResNumber(m.resN, m.Reservation)
	if err != nil {
		return err
	}
	r, _, err := ConsumerRes(ctx.KV, signer, n)
	if err != nil {
		return err
	}
	allow := r.EgressBytes + m.EgressBytes
	if allow < r.EgressBytes {
		return core.Errf(core.CodeOverflow, "egress allowance would overflow")
	}
	eNet, eFee, err := egressEscrow(allow, r.EgressPrice, r.FeeBps)
	if err != nil {
		return err
	}
	delta, err := core.Add(eNet-r.EgressEsc, eFee-r.EgressFeeEsc)
	if err != nil {
		return err
	}
	if err := escrowMore(ctx.KV, signer, r, delta); err != nil {
		return err
	}
	r.EgressBytes, r.EgressEsc, r.EgressFeeEsc = allow, eNet, eFee
	SetReservation(ctx.KV, r)
	ctx.Emit("reservation_topup", "id", r.ID, "egress_bytes", utoa(allow), "escrow", delta.String())
	return nil
}

// MsgExtend lengthens a reservation's term at its own price.
type MsgExtend struct {
	Reservation  string `json:"reservation"`
	ExtraSeconds int64  `json:"extra_seconds"`

	// resN is Reservation's number, parsed once by ValidateBasic.
	resN uint64
}

func (m *MsgExtend) ValidateBasic() error {
	n, err := ParseResID(m.Reservation)
	if err != nil {
		return err
	}
	m.resN = n
	if m.ExtraSeconds <= 0 {
		return core.Errf(core.CodeInvalidMessage, "extra_seconds must be positive")
	}
	return nil
}

func handleExtend(ctx *core.Context, signer []byte, m *MsgExtend) error {
	kv := ctx.KV
	n, err := ResNumber(m.resN, m.Reservation)
	if err != nil {
		return err
	}
	r, u, err := ConsumerRes(kv, signer, n)
	if err != nil {
		return err
	}
	if u.Status == UnitDecommissioning || u.Status == UnitDeleted {
		return core.Errf(core.CodeWrongState, "unit %s is %s; reservations on it cannot be extended", u.ID, u.Status)
	}
	mp := ParamsOf(kv)
	if m.ExtraSeconds > mp.MaxTerm-r.Term {
		return core.Errf(core.CodeInvalidMessage, "term would be %d+%d seconds, longer than max_term %d", r.Term, m.ExtraSeconds, mp.MaxTerm)
	}
	commit := core.BigFromDecimal(r.Commitment)
	commit.Add(commit, new(big.Int).Mul(ResRate(r), core.BigFromInt(m.ExtraSeconds)))
	sEsc, err := storageEscrow(commit, r.FeeBps)
	if err != nil {
		return err
	}
	delta := sEsc - r.StorageEsc
	if err := escrowMore(kv, signer, r, delta); err != nil {
		return err
	}
	r.Commitment, r.StorageEsc = core.BigToDecimal(commit), sEsc
	r.Term += m.ExtraSeconds
	if r.Status == ResActive {
		kv.Delete(store.Key(keyQueueEnd, store.EncodeUint64(uint64(r.End)), store.EncodeUint64(n)))
		r.End += core.Time(m.ExtraSeconds)
		kv.Set(store.Key(keyQueueEnd, store.EncodeUint64(uint64(r.End)), store.EncodeUint64(n)), []byte{})
	}
	SetReservation(kv, r)
	ctx.Emit("reservation_extended", "id", r.ID, "end", itoa(r.End.Unix()), "escrow", delta.String())
	return nil
}

// MsgResize grows a reservation to Bytes (the new total) for the rest of
// its term, escrowing the difference.
type MsgResize struct {
	Reservation string `json:"reservation"`
	Bytes       uint64 `json:"bytes"`

	// resN is Reservation's number, parsed once by ValidateBasic.
	resN uint64
}

func (m *MsgResize) ValidateBasic() error {
	n, err := ParseResID(m.Reservation)
	if err != nil {
		return err
	}
	m.resN = n
	if m.Bytes == 0 {
		return core.Errf(core.CodeInvalidMessage, "bytes must be positive")
	}
	return nil
}

func (mk *Keeper) handleResize(ctx *core.Context, signer []byte, m *MsgResize) error {
	kv := ctx.KV
	n, err := ResNumber(m.resN, m.Reservation)
	if err != nil {
		return err
	}
	r, u, err := ConsumerRes(kv, signer, n)
	if err != nil {
		return err
	}
	if m.Bytes <= r.Bytes {
		return core.Errf(core.CodeInvalidMessage, "bytes %d bytes must be larger than the reserved %d bytes (reservations only grow)", m.Bytes, r.Bytes)
	}
	if u.Status != UnitAvailable {
		return core.Errf(core.CodeWrongState, "unit %s is %s; only available units can grow reservations", u.ID, u.Status)
	}
	grow := m.Bytes - r.Bytes
	if grow > u.Capacity-u.Reserved {
		return core.Errf(core.CodeNoCapacity, "unit %s has %d bytes free, %d bytes more requested", u.ID, u.Capacity-u.Reserved, grow)
	}
	mp := ParamsOf(kv)
	now := ctx.Now()
	remaining := r.Term
	if r.Status == ResActive {
		remaining = r.End.Unix() - now
	}
	dRate := new(big.Int).Mul(core.BigFromUint(uint64(r.StoragePrice)), core.BigFromUint(grow))
	commit := core.BigFromDecimal(r.Commitment)
	commit.Add(commit, new(big.Int).Mul(dRate, core.BigFromInt(remaining)))
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
		if err := mk.quality.ReservationResizing(ctx, u, r, grow); err != nil { // QoS compensation (qos_comp.go)
			return err
		}
		sr := core.BigFromDecimal(u.Settlement.SumRate)
		sr.Add(sr, dRate)
		u.Settlement.SumRate = core.BigToDecimal(sr)
	}
	r.Bytes = m.Bytes
	r.Commitment, r.StorageEsc = core.BigToDecimal(commit), sEsc
	u.Reserved += grow
	mk.setUnit(kv, u)
	SetReservation(kv, r)
	ctx.Emit("reservation_resized", "id", r.ID, "bytes", utoa(r.Bytes), "escrow", delta.String())
	return nil
}

// MsgCloseReservation ends a reservation early: settled to now, the unused
// escrow refunded. A pending one is cancelled with a full refund.
type MsgCloseReservation struct{ ResRef }

func (mk *Keeper) handleCloseReservation(ctx *core.Context, signer []byte, m *MsgCloseReservation) error {
	n, err := m.resNumber()
	if err != nil {
		return err
	}
	r, u, err := ConsumerRes(ctx.KV, signer, n)
	if err != nil {
		return err
	}
	mp := ParamsOf(ctx.KV)
	if r.Status == ResActive {
		accrueUnit(u, ctx.Now(), mp)
	}
	if err := mk.finishRes(ctx, u, r, ctx.Now(), ResCancelled, mp); err != nil {
		return err
	}
	mk.setUnit(ctx.KV, u)
	SetReservation(ctx.KV, r)
	return nil
}
