package repo

import (
	"strconv"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/accesskey"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/store"
)

// Handlers check everything before they write: a rejection leaves the
// state as it was (the app drops a failed message's writes too).

// load reads the signer's repository name. Repositories are addressed by
// (signer, name), so another account's repository cannot be named at all:
// it is not found.
func load(ctx *core.Context, signer []byte, name string) (*Repo, error) {
	r, ok := Get(ctx.KV, signer, name)
	if !ok {
		return nil, core.Errf(core.CodeNotFound, "%s has no repository named %q (a repository is changed only by its owner; list yours with GET /v1/repos?owner=)", address.Encode(signer), name)
	}
	return r, nil
}

// admit checks that spec may become a member of r and returns it. except
// is the index of a member whose provider the new one may share (the one
// it replaces), -1 for none.
func (k *Keeper) admit(ctx *core.Context, signer []byte, r *Repo, spec *MemberSpec, state string, except int) (Member, error) {
	res, ok := k.mk.Reservation(ctx.KV, spec.Reservation)
	if !ok {
		return Member{}, core.Errf(core.CodeNotFound, "reservation %s does not exist", spec.Reservation)
	}
	if res.Consumer != address.Encode(signer) {
		return Member{}, core.Errf(core.CodeUnauthorized, "reservation %s belongs to %s; a repository's members must be its owner's own reservations", res.ID, res.Consumer)
	}
	if res.Status != market.ResActive {
		return Member{}, core.Errf(core.CodeWrongState, "reservation %s is %s; a member must be an active reservation (a pending one waits for its provider to accept)", res.ID, res.Status)
	}
	if r.member(res.ID) >= 0 {
		return Member{}, core.Errf(core.CodeAlreadyExists, "reservation %s is already a member of %s", res.ID, r.Name)
	}
	n, _ := market.ParseResID(res.ID)
	if v := ctx.KV.Get(resIndexKey(n)); v != nil {
		return Member{}, core.Errf(core.CodeAlreadyExists, "reservation %s is already a member of repository %s; a reservation serves one repository", res.ID, string(v[address.Len:]))
	}
	var ak accesskey.AccessKey
	if !store.Get(ctx.KV, accesskey.RecordKey(spec.AccessKeyID), &ak) {
		return Member{}, core.Errf(core.CodeNotFound, "access key %s does not exist; create a write key on %s first (accesskey/create)", spec.AccessKeyID, res.ID)
	}
	if ak.Reservation != res.ID {
		return Member{}, core.Errf(core.CodeUnauthorized, "access key %s is for %s, not %s; give a key of the member's own reservation", ak.ID, ak.Reservation, res.ID)
	}
	if ak.Perm != accesskey.PermWrite && ak.Perm != accesskey.PermAdmin {
		return Member{}, core.Errf(core.CodeWrongState, "access key %s is %s-only; the gateway writes through it, give a write or admin key", ak.ID, ak.Perm)
	}
	if r.Mode == ModeMirror {
		for i := range r.Members {
			if i != except && r.Members[i].Provider == res.Provider {
				return Member{}, core.Errf(core.CodeSameProvider, "reservation %s is on provider %s, like member %s; a mirror's members must be on distinct providers (reserve on another provider's unit)", res.ID, res.Provider, r.Members[i].Reservation)
			}
		}
	}
	return Member{Reservation: res.ID, Unit: res.Unit, Provider: res.Provider, State: state,
		AccessKeyID: ak.ID, SealedSecret: spec.SealedSecret, JoinedAt: core.Time(ctx.Now())}, nil
}

// setResIndex marks res as a member of owner's repository name (value:
// owner raw + name).
func setResIndex(kv store.KV, owner []byte, name, res string) {
	n, _ := market.ParseResID(res)
	kv.Set(resIndexKey(n), store.Key(owner, []byte(name)))
}

func deleteResIndex(kv store.KV, res string) {
	n, _ := market.ParseResID(res)
	kv.Delete(resIndexKey(n))
}

