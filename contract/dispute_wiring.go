package contract

import (
	"github.com/flashback-network/flashback/contract/accesskey"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/dispute"
	"github.com/flashback-network/flashback/contract/qos"
	"github.com/flashback-network/flashback/contract/store"
)

// The dispute module reaches QoS and access keys only through the
// interfaces it declares; these adapters implement them over the modules.

type disputeOracles struct{}

func (disputeOracles) Assigned(kv store.KV, e int64, unitN uint64) ([]string, bool, error) {
	return qos.AssignedOracles(kv, e, unitN)
}

func (disputeOracles) Active(kv store.KV, raw []byte) bool {
	o, ok := qos.GetOracle(kv, raw)
	return ok && o.Active && !o.Jailed
}

type disputeKeys struct{}

func (disputeKeys) PutReadKey(ctx *core.Context, resID, id string, sealedSecret []byte) error {
	return accesskey.PutScopedReadKey(ctx, resID, id, sealedSecret, "dispute")
}

func (disputeKeys) DropKey(ctx *core.Context, id string) {
	accesskey.DropScopedKey(ctx, id, "dispute_closed")
}

var (
	_ dispute.Oracles = disputeOracles{}
	_ dispute.Keys    = disputeKeys{}
)
