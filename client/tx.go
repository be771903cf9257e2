package client

// Typed tx methods: one per contract message, each signing one tx with the
// Signer, broadcasting it and waiting for the commit. A tx refused before
// it reached a block (bad sequence, malformed message, ...) returns *Error;
// one committed whose message failed returns the result and *TxError. Both
// carry the chain's stable code: CodeOf(err) is its name, IsCode(err,
// core.CodeX) tests for one. Methods that create something return its
// id parsed from the tx events.

import (
	"context"
	"errors"
	"fmt"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/accesskey"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/qos"
)

// Code is the chain's error code of a failed tx.
func (e *TxError) Code() core.Code { return core.Code(e.Result.Code) }

// IsCode reports whether err is an API or tx error with the chain's code.
func IsCode(err error, code core.Code) bool {
	if c, ok := simulatedCode(err); ok {
		return c == code
	}
	var te *TxError
	if errors.As(err, &te) {
		return te.Code() == code
	}
	var ae *Error
	if errors.As(err, &ae) {
		return ae.ABCICode == code || ae.Code == code.Name()
	}
	return false
}

// created returns the attribute key of the event typ of a committed tx, or
// an error if the tx failed or the event is missing.
func created(res *types.TxResult, err error, typ, key string) (string, *types.TxResult, error) {
	if err != nil {
		return "", res, err
	}
	v := EventAttr(res, typ, key)
	if v == "" {
		return "", res, fmt.Errorf("tx %s committed without a %s event carrying %s", res.Hash, typ, key)
	}
	return v, res, nil
}

// sumAmounts adds the attribute key of every event of type typ.
func sumAmounts(res *types.TxResult, typ, key string) (core.Amount, error) {
	var total core.Amount
	for _, e := range res.Events {
		if e.Type != typ {
			continue
		}
		for _, a := range e.Attrs {
			if a.Key != key {
				continue
			}
			v, err := core.ParseAmount(a.Value)
			if err != nil {
				return 0, fmt.Errorf("tx %s: %s %s %q: %w", res.Hash, typ, key, a.Value, err)
			}
			if total, err = core.Add(total, v); err != nil {
				return 0, err
			}
		}
	}
	return total, nil
}

// ---- bank ----

// Send transfers amount uflash from the signer to the account to.
func (s *Signer) Send(ctx context.Context, to string, amount core.Amount) (*types.TxResult, error) {
	return s.Submit(ctx, &bank.MsgSend{To: to, Amount: amount})
}

// ---- providers ----

// RegisterProvider makes the signer a storage provider.
func (s *Signer) RegisterProvider(ctx context.Context, m market.MsgRegisterProvider) (*types.TxResult, error) {
	return s.Submit(ctx, &m)
}

// UpdateProvider changes the signer's provider info (nil fields are kept).
func (s *Signer) UpdateProvider(ctx context.Context, m market.MsgUpdateProvider) (*types.TxResult, error) {
	return s.Submit(ctx, &m)
}

// Stake bonds amount from the signer's balance to its provider.
func (s *Signer) Stake(ctx context.Context, amount core.Amount) (*types.TxResult, error) {
	return s.Submit(ctx, &market.MsgStake{Amount: amount})
}

// Unstake starts unbonding amount of the provider's stake.
func (s *Signer) Unstake(ctx context.Context, amount core.Amount) (*types.TxResult, error) {
	return s.Submit(ctx, &market.MsgUnstake{Amount: amount})
}

// DeregisterProvider retires the signer's provider (every unit deleted
// first); its stake unbonds.
func (s *Signer) DeregisterProvider(ctx context.Context) (*types.TxResult, error) {
	return s.Submit(ctx, &market.MsgDeregisterProvider{})
}

// Claim collects the final revenue of one of the provider's units, or of
// all of them with unit "". It returns the net amount paid to the provider.
func (s *Signer) Claim(ctx context.Context, unit string) (core.Amount, *types.TxResult, error) {
	res, err := s.Submit(ctx, &market.MsgClaim{Unit: unit})
	if err != nil {
		return 0, res, err
	}
	amt, err := sumAmounts(res, "claim", "amount")
	return amt, res, err
}

// ---- units ----

// AddUnit publishes a data unit and returns its id ("unit-1").
func (s *Signer) AddUnit(ctx context.Context, m market.MsgAddUnit) (string, *types.TxResult, error) {
	res, err := s.Submit(ctx, &m)
	return created(res, err, "unit_added", "unit")
}

// UpdateUnit changes a unit's terms for new reservations (nil fields are
// kept).
func (s *Signer) UpdateUnit(ctx context.Context, m market.MsgUpdateUnit) (*types.TxResult, error) {
	return s.Submit(ctx, &m)
}

// UnitMaintenance starts or ends maintenance, or announces a window.
func (s *Signer) UnitMaintenance(ctx context.Context, m market.MsgUnitMaintenance) (*types.TxResult, error) {
	return s.Submit(ctx, &m)
}

