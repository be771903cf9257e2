package qos

// Outlier slashing (issue 13).
//
// In every unit-epoch judged on time with at least minOutlierReporters
// reports, each report is far when its success ratio (successes/probes)
// is more than outlier_tolerance_bps (absolute) from the median ratio of
// the unit's reports, or its p95 latency is more than
// outlier_tolerance_bps (relative) from the median p95. These two are
// the figures the verdict turns on (reachability, uptime and error rate
// on the ratio; the latency term on p95) and the ones a colluding oracle
// must bend to pass a failing provider; throughput depends on where the
// oracle sits and varies honestly, so it only costs the reward
// (outlier_bps, splitOutliers), not the bond.
//
// An oracle with a far report in an epoch is far in that epoch; its
// record keeps the far epochs of the last outlier_window epochs (a ring of
// at most params.MaxOutlierWindow). At outlier_k of them it loses
// outlier_slash from its bond (at most its bond) and the ring restarts.
// The slash is shared equally by the oracles that reported within
// tolerance in that epoch (at least one report checked, none far), paid
// to their accounts; the remainder of the equal split, and the whole
// slash when no oracle qualifies, goes to the treasury. An oracle left
// below min_oracle_stake is removed, as for misses. The work is done when
// the epoch closes: O(oracles that reported in it), within the epoch-end
// work's budget.

import (
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/params"
)

// minOutlierReporters is the reports a unit-epoch needs for its median to
// tell an outlier: with two, neither report is the odd one.
const minOutlierReporters = 3

// successBps is a measurement's success ratio in basis points.
func successBps(m *UnitMeasurement) uint32 {
	if m.Probes == 0 {
		return 0
	}
	return uint32(uint64(m.Successes) * 10_000 / uint64(m.Probes))
}

// markFar counts each report as far or within tolerance.
func markFar(reps []unitRep, med UnitMeasurement, tol uint32, acc *epochAcc) {
	ratios := make([]uint32, len(reps))
	for i := range reps {
		ratios[i] = successBps(&reps[i].m)
	}
	medRatio := median(ratios)
	for i, r := range reps {
		d := int64(ratios[i]) - int64(medRatio)
		if d < 0 {
			d = -d
		}
		if d > int64(tol) || far(r.m.P95Ms, med.P95Ms, tol) {
			acc.farN[r.oracle] = satAdd(acc.farN[r.oracle], 1)
		} else {
			acc.okN[r.oracle] = satAdd(acc.okN[r.oracle], 1)
		}
	}
}

// outlierEpoch enters epoch e's far oracles into their rings and slashes
// those that reached outlier_k (closeEpoch calls it, oracles in address
// order).
func outlierEpoch(ctx *core.Context, q qosParams, e int64, acc *epochAcc) error {
	oracles := acc.oracles()
	var sharers [][]byte
	for _, o := range oracles {
		if acc.okN[o] > 0 && acc.farN[o] == 0 {
			sharers = append(sharers, []byte(o))
		}
	}
	for _, o := range oracles {
		if acc.farN[o] == 0 {
			continue
		}
		rec, ok := GetOracle(ctx.KV, []byte(o))
		if !ok || !rec.Active {
			continue
		}
		kept := rec.FarEpochs[:0]
		for _, fe := range rec.FarEpochs {
			if fe > e-q.OutlierWindow && fe < e {
				kept = append(kept, fe)
			}
		}
		rec.FarEpochs = append(kept, e)
		if n := len(rec.FarEpochs); n > params.MaxOutlierWindow {
			rec.FarEpochs = rec.FarEpochs[n-params.MaxOutlierWindow:]
		}
		if len(rec.FarEpochs) < q.OutlierK {
			setOracle(ctx.KV, []byte(o), rec)
			continue
		}
		if err := slashOutlier(ctx, q, []byte(o), rec, e, sharers); err != nil {
			return err
		}
	}
	return nil
}

// slashOutlier takes outlier_slash from the oracle's bond and shares it.
func slashOutlier(ctx *core.Context, q qosParams, raw []byte, o *Oracle, e int64, sharers [][]byte) error {
	kv := ctx.KV
	farEpochs := len(o.FarEpochs)
	o.FarEpochs = nil
	take := min(q.OutlierSlash, o.Stake)
	o.Stake -= take
	var err error
	if o.OutlierSlashed, err = core.Add(o.OutlierSlashed, take); err != nil {
		return err
	}
	var each, rest core.Amount = 0, take
	if len(sharers) > 0 {
		each = take / core.Amount(len(sharers))
	}
	if each > 0 {
		for _, s := range sharers {
			if err := bank.FromPool(kv, bank.PoolStake, s, each); err != nil {
				return err
			}
			if sr, ok := GetOracle(kv, s); ok {
				sr.Rewards, _ = core.Add(sr.Rewards, each)
				setOracle(kv, s, sr)
			}
			rest -= each
		}
	}
	if rest > 0 {
		if err := bank.PoolToPool(kv, bank.PoolStake, bank.PoolTreasury, rest); err != nil {
			return err
		}
	}
	statsAdd(kv, func(s *NetworkStats) {
		s.OutlierSlashed = satAdd(s.OutlierSlashed, take)
		s.OracleRewards = satAdd(s.OracleRewards, take-rest)
	})
	ctx.Emit("oracle_outlier_slashed", "oracle", o.Address, "epoch", itoa(e), "far_epochs", itoa(int64(farEpochs)),
		"amount", take.String(), "sharers", itoa(int64(len(sharers))), "each", each.String(), "to_treasury", rest.String(), "stake", o.Stake.String())
	o.UpdatedAt = core.Time(ctx.Now())
	if o.Stake < q.MinStake {
		ctx.Emit("oracle_removed", "oracle", o.Address, "stake", o.Stake.String(), "min_oracle_stake", q.MinStake.String())
		return retireOracle(ctx, raw, o)
	}
	setOracle(kv, raw, o)
	return nil
}