func (k *Keeper) handleCreate(ctx *core.Context, signer []byte, m *MsgCreate) error {
	owner := address.Encode(signer)
	if _, ok := Get(ctx.KV, signer, m.Name); ok {
		return core.Errf(core.CodeAlreadyExists, "%s already has a repository named %q; pick another name", owner, m.Name)
	}
	prefix := store.Key(keyRepo, signer)
	count := 0
	ctx.KV.Iterate(prefix, store.PrefixEnd(prefix), func(_, _ []byte) bool { count++; return true })
	if count >= MaxReposPerOwner {
		return core.Errf(core.CodeLimitExceeded, "%s already has %d repositories (the maximum); delete one first", owner, count)
	}
	r := &Repo{Owner: owner, Name: m.Name, Mode: m.Mode, Encrypted: !m.NoEncryption,
		GatewayPubKey: m.GatewayPubKey, CreatedAt: core.Time(ctx.Now()), UpdatedAt: core.Time(ctx.Now())}
	for i := range m.Members {
		mem, err := k.admit(ctx, signer, r, &m.Members[i], StateActive, -1)
		if err != nil {
			return err
		}
		r.Members = append(r.Members, mem)
	}
	if r.Mode == ModeMirror {
		r.Quorum = m.Quorum
		if r.Quorum == 0 {
			r.Quorum = DefaultQuorum(len(r.Members))
		}
		if int(r.Quorum) > len(r.Members) {
			return core.Errf(core.CodeQuorumTooLarge, "write_quorum %d is larger than the %d members; give at most %d (or leave it out for a majority)", r.Quorum, len(r.Members), len(r.Members))
		}
	}
	put(ctx.KV, r)
	ctx.KV.Set(gatewayIndexKey(r.GatewayPubKey, signer, r.Name), []byte{})
	for _, mem := range r.Members {
		setResIndex(ctx.KV, signer, r.Name, mem.Reservation)
	}
	ctx.Emit("repo_created", "owner", owner, "repo", r.Name, "mode", r.Mode,
		"members", strconv.Itoa(len(r.Members)), "write_quorum", strconv.FormatUint(uint64(r.Quorum), 10))
	return nil
}

func (k *Keeper) handleAddMember(ctx *core.Context, signer []byte, m *MsgAddMember) error {
	r, err := load(ctx, signer, m.Repo)
	if err != nil {
		return err
	}
	if len(r.Members) >= MaxMembers {
		return core.Errf(core.CodeLimitExceeded, "repository %s has %d members (the maximum); remove one first", r.Name, len(r.Members))
	}
	state := StateActive
	if r.Mode == ModeMirror {
		state = StateJoining // empty until the repair loop fills it
	}
	mem, err := k.admit(ctx, signer, r, &m.Member, state, -1)
	if err != nil {
		return err
	}
	r.Members = append(r.Members, mem)
	r.UpdatedAt = core.Time(ctx.Now())
	put(ctx.KV, r)
	setResIndex(ctx.KV, signer, r.Name, mem.Reservation)
	ctx.Emit("repo_member_added", "owner", r.Owner, "repo", r.Name, "reservation", mem.Reservation, "provider", mem.Provider, "state", mem.State)
	return nil
}

func (k *Keeper) handleRemoveMember(ctx *core.Context, signer []byte, m *MsgRemoveMember) error {
	r, err := load(ctx, signer, m.Repo)
	if err != nil {
		return err
	}
	i := r.member(m.Reservation)
	if i < 0 {
		return core.Errf(core.CodeNotFound, "reservation %s is not a member of %s", m.Reservation, r.Name)
	}
	mem := r.Members[i]
	switch {
	case len(r.Members) == 1:
		return core.Errf(core.CodeWrongState, "%s is the last member of %s; a repository keeps at least one member (delete the repository instead)", mem.Reservation, r.Name)
	case mem.State == StateRetiring:
		return core.Errf(core.CodeWrongState, "%s is being replaced by %s; send member_synced for %s when it is full, or remove %s to cancel the replacement", mem.Reservation, r.replacer(mem.Reservation), r.replacer(mem.Reservation), r.replacer(mem.Reservation))
	case mem.State == StateActive && r.Mode == ModeMirror && int(r.Quorum) > r.servingCount()-1:
		return core.Errf(core.CodeQuorumTooLarge, "removing %s leaves %d serving members, below the write quorum %d; lower the quorum first (repo/set_quorum)", mem.Reservation, r.servingCount()-1, r.Quorum)
	}
	if mem.State == StateJoining && mem.Replaces != "" {
		// Cancelling a replacement: the old member serves on as before.
		r.Members[r.member(mem.Replaces)].State = StateActive
	}
	r.Members = append(r.Members[:i], r.Members[i+1:]...)
	r.UpdatedAt = core.Time(ctx.Now())
	put(ctx.KV, r)
	deleteResIndex(ctx.KV, mem.Reservation)
	ctx.Emit("repo_member_removed", "owner", r.Owner, "repo", r.Name, "reservation", mem.Reservation)
	return nil
}

// replacer is the joining member that replaces res ("" if none).
func (r *Repo) replacer(res string) string {
	for i := range r.Members {
		if r.Members[i].Replaces == res {
			return r.Members[i].Reservation
		}
	}
	return ""
}

