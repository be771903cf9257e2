package qos

// Missed reports (issue 13).
//
// The first phase of the epoch-end work (epochwork.go) goes, for each
// epoch with a fixed oracle set (assign.go) being made final, over the
// units (one work item per unit) and finds the assigned oracles that
// stored no report for the unit. Each such miss takes miss_penalty from
// the oracle's bond to the treasury. max_missed misses within
// miss_window_epochs jail the oracle: it leaves the eligible set (no new
// assignments), its reports are refused and its rewards withheld, until it
// sends qos/unjail_oracle oracle_jail_epochs later. An oracle whose bond
// falls below min_oracle_stake is removed: its bond starts unbonding, as
// on deregistration. Misses are not counted while jailed.
//
// Units are counted for the epochs that began after they were created
// (one created mid-epoch may be reported, but not reporting it is no
// miss); deleted units are not.

import (
	"strconv"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/store"
)

// maxMissedCap bounds max_missed: the oracle record keeps the epochs of
// that many misses.
const maxMissedCap = 64

// missSweep does the miss accounting of the epochs in (FOld, FNew], one
// unit per budget item; it returns true when work is left.
func (qk *Keeper) missSweep(kv store.KV, blk core.Block, q qosParams, w *epochWork, budget *int, events *[]core.Event) bool {
	if w.MissEpoch <= w.FOld {
		w.MissEpoch, w.MissNext = w.FOld+1, 0
	}
	for w.MissEpoch <= w.FNew {
		// Jump to the next epoch with a set: skipped epochs have none.
		next := keysIn(kv, assignKey(w.MissEpoch), assignKey(w.FNew+1), 1)
		if len(next) == 0 {
			break
		}
		if e := int64(store.DecodeUint64(next[0][len(keyAssign):])); e != w.MissEpoch {
			w.MissEpoch, w.MissNext = e, 0
		}
		if s, _ := getEpochSet(kv, w.MissEpoch); len(s.oracles) > 0 {
			start := store.Key(market.KeyUnit, store.EncodeUint64(w.MissNext))
			keys := keysIn(kv, start, store.PrefixEnd(market.KeyUnit), more1(*budget))
			for _, k := range keys {
				n := store.DecodeUint64(k[len(market.KeyUnit):])
				if *budget == 0 {
					w.MissNext = n
					return true
				}
				e := w.MissEpoch
				isolated(kv, blk, "qos misses "+market.UnitIDString(n), events, func(ctx *core.Context) error {
					return qk.unitMisses(ctx, q, e, n, w.Cur)
				})
				*budget--
			}
		}
		w.MissEpoch, w.MissNext = w.MissEpoch+1, 0
	}
	w.MissEpoch = w.FNew + 1
	return false
}

// unitMisses penalizes the oracles assigned to unit n in epoch e that did
// not report it. When none of them did (or none could be assigned: every
// oracle of the set is the owner's or related to it), the epoch's pay is
// held (hold.go; the reports phase never sees such a unit-epoch).
func (qk *Keeper) unitMisses(ctx *core.Context, q qosParams, e int64, n uint64, cur int64) error {
	u, ok := market.GetUnitN(ctx.KV, n)
	if !ok || u.Status == market.UnitDeleted || u.CreatedAt.Unix() >= e*q.Epoch {
		return nil
	}
	owner, err := address.Parse(u.Provider)
	if err != nil {
		return err
	}
	assigned, _ := assignedOracles(ctx.KV, q, e, n, owner)
	missed := 0
	for _, o := range assigned {
		if ctx.KV.Get(reportKey(e, n, o)) != nil {
			continue
		}
		missed++
		if err := penalizeMiss(ctx, q, o, u.ID, e, cur); err != nil {
			return err
		}
	}
	if missed < len(assigned) || GetUnitQoS(ctx.KV, n).maintained(e, q.Epoch) {
		return nil // reports to judge, or announced maintenance (the maintenance sweep's)
	}
	// Every assigned oracle was silent: the epoch's pay is held for
	// their late reports (hold.go), refunded if they never come.
	h := UnitEpochQoS{Epoch: e, Quorum: q.quorum(uint64(len(assigned)))}
	qs := GetUnitQoS(ctx.KV, n)
	if err := qk.holdEpoch(ctx, q, u, n, qs, e, nil, h.Quorum, &h); err != nil {
		return err
	}
	h.Score = u.Score
	if h.Status == QoSHeld && h.Epoch > qs.HistLast-q.History {
		writeUnitHistory(ctx.KV, q, n, qs, &h)
	}
	SetUnitQoS(ctx.KV, n, qs)
	ctx.Emit("qos_unpaid_silent", "unit", u.ID, "epoch", itoa(e), "assigned", itoa(int64(len(assigned))), "held", strconv.FormatBool(!h.Unenforced), "unenforced", strconv.FormatBool(h.Unenforced))
	return nil
}

