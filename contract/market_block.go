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
			r, ok := GetReservation(ctx.KV, resIDString(n))
			if !ok || r.Status != ResActive {
				return nil
			}
			u, ok := GetUnit(ctx.KV, r.Unit)
			if !ok {
				return fmt.Errorf("unit %s missing", r.Unit)
			}
			accrueUnit(u, r.End, mp)
			if err := finishRes(ctx, u, r, r.End, ResCompleted, mp); err != nil {
				return err
			}
			setUnit(ctx.KV, u)
			setReservation(ctx.KV, r)
			return nil
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
			r, ok := GetReservation(ctx.KV, resIDString(n))
			if !ok || r.Status != ResPending {
				return nil
			}
			u, ok := GetUnit(ctx.KV, r.Unit)
			if !ok {
				return fmt.Errorf("unit %s missing", r.Unit)
			}
			if err := finishRes(ctx, u, r, now, ResExpired, mp); err != nil {
				return err
			}
			setUnit(ctx.KV, u)
			setReservation(ctx.KV, r)
			return nil
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
			for i, e := range p.Unbonding {
				if e.Seq != seq {
					continue
				}
				if err := FromPool(ctx.KV, PoolStake, owner, e.Amount); err != nil {
					return err
				}
				p.Unbonding = append(p.Unbonding[:i], p.Unbonding[i+1:]...)
				if len(p.Unbonding) == 0 {
					p.Unbonding = nil
				}
				setProvider(ctx.KV, owner, p)
				ctx.Emit("unbonded", "provider", p.Address, "amount", e.Amount.String())
				return nil
			}
			return nil
		})...)
	}
	return events
}

// marketNow is the time of the last block, for queries.
func marketNow(kv KV) int64 {
	if b := kv.Get(keyMktNow); len(b) == 8 {
		return int64(beU64(b))
	}
	return 0
}