func (k *Keeper) handleReplaceMember(ctx *core.Context, signer []byte, m *MsgReplaceMember) error {
	r, err := load(ctx, signer, m.Repo)
	if err != nil {
		return err
	}
	i := r.member(m.Old)
	if i < 0 {
		return core.Errf(core.CodeNotFound, "reservation %s is not a member of %s", m.Old, r.Name)
	}
	if r.Members[i].State != StateActive {
		return core.Errf(core.CodeWrongState, "member %s is %s; only an active member can be replaced", m.Old, r.Members[i].State)
	}
	if len(r.Members) >= MaxMembers {
		return core.Errf(core.CodeLimitExceeded, "repository %s has %d members (the maximum), and a replacement holds both until synced; remove one first", r.Name, len(r.Members))
	}
	mem, err := k.admit(ctx, signer, r, &m.Member, StateJoining, i)
	if err != nil {
		return err
	}
	mem.Replaces = m.Old
	r.Members[i].State = StateRetiring
	r.Members = append(r.Members, mem)
	r.UpdatedAt = core.Time(ctx.Now())
	put(ctx.KV, r)
	setResIndex(ctx.KV, signer, r.Name, mem.Reservation)
	ctx.Emit("repo_member_replacing", "owner", r.Owner, "repo", r.Name, "old_reservation", m.Old, "reservation", mem.Reservation, "provider", mem.Provider)
	return nil
}

func (k *Keeper) handleMemberSynced(ctx *core.Context, signer []byte, m *MsgMemberSynced) error {
	r, err := load(ctx, signer, m.Repo)
	if err != nil {
		return err
	}
	i := r.member(m.Reservation)
	if i < 0 {
		return core.Errf(core.CodeNotFound, "reservation %s is not a member of %s", m.Reservation, r.Name)
	}
	if r.Members[i].State != StateJoining {
		return core.Errf(core.CodeWrongState, "member %s is %s; only a joining member can be marked synced", m.Reservation, r.Members[i].State)
	}
	old := r.Members[i].Replaces
	r.Members[i].State, r.Members[i].Replaces = StateActive, ""
	if old != "" {
		j := r.member(old)
		r.Members = append(r.Members[:j], r.Members[j+1:]...)
		deleteResIndex(ctx.KV, old)
	}
	r.UpdatedAt = core.Time(ctx.Now())
	put(ctx.KV, r)
	ctx.Emit("repo_member_synced", "owner", r.Owner, "repo", r.Name, "reservation", m.Reservation, "retired", old)
	return nil
}

func (k *Keeper) handleSetQuorum(ctx *core.Context, signer []byte, m *MsgSetQuorum) error {
	r, err := load(ctx, signer, m.Repo)
	if err != nil {
		return err
	}
	if r.Mode != ModeMirror {
		return core.Errf(core.CodeWrongState, "repository %s is %s; only a mirror repository has a write quorum", r.Name, r.Mode)
	}
	if n := r.servingCount(); int(m.Quorum) > n {
		return core.Errf(core.CodeQuorumTooLarge, "write_quorum %d is larger than the %d serving members of %s (joining members do not count until synced); give at most %d", m.Quorum, n, r.Name, n)
	}
	r.Quorum = m.Quorum
	r.UpdatedAt = core.Time(ctx.Now())
	put(ctx.KV, r)
	ctx.Emit("repo_quorum_set", "owner", r.Owner, "repo", r.Name, "write_quorum", strconv.FormatUint(uint64(m.Quorum), 10))
	return nil
}

func (k *Keeper) handleDelete(ctx *core.Context, signer []byte, m *MsgDelete) error {
	r, err := load(ctx, signer, m.Repo)
	if err != nil {
		return err
	}
	prefix := keysPrefix(signer, r.Name)
	var ids []string // at most MaxKeysPerRepo
	ctx.KV.Iterate(prefix, store.PrefixEnd(prefix), func(key, _ []byte) bool {
		ids = append(ids, string(key[len(prefix):]))
		return true
	})
	for _, id := range ids {
		ctx.KV.Delete(KeyRecordKey(id))
		ctx.KV.Delete(store.Key(prefix, []byte(id)))
	}
	for _, mem := range r.Members {
		deleteResIndex(ctx.KV, mem.Reservation)
	}
	ctx.KV.Delete(gatewayIndexKey(r.GatewayPubKey, signer, r.Name))
	ctx.KV.Delete(RecordKey(signer, r.Name))
	ctx.Emit("repo_deleted", "owner", r.Owner, "repo", r.Name, "keys_revoked", strconv.Itoa(len(ids)))
	return nil
}
