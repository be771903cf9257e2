package qos

import (
	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/store"
)

// finalizeUnitPeriod applies period p's score change and reputation reward
// or slash to the unit (qs must hold p's accumulators; it is not saved).
func (qk *Keeper) finalizeUnitPeriod(ctx *core.Context, q qosParams, u *market.Unit, n uint64, qs *UnitQoS, p int64) error {
	if qs.PEpochs == 0 {
		return nil
	}
	var d int64 = 1
	if qs.PUnreachable {
		d = -1
	}
	if qs.PBreached {
		d -= 2
	} else {
		d += 2
	}
	if qs.PWorse {
		d -= 3
	} else if qs.PBeat == qs.PEpochs {
		d += 3
	}
	s := min(max(qs.ScoreMilli+d*1000, 0), 100_000)
	if err := qk.setScore(ctx, q, u, qs, s, d); err != nil {
		return err
	}
	qs.LastScored = p
	qs.Period, qs.PEpochs, qs.PBeat, qs.PUnreachable, qs.PBreached, qs.PWorse = -1, 0, 0, false, false, false
	if s != 50_000 {
		ctx.KV.Set(store.Key(keyDecay, store.EncodeUint64(uint64(p+1)), store.EncodeUint64(n)), []byte{})
	}
	return qk.reputation(ctx, q, u, qs)
}

// setScore moves the unit's score (in milli-points), keeping the market's
// score index, the provider's mean and the warning/suspension state right.
func (qk *Keeper) setScore(ctx *core.Context, q qosParams, u *market.Unit, qs *UnitQoS, milli int64, delta int64) error {
	kv := ctx.KV
	qs.ScoreMilli = milli
	qs.LastDelta = delta
	score := uint32((milli + 500) / 1000)
	if err := qk.market.SetUnitScore(kv, u.ID, score); err != nil {
		return err
	}
	u.Score = score
	ctx.Emit("unit_score", "unit", u.ID, "score", utoa(uint64(score)), "delta", itoa(delta))
	if owner, err := address.Parse(u.Provider); err == nil {
		if p, ok := market.GetProvider(kv, owner); ok {
			p.Score = ProviderScoreOf(kv, owner)
			qk.market.SetProvider(kv, owner, p)
		}
	}
	switch {
	case score < q.Suspend && !qs.Suspended:
		qs.Suspended = true
		ctx.Emit("unit_suspended", "unit", u.ID, "provider", u.Provider, "score", utoa(uint64(score)))
	case score >= q.Suspend && qs.Suspended:
		qs.Suspended = false
		ctx.Emit("unit_reinstated", "unit", u.ID, "provider", u.Provider, "score", utoa(uint64(score)))
	}
	if score < q.Warn {
		ctx.Emit("score_warning", "unit", u.ID, "provider", u.Provider, "score", utoa(uint64(score)),
			"warn_score", utoa(uint64(q.Warn)), "suspend_score", utoa(uint64(q.Suspend)))
	}
	return nil
}

// reputation pays (score >= 80: 12 %/yr, 60-79: 5 %/yr) or slashes
// (20-39: 5 %/yr, <= 19: 12 %/yr) the unit's stake for one period.
func (qk *Keeper) reputation(ctx *core.Context, q qosParams, u *market.Unit, qs *UnitQoS) error {
	kv := ctx.KV
	owner, _ := address.Parse(u.Provider)
	p, ok := market.GetProvider(kv, owner)
	if !ok {
		return nil
	}
	var bps uint64
	reward := true
	switch s := u.Score; {
	case s >= 80:
		bps = apyHighBps
	case s >= 60:
		bps = apyMidBps
	case s >= 40:
		return nil
	case s >= 20:
		bps, reward = apyLowBps, false
	default:
		bps, reward = apyBottomBps, false
	}
	periodSec := uint64(q.Period * q.Epoch)
	amt, err := core.MulDiv(uint64(unitStake(p)), bps*periodSec, market.BpsDenom*uint64(YearSeconds))
	if err != nil || amt == 0 {
		return nil
	}
	if reward {
		a := min(core.Amount(amt), bank.PoolBalance(kv, bank.PoolRewards))
		if a == 0 {
			return nil
		}
		if err := bank.FromPool(kv, bank.PoolRewards, owner, a); err != nil {
			return err
		}
		qs.Rewarded = satAdd(qs.Rewarded, a)
		statsAdd(kv, func(s *NetworkStats) { s.Rewarded = satAdd(s.Rewarded, a) })
		ctx.Emit("reputation_reward", "unit", u.ID, "provider", u.Provider, "amount", a.String())
		return nil
	}
	a := slashProvider(p, core.Amount(amt))
	if a == 0 {
		return nil
	}
	qk.market.SetProvider(kv, owner, p)
	if err := bank.PoolToPool(kv, bank.PoolStake, bank.PoolRewards, a); err != nil {
		return err
	}
	qs.RepSlashed = satAdd(qs.RepSlashed, a)
	statsAdd(kv, func(s *NetworkStats) { s.ReputationSlashed = satAdd(s.ReputationSlashed, a) })
	ctx.Emit("reputation_slash", "unit", u.ID, "provider", u.Provider, "amount", a.String())
	return nil
}
