package contract

import (
	"fmt"
	"strconv"

	"github.com/flashback-network/flashback/address"
)

func itoa(v int64) string  { return strconv.FormatInt(v, 10) }
func utoa(v uint64) string { return strconv.FormatUint(v, 10) }

// dueKeys returns the queue keys under prefix whose 8-byte time is <= now,
// in time order. Only due entries are read.
func dueKeys(kv KV, prefix []byte, now int64) [][]byte {
	if now < 0 {
		return nil
	}
	var keys [][]byte
	kv.Iterate(prefix, mkKey(prefix, be8(uint64(now)+1)), func(k, _ []byte) bool {
		keys = append(keys, append([]byte(nil), k...))
		return true
	})
	return keys
}

// runIsolated applies fn on a cache over kv and keeps its writes only if
// it succeeds, so one bad entry cannot corrupt the block.
func runIsolated(kv KV, blk Block, what string, fn func(ctx *Context) error) []Event {
	c := NewCache(kv)
	ctx := &Context{KV: c, Block: blk}
	if err := fn(ctx); err != nil {
		return []Event{{Type: "market_error", Attrs: []Attr{{Key: "what", Value: what}, {Key: "error", Value: err.Error()}}}}
	}
	c.Write()
	return ctx.Events()
}

// marketBeginBlock ends reservations whose term is over. It runs before any
// tx of the block so that each unit is accrued exactly to each term end
// (every unit was last touched at the previous block's time, before those
// ends), in term-end order.
func marketBeginBlock(kv KV, blk Block) []Event {
	now := blk.Time.Unix()
	kv.Set(keyMktNow, be8(uint64(now)))
	var events []Event
	mp := getMarketParams(kv)
	for _, k := range dueKeys(kv, keyQueueEnd, now) {
		n := beU64(k[len(keyQueueEnd)+8:])
		events = append(events, runIsolated(kv, blk, "expire "+resIDString(n), func(ctx *Context) error {
			ctx.KV.Delete(k)
			return finishQueued(ctx, n, ResActive, ResCompleted, mp, func(u *Unit, r *Reservation) int64 {
				accrueUnit(u, r.End.Unix(), mp)
				return r.End.Unix()
			})
		})...)
	}
	return events
}

// marketEndBlock expires pending reservations the provider did not answer
// and releases unbonded stake.
func marketEndBlock(kv KV, blk Block) []Event {
	now := blk.Time.Unix()
	var events []Event
	mp := getMarketParams(kv)
	for _, k := range dueKeys(kv, keyQueueAccept, now) {
		n := beU64(k[len(keyQueueAccept)+8:])
		events = append(events, runIsolated(kv, blk, "accept timeout "+resIDString(n), func(ctx *Context) error {
			ctx.KV.Delete(k)
			return finishQueued(ctx, n, ResPending, ResExpired, mp, func(*Unit, *Reservation) int64 { return now })
		})...)
	}
	for _, k := range dueKeys(kv, keyQueueUnbond, now) {
		rest := k[len(keyQueueUnbond)+8:]
		owner, seq := rest[:address.Len], beU64(rest[address.Len:])
		events = append(events, runIsolated(kv, blk, "unbond", func(ctx *Context) error {
			ctx.KV.Delete(k)
			p, ok := GetProvider(ctx.KV, owner)
			if !ok {
				return nil
			}
			left, amt, found, err := releaseUnbonding(ctx.KV, owner, p.Unbonding, seq)
			if err != nil || !found {
				return err
			}
			p.Unbonding = left
			setProvider(ctx.KV, owner, p)
			ctx.Emit("unbonded", "provider", p.Address, "amount", amt.String())
			return nil
		})...)
	}
	return events
}

// finishQueued ends reservation n from a time queue if it is still in
// state want: at returns the end time (after any accrual it needs).
func finishQueued(ctx *Context, n uint64, want, status string, mp marketParams, at func(*Unit, *Reservation) int64) error {
	r, ok := GetReservation(ctx.KV, resIDString(n))
	if !ok || r.Status != want {
		return nil
	}
	u, ok := GetUnit(ctx.KV, r.Unit)
	if !ok {
		return fmt.Errorf("unit %s missing", r.Unit)
	}
	if err := finishRes(ctx, u, r, at(u, r), status, mp); err != nil {
		return err
	}
	setUnit(ctx.KV, u)
	setReservation(ctx.KV, r)
	return nil
}

// releaseUnbonding pays out the unbonding entry seq of owner (a provider or
// an oracle) from the stake pool and returns the remaining entries.
func releaseUnbonding(kv KV, owner []byte, entries []UnbondingEntry, seq uint64) (rest []UnbondingEntry, amt Amount, found bool, err error) {
	for i, e := range entries {
		if e.Seq != seq {
			continue
		}
		if e.Amount > 0 {
			if err := FromPool(kv, PoolStake, owner, e.Amount); err != nil {
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

// marketNow is the time of the last block, for queries.
func marketNow(kv KV) int64 {
	if b := kv.Get(keyMktNow); len(b) == 8 {
		return int64(beU64(b))
	}
	return 0
}
