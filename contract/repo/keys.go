package repo

import (
	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/accesskey"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/store"
)

// Repo keys are S3 credentials of the gateway's bucket. Their ids have the
// shape of access key ids and are unique among repo keys and, at creation,
// among access keys: a gateway and a bridge each look ids up only in their
// own table, so even an access key made later with the same id opens
// nothing of the repository (and a repo key opens nothing on a bridge).

func (k *Keeper) handleCreateKey(ctx *core.Context, signer []byte, m *MsgCreateKey) error {
	r, err := load(ctx, signer, m.Repo)
	if err != nil {
		return err
	}
	if _, ok := GetKey(ctx.KV, m.ID); ok {
		return core.Errf(core.CodeAlreadyExists, "repo key id %s is taken; generate another", m.ID)
	}
	if ctx.KV.Get(accesskey.RecordKey(m.ID)) != nil {
		return core.Errf(core.CodeAlreadyExists, "id %s is an access key's; generate another", m.ID)
	}
	prefix := keysPrefix(signer, r.Name)
	count := 0
	ctx.KV.Iterate(prefix, store.PrefixEnd(prefix), func(_, _ []byte) bool { count++; return true })
	if count >= MaxKeysPerRepo {
		return core.Errf(core.CodeLimitExceeded, "repository %s already has %d keys (the maximum); revoke one first", r.Name, count)
	}
	key := RepoKey{ID: m.ID, Owner: r.Owner, Repo: r.Name, Perm: m.Perm, SealedSecret: m.SealedSecret, CreatedAt: core.Time(ctx.Now())}
	store.Set(ctx.KV, KeyRecordKey(m.ID), &key)
	ctx.KV.Set(store.Key(prefix, []byte(m.ID)), []byte{})
	ctx.Emit("repo_key_created", "owner", r.Owner, "repo", r.Name, "id", m.ID, "perm", m.Perm)
	return nil
}

func (k *Keeper) handleRevokeKey(ctx *core.Context, signer []byte, m *MsgRevokeKey) error {
	key, ok := GetKey(ctx.KV, m.ID)
	if !ok {
		return core.Errf(core.CodeNotFound, "repo key %s does not exist (already revoked, or its repository deleted)", m.ID)
	}
	if key.Owner != address.Encode(signer) {
		return core.Errf(core.CodeUnauthorized, "repo key %s belongs to %s; only the repository's owner can revoke it", m.ID, key.Owner)
	}
	ctx.KV.Delete(KeyRecordKey(m.ID))
	ctx.KV.Delete(store.Key(keysPrefix(signer, key.Repo), []byte(m.ID)))
	ctx.Emit("repo_key_revoked", "owner", key.Owner, "repo", key.Repo, "id", m.ID)
	return nil
}
