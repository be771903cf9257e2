package qos

import (
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
)

// LowerScore takes points from a unit's score (a dispute upheld against
// it, contract/dispute), keeping the QoS score, the market's index, the
// provider's mean and the suspension state in step; it returns the new
// score.
func (qk *Keeper) LowerScore(ctx *core.Context, unitID string, points int64) (uint32, error) {
	n, err := market.ParseUnitID(unitID)
	if err != nil {
		return 0, err
	}
	u, ok := market.GetUnitN(ctx.KV, n)
	if !ok {
		return 0, core.Errf(core.CodeNotFound, "unit %s not found", unitID)
	}
	qs := GetUnitQoS(ctx.KV, n)
	if err := qk.setScore(ctx, getQoSParams(ctx.KV), u, qs, max(qs.ScoreMilli-points*1000, 0), -points); err != nil {
		return 0, err
	}
	SetUnitQoS(ctx.KV, n, qs)
	return u.Score, nil
}
