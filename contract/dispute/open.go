package dispute

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/params"
	"github.com/flashback-network/flashback/contract/store"
	"github.com/flashback-network/flashback/receipt"
)

// disputeParams are the module's params with defaults substituted.
type disputeParams struct {
	deposit, slash core.Amount
	window, epoch  int64
}

func paramsOf(kv store.KV) disputeParams {
	p, d := params.Get(kv), params.Default()
	q := disputeParams{deposit: p.DisputeDeposit, slash: p.DisputeSlash, window: p.DisputeWindow, epoch: market.ParamsOf(kv).Epoch}
	if q.deposit == 0 {
		q.deposit = d.DisputeDeposit
	}
	if q.slash == 0 {
		q.slash = d.DisputeSlash
	}
	if q.window <= 0 {
		q.window = d.DisputeWindow
	}
	return q
}

func (k *Keeper) handleOpen(ctx *core.Context, signer []byte, m *MsgOpenDispute) error {
	kv := ctx.KV
	q := paramsOf(kv)
	resN, err := market.ResNumber(m.resN, m.Reservation)
	if err != nil {
		return err
	}
	r, ok := market.GetReservationN(kv, resN)
	if !ok {
		return core.Errf(core.CodeNotFound, "reservation %s does not exist", m.Reservation)
	}
	consumer := ctx.SignerAddress(signer)
	if r.Consumer != consumer {
		return core.Errf(core.CodeUnauthorized, "reservation %s belongs to %s; only its consumer can dispute it", r.ID, r.Consumer)
	}
	if r.Status != market.ResActive {
		return core.Errf(core.CodeWrongState, "reservation %s is %s; disputes are opened on active reservations", r.ID, r.Status)
	}
	if m.Deposit < q.deposit {
		return core.Errf(core.CodeInvalidAmount, "deposit %d%s is below the dispute_deposit %d%s", m.Deposit, core.Denom, q.deposit, core.Denom)
	}
	openKey := store.Key(keyOpenRes, store.EncodeUint64(resN))
	if store.GetUint64(kv, openKey) >= MaxOpenPerReservation {
		return core.Errf(core.CodeLimitExceeded, "reservation %s has %d open disputes (the maximum); wait for one to close", r.ID, MaxOpenPerReservation)
	}
	now := ctx.Now()
	d := &Dispute{Reservation: r.ID, Unit: r.Unit, Provider: r.Provider, Consumer: consumer, Kind: m.Kind,
		Status: StatusOpen, Deposit: m.Deposit, OpenedAt: core.Time(now), Deadline: core.Time(now + q.window),
		Epoch: market.EpochOf(now, q.epoch), AccessKeyID: m.AccessKeyID}
	if err := k.fillKind(ctx, q, r, resN, m, d); err != nil {
		return err
	}
	if err := k.drawPanel(kv, r, m, d); err != nil {
		return err
	}
	n := store.GetUint64(kv, keySeq) + 1 // the number NextSequence gives below
	if err := claimEvidence(kv, resN, n, d); err != nil {
		return err
	}
	if err := bank.ToPool(kv, signer, PoolDispute, m.Deposit); err != nil {
		return err
	}
	if m.AccessKeyID != "" {
		if err := k.keys.PutReadKey(ctx, r.ID, m.AccessKeyID, m.BridgeSecret); err != nil {
			return err
		}
	}
	store.NextSequence(kv, keySeq)
	d.ID = IDString(n)
	provRaw, _ := address.Parse(r.Provider)
	set(kv, n, d)
	num := store.EncodeUint64(n)
	kv.Set(store.Key(keyByRes, store.EncodeUint64(resN), num), []byte{})
	kv.Set(store.Key(keyByCons, signer, num), []byte{})
	kv.Set(store.Key(keyByProv, provRaw, num), []byte{})
	kv.Set(queueKey(int64(d.Deadline), n), []byte{})
	store.SetUint64(kv, openKey, store.GetUint64(kv, openKey)+1)
	cc := getConsumerCounts(kv, signer)
	inc(&cc.Opened)
	inc(&cc.Open)
	store.Set(kv, store.Key(keyConsCount, signer), &cc)
	pc := getProviderCounts(kv, provRaw)
	inc(&pc.Against)
	inc(&pc.Open)
	store.Set(kv, store.Key(keyProvCount, provRaw), &pc)
	st := getStats(kv)
	inc(&st.Opened)
	store.Set(kv, keyStats, &st)
	oracles := make([]string, len(d.Panel))
	for i, s := range d.Panel {
		oracles[i] = s.Oracle
	}
	ctx.Emit("dispute_opened", "dispute", d.ID, "reservation", r.ID, "unit", r.Unit, "provider", r.Provider,
		"consumer", consumer, "kind", d.Kind, "deposit", d.Deposit.String(), "deadline", strconv.FormatInt(now+q.window, 10),
		"oracles", strings.Join(oracles, ","))
	return nil
}