// DecommissionUnit stops new reservations on a unit.
func (s *Signer) DecommissionUnit(ctx context.Context, unit string) (*types.TxResult, error) {
	return s.Submit(ctx, &market.MsgDecommissionUnit{Unit: unit})
}

// DeleteUnit deletes a unit without live reservations.
func (s *Signer) DeleteUnit(ctx context.Context, unit string) (*types.TxResult, error) {
	return s.Submit(ctx, &market.MsgDeleteUnit{Unit: unit})
}

// ---- reservations ----

// Reserve creates a reservation and returns its id ("res-1"); its status
// (active, or pending the provider's acceptance) is the
// reservation_created event's "status".
func (s *Signer) Reserve(ctx context.Context, m market.MsgReserve) (string, *types.TxResult, error) {
	res, err := s.Submit(ctx, &m)
	return created(res, err, "reservation_created", "id")
}

// AcceptReservation accepts a pending reservation on the provider's unit.
func (s *Signer) AcceptReservation(ctx context.Context, reservation string) (*types.TxResult, error) {
	var m market.MsgAcceptReservation
	m.Reservation = reservation
	return s.Submit(ctx, &m)
}

// RejectReservation refuses a pending reservation; the consumer is refunded.
func (s *Signer) RejectReservation(ctx context.Context, reservation string) (*types.TxResult, error) {
	var m market.MsgRejectReservation
	m.Reservation = reservation
	return s.Submit(ctx, &m)
}

// TopUp adds egressBytes of egress allowance to the signer's reservation.
func (s *Signer) TopUp(ctx context.Context, reservation string, egressBytes uint64) (*types.TxResult, error) {
	return s.Submit(ctx, &market.MsgTopUp{Reservation: reservation, EgressBytes: egressBytes})
}

// Extend lengthens the signer's reservation by extraSeconds.
func (s *Signer) Extend(ctx context.Context, reservation string, extraSeconds int64) (*types.TxResult, error) {
	return s.Submit(ctx, &market.MsgExtend{Reservation: reservation, ExtraSeconds: extraSeconds})
}

// Resize grows the signer's reservation to bytes in total.
func (s *Signer) Resize(ctx context.Context, reservation string, bytes uint64) (*types.TxResult, error) {
	return s.Submit(ctx, &market.MsgResize{Reservation: reservation, Bytes: bytes})
}

// CloseReservation ends the signer's reservation now, refunding the rest.
func (s *Signer) CloseReservation(ctx context.Context, reservation string) (*types.TxResult, error) {
	var m market.MsgCloseReservation
	m.Reservation = reservation
	return s.Submit(ctx, &m)
}

// ReportUsage sends usage reports of the provider's reservations (what its
// bridge does every epoch), all in one tx.
func (s *Signer) ReportUsage(ctx context.Context, reports ...market.MsgReportUsage) (*types.TxResult, error) {
	if len(reports) == 0 {
		return nil, errors.New("report usage: no reports")
	}
	msgs := make([]core.Msg, len(reports))
	for i := range reports {
		msgs[i] = &reports[i]
	}
	return s.Submit(ctx, msgs...)
}

// ---- access keys ----

// RevokeAccessKey deletes one of the signer's access keys (CreateAccessKey
// makes them).
func (s *Signer) RevokeAccessKey(ctx context.Context, accessKeyID string) (*types.TxResult, error) {
	return s.Submit(ctx, &accesskey.MsgRevokeAccessKey{ID: accessKeyID})
}

// ---- QoS ----

// RegisterOracle makes the signer a QoS oracle bonding stake.
func (s *Signer) RegisterOracle(ctx context.Context, stake core.Amount) (*types.TxResult, error) {
	return s.Submit(ctx, &qos.MsgRegisterOracle{Stake: stake})
}

// DeregisterOracle retires the signer's oracle; its stake unbonds.
func (s *Signer) DeregisterOracle(ctx context.Context) (*types.TxResult, error) {
	return s.Submit(ctx, &qos.MsgDeregisterOracle{})
}

// Report submits the oracle's measurements of an epoch that has ended.
func (s *Signer) Report(ctx context.Context, m qos.MsgReport) (*types.TxResult, error) {
	return s.Submit(ctx, &m)
}

// ClaimCompensation collects the SLA-breach compensation the signer's
// active reservation is owed and returns the amount; with nothing owed the
// tx fails with core.CodeNotFound.
func (s *Signer) ClaimCompensation(ctx context.Context, reservation string) (core.Amount, *types.TxResult, error) {
	res, err := s.Submit(ctx, &qos.MsgClaimCompensation{Reservation: reservation})
	if err != nil {
		return 0, res, err
	}
	amt, err := sumAmounts(res, "compensation_paid", "amount")
	return amt, res, err
}
