package market

import (
	"fmt"
	"strconv"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/store"
)

func itoa(v int64) string  { return strconv.FormatInt(v, 10) }
func utoa(v uint64) string { return strconv.FormatUint(v, 10) }

// MaxQueuedPerBlock bounds the entries one block hook takes from one time
// queue (accept timeouts, unbonding releases): the rest stay queued, in
// time order, for the next blocks, so a burst of due entries never makes
// one block unboundedly long. Each entry is settled as of its own due
// time, so when it is processed does not change what it pays.
const MaxQueuedPerBlock = 1000

// DueKeys returns the queue keys under prefix whose 8-byte time is <= now,
// in time order, at most limit of them (no limit when limit <= 0). Only
// the returned entries are read.
func DueKeys(kv store.KV, prefix []byte, now int64, limit int) [][]byte {
	if now < 0 {
		return nil
	}
	var keys [][]byte
	kv.Iterate(prefix, store.Key(prefix, store.EncodeUint64(uint64(now)+1)), func(k, _ []byte) bool {
		keys = append(keys, append([]byte(nil), k...))
		return limit <= 0 || len(keys) < limit
	})
	return keys
}

// RunIsolated applies fn on a cache over kv and keeps its writes only if
// it succeeds, so one bad entry cannot corrupt the block.
func RunIsolated(kv store.KV, blk core.Block, what string, fn func(ctx *core.Context) error) []core.Event {
	c := store.NewCache(kv)
	ctx := &core.Context{KV: c, Block: blk}
	if err := fn(ctx); err != nil {
		return []core.Event{{Type: "market_error", Attrs: []core.Attr{{Key: "what", Value: what}, {Key: "error", Value: err.Error()}}}}
	}
	c.Write()
	return ctx.Events()
}

// BeginBlock ends reservations whose term is over. It runs before any
// tx of the block so that each unit is accrued exactly to each term end
// (every unit was last touched at the previous block's time, before those
// ends), in term-end order.
//
// It ends at most MaxQueuedPerBlock of them. When more are due, the rest
// wait for the next blocks and, until the last is ended, the market is
// settling (SettlingTermEnds): messages that touch units or reservations
// are refused and QoS defers its epoch work, so no unit is accrued past a
// term end it has not settled yet. Every reservation thus ends exactly as
// if all had been ended in the first block.
func (mk *Keeper) BeginBlock(kv store.KV, blk core.Block) []core.Event {
	now := blk.Time.Unix()
	kv.Set(keyMktNow, store.EncodeUint64(uint64(now)))
	var events []core.Event
	mp := ParamsOf(kv)
	due := DueKeys(kv, keyQueueEnd, now, MaxQueuedPerBlock+1)
	if len(due) > MaxQueuedPerBlock {
		due = due[:MaxQueuedPerBlock]
		kv.Set(keyEndBacklog, []byte{1})
	} else if kv.Get(keyEndBacklog) != nil {
		kv.Delete(keyEndBacklog)
	}
	for _, k := range due {
		n := store.DecodeUint64(k[len(keyQueueEnd)+8:])
		events = append(events, RunIsolated(kv, blk, "expire "+ResIDString(n), func(ctx *core.Context) error {
			ctx.KV.Delete(k)
			return mk.finishQueued(ctx, n, ResActive, ResCompleted, mp, func(u *Unit, r *Reservation) int64 {
				accrueUnit(u, r.End.Unix(), mp)
				return r.End.Unix()
			})
		})...)
	}
	return events
}

// SettlingTermEnds reports whether more term ends fell due than one block
// ends, so that the market is still ending them (see BeginBlock).
func SettlingTermEnds(kv store.KV) bool { return kv.Get(keyEndBacklog) != nil }

