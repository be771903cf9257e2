package dispute

import (
	"bytes"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/store"
)

func (k *Keeper) handleSealKey(ctx *core.Context, signer []byte, m *MsgSealKey) error {
	if !k.oracles.Active(ctx.KV, signer) {
		return core.Errf(core.CodeNotOracle, "%s is not an active oracle; register it (qos/register_oracle) before its seal key", ctx.SignerAddress(signer))
	}
	ctx.KV.Set(store.Key(keySealKey, signer), bytes.Clone(m.PubKey))
	ctx.Emit("dispute_seal_key", "oracle", ctx.SignerAddress(signer))
	return nil
}

func unitPolicyKey(n uint64) []byte { return store.Key(keyUnitPol, store.EncodeUint64(n)) }

// MaxConsumerDisputes is unit n's policy (0: it refuses no one).
func MaxConsumerDisputes(kv store.KV, n uint64) uint64 { return store.GetUint64(kv, unitPolicyKey(n)) }

func (k *Keeper) handleUnitPolicy(ctx *core.Context, signer []byte, m *MsgUnitPolicy) error {
	n, err := market.UnitNumber(m.unitN, m.Unit)
	if err != nil {
		return err
	}
	u, ok := market.GetUnitN(ctx.KV, n)
	if !ok {
		return core.Errf(core.CodeNotFound, "unit %s not found", m.Unit)
	}
	if u.Provider != ctx.SignerAddress(signer) {
		return core.Errf(core.CodeUnauthorized, "unit %s belongs to %s; only its provider sets its dispute policy", u.ID, u.Provider)
	}
	if m.MaxConsumerDisputes == 0 {
		ctx.KV.Delete(unitPolicyKey(n))
	} else {
		store.SetUint64(ctx.KV, unitPolicyKey(n), m.MaxConsumerDisputes)
	}
	ctx.Emit("dispute_unit_policy", "unit", u.ID, "provider", u.Provider, "max_consumer_disputes", utoa(m.MaxConsumerDisputes))
	return nil
}

// Gate is the market's consumer gate: a unit with a policy refuses
// consumers with at least that many disputes that were not upheld
// (rejected, undecided or still open): serial disputers, including a
// consumer who disputes every egress report to have it settled at its own
// figure.
type Gate struct{}

var _ market.ConsumerGate = Gate{}

func (Gate) AdmitConsumer(kv store.KV, u *market.Unit, consumer string) error {
	n, err := market.ParseUnitID(u.ID)
	if err != nil {
		return nil
	}
	limit := MaxConsumerDisputes(kv, n)
	if limit == 0 {
		return nil
	}
	raw, err := address.Parse(consumer)
	if err != nil {
		return nil
	}
	c := getConsumerCounts(kv, raw)
	if lost := c.Opened - min(c.Upheld, c.Opened); lost >= limit {
		return core.Errf(core.CodeDisputesRefused, "unit %s refuses consumers with %d or more disputes not upheld; %s has %d (GET /v1/disputes/accounts/%s)", u.ID, limit, consumer, lost, consumer)
	}
	return nil
}
