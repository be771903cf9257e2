package qos

import (
	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/store"
)

// EndBlock releases oracle stake whose unbonding is over.
func EndBlock(kv store.KV, blk core.Block) []core.Event {
	now := blk.Time.Unix()
	var events []core.Event
	for _, k := range market.DueKeys(kv, keyOQueue, now, market.MaxQueuedPerBlock) {
		rest := k[len(keyOQueue)+8:]
		owner, seq := rest[:address.Len], store.DecodeUint64(rest[address.Len:])
		events = append(events, market.RunIsolated(kv, blk, "oracle unbond", func(ctx *core.Context) error {
			ctx.KV.Delete(k)
			o, ok := GetOracle(ctx.KV, owner)
			if !ok {
				return nil
			}
			left, amt, found, err := market.ReleaseUnbonding(ctx.KV, owner, o.Unbonding, seq)
			if err != nil || !found {
				return err
			}
			o.Unbonding = left
			setOracle(ctx.KV, owner, o)
			ctx.Emit("oracle_unbonded", "oracle", o.Address, "amount", amt.String())
			return nil
		})...)
	}
	return events
}
