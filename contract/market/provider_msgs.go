package market

import (
	"time"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/store"
)

// ---- providers ----

// MsgRegisterProvider makes the signer a storage provider.
type MsgRegisterProvider struct {
	Name         string `json:"name"`
	Description  string `json:"description"`
	Website      string `json:"website"`
	Endpoint     string `json:"bridge_endpoint"`
	BridgePubKey []byte `json:"bridge_pub_key"` // X25519, 32 bytes, base64 on the wire
}

func checkProviderInfo(name, desc, web, endpoint string, key []byte) error {
	if err := checkText("name", name, 64, true); err != nil {
		return err
	}
	if err := checkText("description", desc, 512, false); err != nil {
		return err
	}
	if err := checkURL("website", web, false); err != nil {
		return err
	}
	if err := checkURL("bridge_endpoint", endpoint, true); err != nil {
		return err
	}
	if len(key) != 32 {
		return core.Errf(core.CodeInvalidMessage, "bridge_pub_key is %d bytes, want a 32-byte X25519 public key (base64)", len(key))
	}
	return nil
}

func (m *MsgRegisterProvider) ValidateBasic() error {
	return checkProviderInfo(m.Name, m.Description, m.Website, m.Endpoint, m.BridgePubKey)
}

func (mk *Keeper) handleRegisterProvider(ctx *core.Context, signer []byte, m *MsgRegisterProvider) error {
	p, ok := GetProvider(ctx.KV, signer)
	if ok && !p.Deregistered {
		return core.Errf(core.CodeAlreadyExists, "%s is already a registered provider; use market/update_provider", address.Encode(signer))
	}
	if !ok {
		p = &Provider{Address: address.Encode(signer), Score: DefaultScore}
	}
	p.Name, p.Description, p.Website, p.Endpoint, p.BridgePubKey = m.Name, m.Description, m.Website, m.Endpoint, m.BridgePubKey
	p.Deregistered = false
	p.RegisteredAt, p.UpdatedAt = core.Time(ctx.Now()), core.Time(ctx.Now())
	mk.SetProvider(ctx.KV, signer, p)
	ctx.Emit("provider_registered", "provider", p.Address)
	return nil
}

// MsgUpdateProvider changes the signer's provider info; omitted (null)
// fields are unchanged.
type MsgUpdateProvider struct {
	Name         *string `json:"name,omitempty"`
	Description  *string `json:"description,omitempty"`
	Website      *string `json:"website,omitempty"`
	Endpoint     *string `json:"bridge_endpoint,omitempty"`
	BridgePubKey []byte  `json:"bridge_pub_key,omitempty"`
}

func (m *MsgUpdateProvider) ValidateBasic() error {
	if m.Name == nil && m.Description == nil && m.Website == nil && m.Endpoint == nil && m.BridgePubKey == nil {
		return core.Errf(core.CodeInvalidMessage, "nothing to update: set at least one of name, description, website, bridge_endpoint, bridge_pub_key")
	}
	name, desc, web, ep, key := "x", "", "", "http://x", make([]byte, 32)
	if m.Name != nil {
		name = *m.Name
	}
	if m.Description != nil {
		desc = *m.Description
	}
	if m.Website != nil {
		web = *m.Website
	}
	if m.Endpoint != nil {
		ep = *m.Endpoint
	}
	if m.BridgePubKey != nil {
		key = m.BridgePubKey
	}
	return checkProviderInfo(name, desc, web, ep, key)
}

func activeProvider(kv store.KV, signer []byte) (*Provider, error) {
	p, ok := GetProvider(kv, signer)
	if !ok || p.Deregistered {
		return nil, core.Errf(core.CodeNotFound, "%s is not a registered provider; send market/register_provider first", address.Encode(signer))
	}
	return p, nil
}

func (mk *Keeper) handleUpdateProvider(ctx *core.Context, signer []byte, m *MsgUpdateProvider) error {
	p, err := activeProvider(ctx.KV, signer)
	if err != nil {
		return err
	}
	if m.Name != nil {
		p.Name = *m.Name
	}
	if m.Description != nil {
		p.Description = *m.Description
	}
	if m.Website != nil {
		p.Website = *m.Website
	}
	if m.Endpoint != nil {
		p.Endpoint = *m.Endpoint
	}
	if m.BridgePubKey != nil {
		p.BridgePubKey = m.BridgePubKey
	}
	p.UpdatedAt = core.Time(ctx.Now())
	mk.SetProvider(ctx.KV, signer, p)
	ctx.Emit("provider_updated", "provider", p.Address)
	return nil
}

// MsgStake bonds tokens from the signer's balance to its provider.
type MsgStake struct {
	Amount core.Amount `json:"amount"`
}

func (m *MsgStake) ValidateBasic() error {
	if m.Amount == 0 {
		return core.Errf(core.CodeInvalidAmount, "amount must be positive")
	}
	return nil
}

