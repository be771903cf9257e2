package dispute

import (
	"strconv"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
)

func utoa(v uint64) string { return strconv.FormatUint(v, 10) }

// slashToConsumer takes up to amt from the provider's bonded stake, then
// from its unbonding entries (still slashable), and pays it to the
// consumer; it returns what it took (less than amt when the stake is
// short). The provider record goes through the market keeper so that the
// QoS module hears of the change.
func (k *Keeper) slashToConsumer(ctx *core.Context, d *Dispute, amt core.Amount) (core.Amount, error) {
	kv := ctx.KV
	if amt == 0 {
		return 0, nil
	}
	owner, err := address.Parse(d.Provider)
	if err != nil {
		return 0, core.Errf(core.CodeInternal, "dispute %s provider: %v", d.ID, err)
	}
	p, ok := market.GetProvider(kv, owner)
	if !ok {
		return 0, nil
	}
	take := min(amt, p.Stake)
	p.Stake -= take
	for i := 0; i < len(p.Unbonding) && take < amt; i++ {
		t := min(amt-take, p.Unbonding[i].Amount)
		p.Unbonding[i].Amount -= t
		take += t
	}
	if take == 0 {
		return 0, nil
	}
	k.market.SetProviderNoting(ctx, owner, p)
	consRaw, err := address.Parse(d.Consumer)
	if err != nil {
		return 0, core.Errf(core.CodeInternal, "dispute %s consumer: %v", d.ID, err)
	}
	if err := bank.FromPool(kv, bank.PoolStake, consRaw, take); err != nil {
		return 0, err
	}
	return take, nil
}
