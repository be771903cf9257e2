package qos

import (
	"bytes"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/store"
)

// MaxRelatedAccounts bounds a provider's related accounts: every unit
// assignment checks each set member against them.
const MaxRelatedAccounts = 32

// relatedEntryLen is one stored entry: the first epoch it applies to and
// the raw address.
const relatedEntryLen = 8 + address.Len

// MsgDeclareRelated declares accounts related to the signer (a provider):
// from the next epoch on, none of them is ever assigned to the signer's
// units. Declarations add up and cannot be withdrawn (withdrawing one
// would make a friend eligible again); they apply from the next epoch so
// that a provider who has seen this epoch's assignment cannot remove an
// auditor it dislikes and get the next one in line.
type MsgDeclareRelated struct {
	Accounts []string `json:"accounts"`
}

// Type is the wire name of MsgDeclareRelated.
func (*MsgDeclareRelated) Type() string { return "qos/declare_related" }

func (m *MsgDeclareRelated) ValidateBasic() error {
	if len(m.Accounts) == 0 {
		return core.Errf(core.CodeInvalidMessage, "accounts is empty: list the addresses related to you")
	}
	if len(m.Accounts) > MaxRelatedAccounts {
		return core.Errf(core.CodeLimitExceeded, "%d accounts listed, at most %d", len(m.Accounts), MaxRelatedAccounts)
	}
	seen := map[string]bool{}
	for i, a := range m.Accounts {
		if _, err := address.Parse(a); err != nil {
			return core.Errf(core.CodeInvalidAddress, "accounts[%d]: %v", i, err)
		}
		if seen[a] {
			return core.Errf(core.CodeInvalidMessage, "accounts[%d]: %s is listed twice", i, a)
		}
		seen[a] = true
	}
	return nil
}

func handleDeclareRelated(ctx *core.Context, signer []byte, m *MsgDeclareRelated) error {
	if _, ok := market.GetProvider(ctx.KV, signer); !ok {
		return core.Errf(core.CodeNotFound, "%s is not a provider; register one with market/register_provider first", address.Encode(signer))
	}
	q := getQoSParams(ctx.KV)
	from := market.EpochOf(ctx.Now(), q.Epoch) + 1
	k := store.Key(keyRelated, signer)
	val := append([]byte(nil), ctx.KV.Get(k)...)
	added := 0
	for _, a := range m.Accounts {
		raw, _ := address.Parse(a)
		if bytes.Equal(raw, signer) || relatedIndex(val, raw) >= 0 {
			continue // the owner is always excluded; a repeat changes nothing
		}
		val = append(append(val, store.EncodeUint64(uint64(from))...), raw...)
		added++
	}
	if n := len(val) / relatedEntryLen; n > MaxRelatedAccounts {
		return core.Errf(core.CodeLimitExceeded, "%s would have %d related accounts, at most %d", address.Encode(signer), n, MaxRelatedAccounts)
	}
	ctx.KV.Set(k, val)
	ctx.Emit("related_declared", "provider", address.Encode(signer), "added", itoa(int64(added)), "from_epoch", itoa(from))
	return nil
}

// relatedIndex is the entry of raw in a stored list, -1 if absent.
func relatedIndex(val, raw []byte) int {
	for i := 0; i+relatedEntryLen <= len(val); i += relatedEntryLen {
		if bytes.Equal(val[i+8:i+relatedEntryLen], raw) {
			return i
		}
	}
	return -1
}

// isRelated reports whether oracle may never audit owner's units in epoch
// e: it is the owner, or an account the owner declared before e.
func isRelated(kv store.KV, owner, oracle []byte, e int64) bool {
	return relatedTo(kv, owner, e)(oracle)
}

// relatedTo is isRelated for many oracles, reading the list once.
func relatedTo(kv store.KV, owner []byte, e int64) func(oracle []byte) bool {
	val := kv.Get(store.Key(keyRelated, owner))
	return func(oracle []byte) bool {
		if bytes.Equal(owner, oracle) {
			return true
		}
		i := relatedIndex(val, oracle)
		return i >= 0 && int64(store.DecodeUint64(val[i:i+8])) <= e
	}
}

// RelatedAccounts are owner's declared related accounts.
func RelatedAccounts(kv store.KV, owner []byte) []string {
	val := kv.Get(store.Key(keyRelated, owner))
	var out []string
	for i := 0; i+relatedEntryLen <= len(val); i += relatedEntryLen {
		out = append(out, address.Encode(val[i+8:i+relatedEntryLen]))
	}
	return out
}