// fillKind checks the kind's evidence against the reservation and copies
// it into the dispute.
func (k *Keeper) fillKind(ctx *core.Context, q disputeParams, r *market.Reservation, resN uint64, m *MsgOpenDispute, d *Dispute) error {
	switch m.Kind {
	case KindDataLoss:
		rc := m.rc
		if rc == nil {
			var err error
			if rc, err = receipt.Decode(m.Receipt); err != nil {
				return core.Errf(core.CodeBadReceipt, "%v", err)
			}
		}
		if err := checkReceipt(ctx, r, rc); err != nil {
			return err
		}
		d.Receipt, d.Key, d.Size, d.ContentHash, d.PartSizes = m.Receipt, rc.Key, rc.Size, rc.ContentHash, rc.PartSizes
	case KindUnavailable:
		first, cur := market.EpochOf(int64(r.Start), q.epoch), market.EpochOf(ctx.Now(), q.epoch)
		for _, e := range m.Epochs {
			if e < first || e > cur {
				return core.Errf(core.CodeInvalidMessage, "epoch %d is outside reservation %s's epochs so far (%d to %d)", e, r.ID, first, cur)
			}
		}
		d.Epochs = m.Epochs
	case KindEgress:
		before, reported, ok := market.ReportedEgress(ctx.KV, resN, m.Epoch)
		if !ok {
			return core.Errf(core.CodeNotFound, "reservation %s has no usage report for epoch %d in the last %d epochs", r.ID, m.Epoch, market.EgressLogEpochs)
		}
		if m.EgressBytes >= reported {
			return core.Errf(core.CodeInvalidMessage, "your egress count %d bytes for epoch %d is not below the reported %d bytes; nothing to dispute", m.EgressBytes, m.Epoch, reported)
		}
		d.EgressEpoch, d.ClaimedEgress, d.ReportedEgress, d.EgressBefore = m.Epoch, m.EgressBytes, reported, before
	}
	return nil
}

// checkReceipt verifies a data_loss receipt: signed by the reservation's
// provider (the signature and the key's address), for this chain, this
// reservation and a write.
func checkReceipt(ctx *core.Context, r *market.Reservation, rc *receipt.Receipt) error {
	if err := rc.Verify(); err != nil {
		return core.Errf(core.CodeBadReceipt, "%v", err)
	}
	switch {
	case rc.Provider != r.Provider:
		return core.Errf(core.CodeBadReceipt, "the receipt is signed by %s, not by %s, the provider of %s", rc.Provider, r.Provider, r.ID)
	case rc.Reservation != r.ID:
		return core.Errf(core.CodeBadReceipt, "the receipt is for reservation %s, not %s", rc.Reservation, r.ID)
	case rc.ChainID != ctx.Block.ChainID:
		return core.Errf(core.CodeBadReceipt, "the receipt is for chain %q, this is %q", rc.ChainID, ctx.Block.ChainID)
	case rc.Op != receipt.OpPut:
		return core.Errf(core.CodeBadReceipt, "the receipt certifies a %s; a data_loss dispute shows the receipt of a write", rc.Op)
	}
	return nil
}

// eligible keeps the assigned oracles that can sit on a panel: active,
// with a seal key, and not the consumer itself (an oracle never judges its
// own dispute; the unit's owner and related accounts are never assigned).
func (k *Keeper) eligible(kv store.KV, assigned []string, consumer string) []string {
	var panel []string
	for _, a := range assigned {
		raw, _ := address.Parse(a)
		if a != consumer && k.oracles.Active(kv, raw) && SealKey(kv, raw) != nil && len(panel) < MaxPanel {
			panel = append(panel, a)
		}
	}
	return panel
}

// drawPanel makes the dispute's panel: the oracles assigned to the unit in
// the current epoch that have a seal key (those without cannot read the
// key) and are active. With a read key, oracle_secrets must name exactly
// them.
func (k *Keeper) drawPanel(kv store.KV, r *market.Reservation, m *MsgOpenDispute, d *Dispute) error {
	unitN, err := market.ParseUnitID(r.Unit)
	if err != nil {
		return core.Errf(core.CodeInternal, "reservation %s unit: %v", r.ID, err)
	}
	assigned, fixed, err := k.oracles.Assigned(kv, d.Epoch, unitN)
	if err != nil {
		return err
	}
	panel := k.eligible(kv, assigned, r.Consumer)
	if len(panel) == 0 && d.Kind != KindEgress {
		why := "no oracle is assigned to it this epoch"
		if fixed {
			why = "none of the oracles assigned to it this epoch has registered a seal key"
		}
		return core.Errf(core.CodeWrongState, "unit %s cannot hear a %s dispute now: %s; try again next epoch (epoch %d)", r.Unit, d.Kind, why, d.Epoch)
	}
	secrets := map[string][]byte{}
	for _, s := range m.OracleSecrets {
		secrets[s.Oracle] = s.SealedSecret
	}
	if m.AccessKeyID != "" && len(secrets) != len(panel) {
		return core.Errf(core.CodeInvalidMessage, "oracle_secrets names %d oracles; the panel is %s (GET /v1/disputes/panel?reservation=%s)", len(secrets), strings.Join(panel, ","), r.ID)
	}
	for _, a := range panel {
		s := Seat{Oracle: a}
		if m.AccessKeyID != "" {
			if s.SealedSecret = secrets[a]; s.SealedSecret == nil {
				return core.Errf(core.CodeInvalidMessage, "oracle_secrets has no secret for panel oracle %s (the panel is %s)", a, strings.Join(panel, ","))
			}
			s.SealedSecret = bytes.Clone(s.SealedSecret)
		}
		d.Panel = append(d.Panel, s)
	}
	return nil
}