func (mk *Keeper) handleStake(ctx *core.Context, signer []byte, m *MsgStake) error {
	p, err := activeProvider(ctx.KV, signer)
	if err != nil {
		return err
	}
	if p.Stake, err = core.Add(p.Stake, m.Amount); err != nil {
		return err
	}
	if err := bank.ToPool(ctx.KV, signer, bank.PoolStake, m.Amount); err != nil {
		return err
	}
	ctx.Emit("stake", "provider", p.Address, "amount", m.Amount.String(), "stake", p.Stake.String())
	mk.SetProviderNoting(ctx, signer, p) // a top-up may resume its units
	return nil
}

// MsgUnstake starts unbonding part of the provider's stake; it is paid back
// after unbonding_period and stays slashable until then.
type MsgUnstake struct {
	Amount core.Amount `json:"amount"`
}

func (m *MsgUnstake) ValidateBasic() error {
	if m.Amount == 0 {
		return core.Errf(core.CodeInvalidAmount, "amount must be positive")
	}
	return nil
}

// earliestRelease is the soonest release time of entries, as RFC 3339.
func earliestRelease(entries []UnbondingEntry) string {
	at := entries[0].ReleaseAt
	for _, e := range entries[1:] {
		at = min(at, e.ReleaseAt)
	}
	return time.Unix(int64(at), 0).UTC().Format(time.RFC3339)
}

func startUnbonding(ctx *core.Context, signer []byte, p *Provider, amt core.Amount) {
	mp := ParamsOf(ctx.KV)
	seq := store.NextSequence(ctx.KV, keySeqUnbond)
	at := ctx.Now() + mp.Unbonding
	p.Stake -= amt
	p.Unbonding = append(p.Unbonding, UnbondingEntry{Amount: amt, ReleaseAt: core.Time(at), Seq: seq})
	ctx.KV.Set(store.Key(keyQueueUnbond, store.EncodeUint64(uint64(at)), signer, store.EncodeUint64(seq)), []byte{})
	ctx.Emit("unbond", "provider", p.Address, "amount", amt.String(), "release_at", itoa(at))
}

// MaxUnbondingEntries caps a provider's unbonding entries, as Cosmos
// x/staking's max_entries does: every release and slash walks the list, so
// it must stay short. Deregistering may add one more (the final entry).
const MaxUnbondingEntries = 7

func (mk *Keeper) handleUnstake(ctx *core.Context, signer []byte, m *MsgUnstake) error {
	p, err := activeProvider(ctx.KV, signer)
	if err != nil {
		return err
	}
	if len(p.Unbonding) >= MaxUnbondingEntries {
		return core.Errf(core.CodeLimitExceeded, "provider has %d unbonding entries (max %d); the earliest is released at %s", len(p.Unbonding), MaxUnbondingEntries, earliestRelease(p.Unbonding))
	}
	if m.Amount > p.Stake {
		return core.Errf(core.CodeInsufficientStake, "provider has %d%s bonded, cannot unstake %d%s", p.Stake, core.Denom, m.Amount, core.Denom)
	}
	mp := ParamsOf(ctx.KV)
	need, err := mulAmount(mp.MinUnitStake, p.LiveUnits)
	if err != nil {
		return err
	}
	if p.Stake-m.Amount < need {
		return core.Errf(core.CodeInsufficientStake, "%d live units need %d%s bonded (min_unit_stake %d%s each); at most %d%s can be unstaked", p.LiveUnits, need, core.Denom, mp.MinUnitStake, core.Denom, p.Stake-need, core.Denom)
	}
	startUnbonding(ctx, signer, p, m.Amount)
	mk.SetProvider(ctx.KV, signer, p)
	return nil
}

// MsgDeregisterProvider retires the signer's provider; all bonded stake
// starts unbonding. Only allowed when every unit is deleted.
type MsgDeregisterProvider struct{}

func (m *MsgDeregisterProvider) ValidateBasic() error { return nil }

func (mk *Keeper) handleDeregisterProvider(ctx *core.Context, signer []byte, m *MsgDeregisterProvider) error {
	p, err := activeProvider(ctx.KV, signer)
	if err != nil {
		return err
	}
	if p.LiveUnits > 0 {
		return core.Errf(core.CodeWrongState, "provider still has %d live units; decommission and delete them first", p.LiveUnits)
	}
	if p.Stake > 0 {
		startUnbonding(ctx, signer, p, p.Stake)
	}
	p.Deregistered = true
	p.UpdatedAt = core.Time(ctx.Now())
	mk.SetProvider(ctx.KV, signer, p)
	ctx.Emit("provider_deregistered", "provider", p.Address)
	return nil
}

func mulAmount(a core.Amount, n uint64) (core.Amount, error) {
	v, err := core.MulDiv(uint64(a), n, 1)
	if err != nil {
		return 0, core.Errf(core.CodeOverflow, "%d x %d overflows", a, n)
	}
	return core.Amount(v), nil
}