// penalizeMiss takes the miss penalty from the oracle's bond and jails or
// removes it as its misses and bond say.
func penalizeMiss(ctx *core.Context, q qosParams, raw []byte, unit string, e, cur int64) error {
	o, ok := GetOracle(ctx.KV, raw)
	if !ok || !o.Active || o.Jailed {
		return nil
	}
	take := min(q.MissPenalty, o.Stake)
	if take > 0 {
		if err := bank.PoolToPool(ctx.KV, bank.PoolStake, bank.PoolTreasury, take); err != nil {
			return err
		}
	}
	o.Stake -= take
	var err error
	if o.Penalized, err = core.Add(o.Penalized, take); err != nil {
		return err
	}
	o.Missed++
	kept := o.MissEpochs[:0]
	for _, me := range o.MissEpochs {
		if me > e-q.MissWindow {
			kept = append(kept, me)
		}
	}
	o.MissEpochs = append(kept, e)
	if len(o.MissEpochs) > q.MaxMissed {
		o.MissEpochs = o.MissEpochs[len(o.MissEpochs)-q.MaxMissed:]
	}
	statsAdd(ctx.KV, func(s *NetworkStats) { s.Slashed = satAdd(s.Slashed, take) })
	ctx.Emit("oracle_missed", "oracle", o.Address, "unit", unit, "epoch", itoa(e), "penalty", take.String(), "stake", o.Stake.String())
	if o.Stake < q.MinStake {
		o.MissEpochs = nil
		ctx.Emit("oracle_removed", "oracle", o.Address, "stake", o.Stake.String(), "min_oracle_stake", q.MinStake.String())
		return retireOracle(ctx, raw, o)
	}
	if len(o.MissEpochs) >= q.MaxMissed {
		o.Jailed, o.JailedUntil, o.MissEpochs = true, cur+q.JailEpochs, nil
		setEligible(ctx.KV, raw, false)
		ctx.Emit("oracle_jailed", "oracle", o.Address, "epoch", itoa(e), "until_epoch", itoa(o.JailedUntil))
	}
	o.UpdatedAt = core.Time(ctx.Now())
	setOracle(ctx.KV, raw, o)
	return nil
}

// MsgUnjailOracle brings the signer's jailed oracle back into the eligible
// set once oracle_jail_epochs have passed.
type MsgUnjailOracle struct{}

// Type is the wire name of MsgUnjailOracle.
func (*MsgUnjailOracle) Type() string { return "qos/unjail_oracle" }

func (m *MsgUnjailOracle) ValidateBasic() error { return nil }

func handleUnjailOracle(ctx *core.Context, signer []byte, m *MsgUnjailOracle) error {
	o, ok := GetOracle(ctx.KV, signer)
	if !ok || !o.Active {
		return core.Errf(core.CodeNotOracle, "%s is not an active oracle", address.Encode(signer))
	}
	if !o.Jailed {
		return core.Errf(core.CodeWrongState, "oracle %s is not jailed", o.Address)
	}
	q := getQoSParams(ctx.KV)
	if cur := market.EpochOf(ctx.Now(), q.Epoch); cur < o.JailedUntil {
		return core.Errf(core.CodeWrongState, "oracle %s is jailed until epoch %d (current epoch %d); unjail then", o.Address, o.JailedUntil, cur)
	}
	o.Jailed = false
	o.UpdatedAt = core.Time(ctx.Now())
	setOracle(ctx.KV, signer, o)
	setEligible(ctx.KV, signer, true)
	ctx.Emit("oracle_unjailed", "oracle", o.Address)
	return nil
}

// MaintainedIn reports whether an announced maintenance window of the unit
// covers epoch e (epochs of epochLen seconds).
func MaintainedIn(qs *UnitQoS, e, epochLen int64) bool { return qs.maintained(e, epochLen) }