// NotWhileSettling wraps a handler that touches a unit's or a
// reservation's accounts: while the market is settling term ends it fails
// (and the tx may be sent again a few blocks later).
func NotWhileSettling[M any](handle func(ctx *core.Context, signer []byte, m M) error) func(ctx *core.Context, signer []byte, m M) error {
	return func(ctx *core.Context, signer []byte, m M) error {
		if SettlingTermEnds(ctx.KV) {
			return core.Errf(core.CodeWrongState, "more reservation terms ended at once than the %d a block settles; the market is settling them and takes this message again in a few blocks", MaxQueuedPerBlock)
		}
		return handle(ctx, signer, m)
	}
}

// EndBlock expires pending reservations the provider did not answer
// and releases unbonded stake.
func (mk *Keeper) EndBlock(kv store.KV, blk core.Block) []core.Event {
	now := blk.Time.Unix()
	var events []core.Event
	mp := ParamsOf(kv)
	for _, k := range DueKeys(kv, keyQueueAccept, now, MaxQueuedPerBlock) {
		n := store.DecodeUint64(k[len(keyQueueAccept)+8:])
		events = append(events, RunIsolated(kv, blk, "accept timeout "+ResIDString(n), func(ctx *core.Context) error {
			ctx.KV.Delete(k)
			// Expired as of its accept deadline, also when a backlog
			// of timeouts reaches it blocks later.
			return mk.finishQueued(ctx, n, ResPending, ResExpired, mp, func(_ *Unit, r *Reservation) int64 { return r.AcceptBy.Unix() })
		})...)
	}
	for _, k := range DueKeys(kv, keyQueueUnbond, now, MaxQueuedPerBlock) {
		rest := k[len(keyQueueUnbond)+8:]
		owner, seq := rest[:address.Len], store.DecodeUint64(rest[address.Len:])
		events = append(events, RunIsolated(kv, blk, "unbond", func(ctx *core.Context) error {
			ctx.KV.Delete(k)
			p, ok := GetProvider(ctx.KV, owner)
			if !ok {
				return nil
			}
			left, amt, found, err := ReleaseUnbonding(ctx.KV, owner, p.Unbonding, seq)
			if err != nil || !found {
				return err
			}
			p.Unbonding = left
			mk.SetProvider(ctx.KV, owner, p)
			ctx.Emit("unbonded", "provider", p.Address, "amount", amt.String())
			return nil
		})...)
	}
	return events
}

// finishQueued ends reservation n from a time queue if it is still in
// state want: at returns the end time (after any accrual it needs).
func (mk *Keeper) finishQueued(ctx *core.Context, n uint64, want, status string, mp Params, at func(*Unit, *Reservation) int64) error {
	r, ok := GetReservation(ctx.KV, ResIDString(n))
	if !ok || r.Status != want {
		return nil
	}
	u, ok := GetUnit(ctx.KV, r.Unit)
	if !ok {
		return fmt.Errorf("unit %s missing", r.Unit)
	}
	if err := mk.finishRes(ctx, u, r, at(u, r), status, mp); err != nil {
		return err
	}
	mk.setUnit(ctx.KV, u)
	SetReservation(ctx.KV, r)
	return nil
}

// ReleaseUnbonding pays out the unbonding entry seq of owner (a provider or
// an oracle) from the stake pool and returns the remaining entries.
func ReleaseUnbonding(kv store.KV, owner []byte, entries []UnbondingEntry, seq uint64) (rest []UnbondingEntry, amt core.Amount, found bool, err error) {
	for i, e := range entries {
		if e.Seq != seq {
			continue
		}
		if e.Amount > 0 {
			if err := bank.FromPool(kv, bank.PoolStake, owner, e.Amount); err != nil {
				return entries, 0, false, err
			}
		}
		rest = append(entries[:i:i], entries[i+1:]...)
		if len(rest) == 0 {
			rest = nil
		}
		return rest, e.Amount, true, nil
	}
	return entries, 0, false, nil
}

// LastBlockTime is the time of the last block, for queries.
func LastBlockTime(kv store.KV) int64 {
	if b := kv.Get(keyMktNow); len(b) == 8 {
		return int64(store.DecodeUint64(b))
	}
	return 0
}
