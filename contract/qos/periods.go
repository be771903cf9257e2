package qos

import (
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/store"
)

// finalizePeriods finalizes the ended scoring periods (<= the last one
// whose epochs are all final) of units with data in them, then decays the
// scores of units scheduled for decay that had none: period by period,
// score keys before decay keys, one key per budget item, from the phase's
// cursors in w. Only keys there when the phase began are its work: a
// decay key it writes for a period it has yet to reach is marked
// (q/wn/) and passed over, so it waits for the next frontier advance as
// when one block did the whole phase.
func (qk *Keeper) finalizePeriods(kv store.KV, blk core.Block, q qosParams, w *epochWork, budget *int, events *[]core.Event) bool {
	pmax := (w.FNew+1)/q.Period - 1
	if pmax < 0 {
		return false
	}
	for {
		// A pass can write (marked) keys ahead of its cursors; the next
		// pass passes over them, and one that finds no key ends the phase.
		more, did := qk.periodsPass(kv, blk, q, w, pmax, budget, events)
		if more || did == 0 {
			return more
		}
	}
}

// periodsPass takes the keys from the cursors up to the budget and
// returns whether it stopped for the budget and how many it took.
func (qk *Keeper) periodsPass(kv store.KV, blk core.Block, q qosParams, w *epochWork, pmax int64, budget *int, events *[]core.Event) (more bool, did int) {
	// budget+1 keys of each: taking at most budget in all never runs out
	// of a list that was cut short before the budget does.
	end := func(prefix []byte) []byte { return store.Key(prefix, store.EncodeUint64(uint64(pmax+1))) }
	sp := keysIn(kv, store.Key(keyScorePeriod, w.ScoreNext), end(keyScorePeriod), more1(*budget))
	dk := keysIn(kv, store.Key(keyDecay, w.DecayNext), end(keyDecay), more1(*budget))
	period := func(prefix, k []byte) int64 { return int64(store.DecodeUint64(k[len(prefix) : len(prefix)+8])) }
	i, j := 0, 0
	for i < len(sp) || j < len(dk) {
		if *budget == 0 {
			return true, did
		}
		*budget--
		did++
		if j >= len(dk) || (i < len(sp) && period(keyScorePeriod, sp[i]) <= period(keyDecay, dk[j])) {
			k := sp[i]
			i++
			w.ScoreNext = nextSuffix(keyScorePeriod, k)
			qk.finalizeScoreKey(kv, blk, q, period(keyScorePeriod, k), store.DecodeUint64(k[len(keyScorePeriod)+8:]), k, pmax, events)
			continue
		}
		k := dk[j]
		j++
		w.DecayNext = nextSuffix(keyDecay, k)
		mark := store.Key(keyDecayNew, k[len(keyDecay):])
		if kv.Get(mark) != nil {
			kv.Delete(mark) // written by this phase: not its work
			continue
		}
		qk.decayKey(kv, blk, q, period(keyDecay, k), store.DecodeUint64(k[len(keyDecay)+8:]), k, pmax, events)
	}
	return false, did
}

// nextSuffix is the key suffix right after k (under prefix).
func nextSuffix(prefix, k []byte) []byte {
	return append(append([]byte(nil), k[len(prefix):]...), 0)
}

// markNewDecay marks unit n's decay key of period p+1 when the call wrote
// it and the phase would reach it (p+1 <= pmax).
func markNewDecay(kv store.KV, p, pmax int64, n uint64, call func()) {
	next := store.Key(keyDecay, store.EncodeUint64(uint64(p+1)), store.EncodeUint64(n))
	had := hasKey(kv, next)
	call()
	if !had && p+1 <= pmax && hasKey(kv, next) {
		kv.Set(store.Key(keyDecayNew, next[len(keyDecay):]), []byte{1})
	}
}

// hasKey reports whether key is set. The decay keys hold empty values,
// which Get does not tell from none.
func hasKey(kv store.KV, key []byte) bool {
	found := false
	kv.Iterate(key, append(append([]byte(nil), key...), 0), func(_, _ []byte) bool {
		found = true
		return false
	})
	return found
}

// finalizeScoreKey finalizes unit n's scoring period p (key k).
func (qk *Keeper) finalizeScoreKey(kv store.KV, blk core.Block, q qosParams, p int64, n uint64, k []byte, pmax int64, events *[]core.Event) {
	markNewDecay(kv, p, pmax, n, func() {
		isolated(kv, blk, "qos score "+market.UnitIDString(n), events, func(ctx *core.Context) error {
			ctx.KV.Delete(k)
			u, ok := market.GetUnitN(ctx.KV, n)
			qs := GetUnitQoS(ctx.KV, n)
			if !ok || u.Status == market.UnitDeleted || qs.Period != p {
				return nil
			}
			if err := qk.finalizeUnitPeriod(ctx, q, u, n, qs, p); err != nil {
				return err
			}
			SetUnitQoS(ctx.KV, n, qs)
			return nil
		})
	})
}

// decayKey moves unit n's score one step toward 50 for period p (key k),
// unless it was scored on data of p.
func (qk *Keeper) decayKey(kv store.KV, blk core.Block, q qosParams, p int64, n uint64, k []byte, pmax int64, events *[]core.Event) {
	markNewDecay(kv, p, pmax, n, func() {
		isolated(kv, blk, "qos decay "+market.UnitIDString(n), events, func(ctx *core.Context) error {
			ctx.KV.Delete(k)
			u, ok := market.GetUnitN(ctx.KV, n)
			qs := GetUnitQoS(ctx.KV, n)
			if !ok || u.Status == market.UnitDeleted || qs.LastScored >= p || (qs.Period == p && qs.PEpochs > 0) {
				return nil // scored on its data instead
			}
			step := int64(q.DecayPerMonth) * 1000 * q.Period * q.Epoch / market.MonthSeconds
			s := qs.ScoreMilli
			switch {
			case s > 50_000:
				s = max(50_000, s-step)
			case s < 50_000:
				s = min(50_000, s+step)
			}
			if err := qk.setScore(ctx, q, u, qs, s, 0); err != nil {
				return err
			}
			qs.LastScored = p
			if s != 50_000 {
				ctx.KV.Set(store.Key(keyDecay, store.EncodeUint64(uint64(p+1)), store.EncodeUint64(n)), []byte{})
			}
			SetUnitQoS(ctx.KV, n, qs)
			return nil
		})
	})
}
