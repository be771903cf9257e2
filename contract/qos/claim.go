package qos

import (
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
)

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
	if target, _, pending := EpochBacklog(ctx.KV); pending {
		// Claims pay up to the frontier; breaches judged while it has not
		// moved yet would be paid again by the next claim.
		return core.Errf(core.CodeWrongState, "the epoch-end work up to epoch %d is still under way (more than the %d items a block does); claim again in a few blocks", target, MaxEpochWorkPerBlock)
	}
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
