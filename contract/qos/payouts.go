package qos

import (
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/store"
)

// ---- oracle payouts ----

// closeEpoch pays the oracles their slash shares (held in PoolOracle) and
// their share of the platform fees collected since the last payout,
// weighted by their reports in the median (outliers get none), and
// records their stats and the epoch's counts.
func closeEpoch(ctx *core.Context, q qosParams, e int64, acc *epochAcc) error {
	kv := ctx.KV
	oracles := acc.oracles()
	var total uint64
	for _, o := range oracles {
		total += acc.inMedian[o]
	}
	st := GetStats(kv)
	var budget core.Amount
	if total > 0 && st.Fees > core.Amount(store.GetUint64(kv, keyFeeShared)) {
		budget = min(bpsOf(st.Fees-core.Amount(store.GetUint64(kv, keyFeeShared)), q.OracleShareBps), bank.PoolBalance(kv, bank.PoolTreasury))
		store.SetUint64(kv, keyFeeShared, uint64(st.Fees))
	}
	var rewarded core.Amount
	for _, o := range oracles {
		raw := []byte(o)
		rec, ok := GetOracle(kv, raw)
		if !ok {
			continue
		}
		pay := acc.reward[o]
		if rec.Jailed {
			// A jailed oracle earns nothing: its slash share goes to the
			// rewards pool, its fee share stays in the treasury.
			if pay > 0 {
				if err := bank.PoolToPool(kv, PoolOracle, bank.PoolRewards, pay); err != nil {
					return err
				}
			}
			pay = 0
		} else if pay > 0 {
			if err := bank.FromPool(kv, PoolOracle, raw, pay); err != nil {
				return err
			}
		}
		if c := acc.inMedian[o]; c > 0 && budget > 0 && !rec.Jailed {
			f, err := core.MulDiv(uint64(budget), c, total)
			if err != nil {
				return err
			}
			if f > 0 {
				if err := bank.FromPool(kv, bank.PoolTreasury, raw, core.Amount(f)); err != nil {
					return err
				}
				pay += core.Amount(f)
			}
		}
		rec.InMedian = satAdd(rec.InMedian, acc.inMedian[o])
		rec.Outliers = satAdd(rec.Outliers, acc.outliers[o])
		rec.Rewards = satAdd(rec.Rewards, pay)
		rewarded += pay
		setOracle(kv, raw, rec)
		if pay > 0 {
			ctx.Emit("oracle_reward", "oracle", rec.Address, "epoch", itoa(e), "amount", pay.String())
		}
	}
	if rest := bank.PoolBalance(kv, PoolOracle); rest > 0 {
		// Shares of oracles gone since (cannot happen: records are kept).
		if err := bank.PoolToPool(kv, PoolOracle, bank.PoolTreasury, rest); err != nil {
			return err
		}
	}
	if rewarded > 0 {
		statsAdd(kv, func(s *NetworkStats) { s.OracleRewards = satAdd(s.OracleRewards, rewarded) })
	}
	if err := outlierEpoch(ctx, q, e, acc); err != nil {
		return err
	}
	statsEpochCounts(kv, e, acc.counts)
	return nil
}

// checkNotSuspended rejects new reservations on a unit whose score is
// below suspend_score (market/reserve calls it).
func checkNotSuspended(kv store.KV, u *market.Unit) error {
	if q := getQoSParams(kv); u.Score < q.Suspend {
		return core.Errf(core.CodeUnitSuspended, "unit %s is suspended: its score %d is below suspend_score %d; choose another unit", u.ID, u.Score, q.Suspend)
	}
	return nil
}
