package dispute

import (
	"math/big"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
)

// Where a closed dispute's deposit went.
const (
	depositToConsumer = "consumer"
	depositToOracles  = "oracles"
)

// uphold pays the consumer dispute_slash out of the provider's stake,
// returns the deposit, settles an egress dispute at the lower figure and
// lowers the unit's score.
func (k *Keeper) uphold(ctx *core.Context, d *Dispute) error {
	kv := ctx.KV
	consRaw, _ := address.Parse(d.Consumer)
	taken, err := k.slashToConsumer(ctx, d, paramsOf(kv).slash)
	if err != nil {
		return err
	}
	d.Slashed = taken
	switch d.Kind {
	case KindEgress:
		if err := k.lowerFigure(ctx, d); err != nil {
			return err
		}
	case KindUnavailable:
		if err := k.refundEpochs(ctx, d); err != nil {
			return err
		}
	}
	if err := bank.FromPool(kv, PoolDispute, consRaw, d.Deposit); err != nil {
		return err
	}
	d.DepositTo = depositToConsumer
	if _, ok := market.GetUnit(kv, d.Unit); ok {
		score, err := k.scores.LowerScore(ctx, d.Unit, ScorePenalty)
		if err != nil {
			return err
		}
		ctx.Emit("dispute_score", "dispute", d.ID, "unit", d.Unit, "provider", d.Provider, "score", utoa(uint64(score)))
	}
	return nil
}

// reject shares the deposit among the oracles that gave a verdict (equal
// parts; the remainder of the division to the treasury).
func (k *Keeper) reject(ctx *core.Context, d *Dispute) error {
	kv := ctx.KV
	var givers [][]byte
	for _, s := range d.Panel {
		if s.Verdict != "" {
			raw, err := address.Parse(s.Oracle)
			if err != nil {
				return core.Errf(core.CodeInternal, "dispute %s oracle: %v", d.ID, err)
			}
			givers = append(givers, raw)
		}
	}
	if len(givers) == 0 { // a rejection always has verdicts; be safe
		return k.undecided(ctx, d)
	}
	each := d.Deposit / core.Amount(len(givers))
	for _, raw := range givers {
		if err := bank.FromPool(kv, PoolDispute, raw, each); err != nil {
			return err
		}
	}
	if rest := d.Deposit - each*core.Amount(len(givers)); rest > 0 {
		if err := bank.PoolToPool(kv, PoolDispute, bank.PoolTreasury, rest); err != nil {
			return err
		}
	}
	d.DepositTo = depositToOracles
	return nil
}

// undecided returns the deposit; an egress dispute is settled at the lower
// figure (the consumer's count).
func (k *Keeper) undecided(ctx *core.Context, d *Dispute) error {
	consRaw, _ := address.Parse(d.Consumer)
	if d.Kind == KindEgress {
		if err := k.lowerFigure(ctx, d); err != nil {
			return err
		}
	}
	if err := bank.FromPool(ctx.KV, PoolDispute, consRaw, d.Deposit); err != nil {
		return err
	}
	d.DepositTo = depositToConsumer
	return nil
}

// lowerFigure refunds the consumer what the report charged above the
// consumer's count for the epoch: the charge of the egress before the
// report plus the reported bytes, less that of before plus the claimed
// bytes (net and fee, at the reservation's copied price), taken from the
// provider's stake.
func (k *Keeper) lowerFigure(ctx *core.Context, d *Dispute) error {
	r, ok := market.GetReservation(ctx.KV, d.Reservation)
	if !ok {
		return nil
	}
	hi, err := core.AddU64(d.EgressBefore, d.ReportedEgress)
	if err != nil {
		return core.Errf(core.CodeOverflow, "dispute %s: egress total overflows", d.ID)
	}
	lo := d.EgressBefore + d.ClaimedEgress // ClaimedEgress < ReportedEgress
	hiNet, hiFee, err := market.EgressCharge(hi, r.EgressPrice, r.FeeBps)
	if err != nil {
		return err
	}
	loNet, loFee, err := market.EgressCharge(lo, r.EgressPrice, r.FeeBps)
	if err != nil {
		return err
	}
	owed, err := core.Add(hiNet-loNet, hiFee-loFee)
	if err != nil {
		return core.Errf(core.CodeOverflow, "dispute %s: egress refund overflows", d.ID)
	}
	got, err := k.slashToConsumer(ctx, d, owed)
	if err != nil {
		return err
	}
	d.EgressRefund = got
	return nil
}

// refundEpochs pays the consumer back, from the provider's stake, what the
// reservation's storage cost over the disputed epochs (with its fee): the
// epochs are refunded to this consumer without touching the unit's
// settlement, which the QoS module's own judgment of the epochs owns.
func (k *Keeper) refundEpochs(ctx *core.Context, d *Dispute) error {
	r, ok := market.GetReservation(ctx.KV, d.Reservation)
	if !ok {
		return nil
	}
	secs := new(big.Int).Mul(big.NewInt(paramsOf(ctx.KV).epoch), big.NewInt(int64(len(d.Epochs))))
	owed, err := core.AmountFromBig(market.GrossCeil(new(big.Int).Mul(market.ResRate(r), secs), r.FeeBps), "epoch refund")
	if err != nil {
		return err
	}
	got, err := k.slashToConsumer(ctx, d, owed)
	if err != nil {
		return err
	}
	d.EpochRefund = got
	return nil
}
