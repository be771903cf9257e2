package contract

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/accesskey"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/qos"
	"github.com/flashback-network/flashback/contract/repo"
)

func TestRepoCreate(t *testing.T) {
	runRepoCases(t, []repoCase{
		{name: "mirror", signer: "alice", msg: mirror("photos", 0, 1, 3, 4), check: func(t *testing.T, h *mkt) {
			v := repoView(t, h, "alice", "photos")
			wantStates(t, v, "res-1:active", "res-3:active", "res-4:active")
			if v.Owner != mktAddr("alice") || v.Mode != repo.ModeMirror || v.WriteQuorum != 2 || !v.Encrypted || v.Status != types.HealthOK || v.HealthyMembers != 3 || !bytes.Equal(v.GatewayPubKey, gwKey()) {
				t.Fatalf("view %+v", v)
			}
			m := v.Members[1]
			if m.Unit != "unit-4" || m.Provider != mktAddr("bob") || m.BridgeEndpoint != "https://bridge.example.com" || m.AccessKeyID != memberKey(3) || !bytes.Equal(m.SealedSecret, sealed()) || m.Health != types.HealthOK || m.ReservationStatus != market.ResActive {
				t.Fatalf("member %+v", m)
			}
		}},
		{name: "mirror with quorum", signer: "alice", msg: mirror("photos", 3, 1, 3, 4), check: func(t *testing.T, h *mkt) {
			if v := repoView(t, h, "alice", "photos"); v.WriteQuorum != 3 {
				t.Fatalf("quorum %d", v.WriteQuorum)
			}
		}},
		{name: "normal without encryption, members on one provider", signer: "alice",
			msg: &repo.MsgCreate{Name: "public.site", Mode: repo.ModeNormal, NoEncryption: true, GatewayPubKey: gwKey(), Members: []repo.MemberSpec{spec(1), spec(6)}},
			check: func(t *testing.T, h *mkt) {
				if v := repoView(t, h, "alice", "public.site"); v.Encrypted || v.WriteQuorum != 0 || len(v.Members) != 2 {
					t.Fatalf("view %+v", v)
				}
			}},
		{name: "mirror members on the same provider", signer: "alice", msg: mirror("photos", 0, 1, 6), code: core.CodeSameProvider},
		{name: "member reservation of another consumer", signer: "alice", msg: mirror("photos", 0, 1, 7), code: core.CodeUnauthorized},
		{name: "pending member reservation", signer: "alice", msg: &repo.MsgCreate{Name: "photos", Mode: repo.ModeMirror, GatewayPubKey: gwKey(), Members: []repo.MemberSpec{{Reservation: "res-2", AccessKeyID: memberKey(2), SealedSecret: sealed()}}}, code: core.CodeWrongState},
		{name: "unknown reservation", signer: "alice", msg: &repo.MsgCreate{Name: "photos", Mode: repo.ModeMirror, GatewayPubKey: gwKey(), Members: []repo.MemberSpec{{Reservation: "res-99", AccessKeyID: memberKey(1), SealedSecret: sealed()}}}, code: core.CodeNotFound},
		{name: "quorum larger than members", signer: "alice", msg: mirror("photos", 4, 1, 3, 4), code: core.CodeQuorumTooLarge},
		{name: "quorum in normal mode", signer: "alice", msg: &repo.MsgCreate{Name: "photos", Mode: repo.ModeNormal, Quorum: 1, GatewayPubKey: gwKey(), Members: []repo.MemberSpec{spec(1)}}, code: core.CodeInvalidMessage},
		{name: "duplicate name", setup: withRepo, signer: "alice", msg: mirror("photos", 0, 5), code: core.CodeAlreadyExists},
		{name: "invalid name: upper case", signer: "alice", msg: mirror("Photos", 0, 1), code: core.CodeInvalidMessage},
		{name: "invalid name: short", signer: "alice", msg: mirror("ab", 0, 1), code: core.CodeInvalidMessage},
		{name: "invalid name: ip", signer: "alice", msg: mirror("192.168.1.1", 0, 1), code: core.CodeInvalidMessage},
		{name: "invalid name: dots", signer: "alice", msg: mirror("a..b", 0, 1), code: core.CodeInvalidMessage},
		{name: "invalid name: trailing hyphen", signer: "alice", msg: mirror("photos-", 0, 1), code: core.CodeInvalidMessage},
		{name: "bad mode", signer: "alice", msg: &repo.MsgCreate{Name: "photos", Mode: "erasure", GatewayPubKey: gwKey(), Members: []repo.MemberSpec{spec(1)}}, code: core.CodeInvalidMessage},
		{name: "bad gateway key", signer: "alice", msg: &repo.MsgCreate{Name: "photos", Mode: repo.ModeMirror, GatewayPubKey: []byte{1, 2}, Members: []repo.MemberSpec{spec(1)}}, code: core.CodeInvalidMessage},
		{name: "no members", signer: "alice", msg: mirror("photos", 0), code: core.CodeInvalidMessage},
		{name: "plaintext-sized member secret", signer: "alice", msg: &repo.MsgCreate{Name: "photos", Mode: repo.ModeMirror, GatewayPubKey: gwKey(), Members: []repo.MemberSpec{{Reservation: "res-1", AccessKeyID: memberKey(1), SealedSecret: []byte("secret")}}}, code: core.CodeInvalidMessage},
		{name: "access key of another reservation", signer: "alice", msg: &repo.MsgCreate{Name: "photos", Mode: repo.ModeMirror, GatewayPubKey: gwKey(), Members: []repo.MemberSpec{{Reservation: "res-1", AccessKeyID: memberKey(3), SealedSecret: sealed()}}}, code: core.CodeUnauthorized},
		{name: "read-only access key", signer: "alice", msg: mirror("photos", 0, 8), code: core.CodeWrongState},
		{name: "unknown access key", signer: "alice", msg: &repo.MsgCreate{Name: "photos", Mode: repo.ModeMirror, GatewayPubKey: gwKey(), Members: []repo.MemberSpec{{Reservation: "res-1", AccessKeyID: "FBNOSUCHKEY000000000", SealedSecret: sealed()}}}, code: core.CodeNotFound},
		{name: "duplicate member", signer: "alice", msg: &repo.MsgCreate{Name: "photos", Mode: repo.ModeNormal, GatewayPubKey: gwKey(), Members: []repo.MemberSpec{spec(1), spec(1)}}, code: core.CodeAlreadyExists},
		{name: "reservation already in another repo", setup: withRepo, signer: "alice", msg: mirror("videos", 0, 1), code: core.CodeAlreadyExists},
	})
}

func TestRepoMembers(t *testing.T) {
	runRepoCases(t, []repoCase{
		{name: "add joins a mirror as joining", setup: withRepo, signer: "alice", msg: &repo.MsgAddMember{Repo: "photos", Member: spec(5)}, check: func(t *testing.T, h *mkt) {
			v := repoView(t, h, "alice", "photos")
			wantStates(t, v, "res-1:active", "res-3:active", "res-4:active", "res-5:joining")
			// A joining member does not count toward the quorum.
			if r := h.exec("alice", &repo.MsgSetQuorum{Repo: "photos", Quorum: 4}); r.Code != core.CodeQuorumTooLarge {
				t.Fatalf("quorum 4 with a joining 4th member: %s %s", r.Code.Name(), r.Log)
			}
			h.ok("alice", &repo.MsgMemberSynced{Repo: "photos", Reservation: "res-5"})
			wantStates(t, repoView(t, h, "alice", "photos"), "res-1:active", "res-3:active", "res-4:active", "res-5:active")
			h.ok("alice", &repo.MsgSetQuorum{Repo: "photos", Quorum: 4})
		}},
		{name: "add on the same provider", setup: withRepo, signer: "alice", msg: &repo.MsgAddMember{Repo: "photos", Member: spec(6)}, code: core.CodeSameProvider},
		{name: "add another consumer's reservation", setup: withRepo, signer: "alice", msg: &repo.MsgAddMember{Repo: "photos", Member: spec(7)}, code: core.CodeUnauthorized},
		{name: "non-owner add", setup: withRepo, signer: "bob", msg: &repo.MsgAddMember{Repo: "photos", Member: spec(7)}, code: core.CodeNotFound},
		{name: "non-owner delete", setup: withRepo, signer: "bob", msg: &repo.MsgDelete{Repo: "photos"}, code: core.CodeNotFound},
		{name: "remove", setup: withRepo, signer: "alice", msg: &repo.MsgRemoveMember{Repo: "photos", Reservation: "res-4"}, check: func(t *testing.T, h *mkt) {
			v := repoView(t, h, "alice", "photos")
			wantStates(t, v, "res-1:active", "res-3:active")
			// res-4 is free again.
			h.ok("alice", mirror("videos", 0, 4))
		}},
		{name: "remove below the quorum", setup: func(h *mkt) { h.ok("alice", mirror("photos", 3, 1, 3, 4)) }, signer: "alice", msg: &repo.MsgRemoveMember{Repo: "photos", Reservation: "res-4"}, code: core.CodeQuorumTooLarge},
		{name: "remove the last member", setup: func(h *mkt) { h.ok("alice", mirror("photos", 0, 1)) }, signer: "alice", msg: &repo.MsgRemoveMember{Repo: "photos", Reservation: "res-1"}, code: core.CodeWrongState},
		{name: "remove a non-member", setup: withRepo, signer: "alice", msg: &repo.MsgRemoveMember{Repo: "photos", Reservation: "res-5"}, code: core.CodeNotFound},
		{name: "set quorum", setup: withRepo, signer: "alice", msg: &repo.MsgSetQuorum{Repo: "photos", Quorum: 3}, check: func(t *testing.T, h *mkt) {
			if v := repoView(t, h, "alice", "photos"); v.WriteQuorum != 3 {
				t.Fatalf("quorum %d", v.WriteQuorum)
			}
		}},
		{name: "set quorum above members", setup: withRepo, signer: "alice", msg: &repo.MsgSetQuorum{Repo: "photos", Quorum: 4}, code: core.CodeQuorumTooLarge},
		{name: "set quorum zero", setup: withRepo, signer: "alice", msg: &repo.MsgSetQuorum{Repo: "photos", Quorum: 0}, code: core.CodeInvalidMessage},
		{name: "set quorum of a normal repo", setup: func(h *mkt) {
			h.ok("alice", &repo.MsgCreate{Name: "photos", Mode: repo.ModeNormal, GatewayPubKey: gwKey(), Members: []repo.MemberSpec{spec(1)}})
		}, signer: "alice", msg: &repo.MsgSetQuorum{Repo: "photos", Quorum: 1}, code: core.CodeWrongState},
		{name: "replace on the provider of another member", setup: withRepo, signer: "alice", msg: &repo.MsgReplaceMember{Repo: "photos", Old: "res-3", Member: spec(6)}, code: core.CodeSameProvider},
		{name: "replace with another consumer's reservation", setup: withRepo, signer: "alice", msg: &repo.MsgReplaceMember{Repo: "photos", Old: "res-3", Member: spec(7)}, code: core.CodeUnauthorized},
		{name: "replace a non-member", setup: withRepo, signer: "alice", msg: &repo.MsgReplaceMember{Repo: "photos", Old: "res-5", Member: spec(6)}, code: core.CodeNotFound},
		{name: "replace with itself", setup: withRepo, signer: "alice", msg: &repo.MsgReplaceMember{Repo: "photos", Old: "res-1", Member: spec(1)}, code: core.CodeInvalidMessage},
		{name: "replace on the old member's own provider", setup: withRepo, signer: "alice", msg: &repo.MsgReplaceMember{Repo: "photos", Old: "res-1", Member: spec(6)}, check: func(t *testing.T, h *mkt) {
			wantStates(t, repoView(t, h, "alice", "photos"), "res-1:retiring", "res-3:active", "res-4:active", "res-6:joining")
		}},
		{name: "synced on an active member", setup: withRepo, signer: "alice", msg: &repo.MsgMemberSynced{Repo: "photos", Reservation: "res-1"}, code: core.CodeWrongState},
	})
}

// Replace then synced: the new member joins, the old one retires, both
// stay until member_synced; a retiring member cannot be removed or
// replaced again, and removing the joining one cancels the replacement.
func TestRepoReplaceFlow(t *testing.T) {
	h := repoFixture(t)
	withRepo(h)
	h.ok("alice", &repo.MsgReplaceMember{Repo: "photos", Old: "res-3", Member: spec(5)})
	v := repoView(t, h, "alice", "photos")
	wantStates(t, v, "res-1:active", "res-3:retiring", "res-4:active", "res-5:joining")
	if v.Members[3].Replaces != "res-3" || v.WriteQuorum != 2 {
		t.Fatalf("replacement %+v", v)
	}
	for _, c := range []struct {
		msg  core.Msg
		code core.Code
	}{
		{&repo.MsgRemoveMember{Repo: "photos", Reservation: "res-3"}, core.CodeWrongState},
		{&repo.MsgReplaceMember{Repo: "photos", Old: "res-3", Member: spec(6)}, core.CodeWrongState},
		{&repo.MsgMemberSynced{Repo: "photos", Reservation: "res-3"}, core.CodeWrongState},
	} {
		if r := h.exec("alice", c.msg); r.Code != c.code {
			t.Fatalf("%T: %s (%s), want %s", c.msg, r.Code.Name(), r.Log, c.code.Name())
		}
	}
	// Cancel, then replace again and sync.
	h.ok("alice", &repo.MsgRemoveMember{Repo: "photos", Reservation: "res-5"})
	wantStates(t, repoView(t, h, "alice", "photos"), "res-1:active", "res-3:active", "res-4:active")
	h.ok("alice", &repo.MsgReplaceMember{Repo: "photos", Old: "res-3", Member: spec(5)})
	r := h.ok("alice", &repo.MsgMemberSynced{Repo: "photos", Reservation: "res-5"})
	if got := eventAttr(r.Events, "repo_member_synced", "retired"); got != "res-3" {
		t.Fatalf("synced event retired %q", got)
	}
	wantStates(t, repoView(t, h, "alice", "photos"), "res-1:active", "res-4:active", "res-5:active")
	// res-3 left the repository: it can join another.
	h.ok("alice", mirror("videos", 0, 3))
	checkRepoInvariants(t, h.blk)
}

// A unit suspended by QoS (breaches) or a revoked member key degrades the
// member while its reservation is still active.
func TestRepoDegradedSuspendedOrRevoked(t *testing.T) {
	h := repoFixture(t)
	withRepo(h)
	q := qos.GetUnitQoS(h.blk, 4) // unit-4 serves res-3
	q.Suspended = true
	qos.SetUnitQoS(h.blk, 4, q)
	h.ok("alice", &accesskey.MsgRevokeAccessKey{ID: memberKey(4)})
	v := repoView(t, h, "alice", "photos")
	if !strings.Contains(v.Members[1].HealthReason, "unit-4 is suspended") || v.Members[1].ReservationStatus != market.ResActive {
		t.Fatalf("suspended member %+v", v.Members[1])
	}
	if !strings.Contains(v.Members[2].HealthReason, "revoked") || v.Members[2].Health != types.HealthDegraded {
		t.Fatalf("member with revoked key %+v", v.Members[2])
	}
	if v.Status != types.HealthDegraded || !v.BelowQuorum || v.HealthyMembers != 1 {
		t.Fatalf("repo %+v", v)
	}
}

func eventAttr(evs []core.Event, typ, key string) string {
	for _, e := range evs {
		if e.Type == typ {
			for _, a := range e.Attrs {
				if a.Key == key {
					return a.Value
				}
			}
		}
	}
	return ""
}

func TestRepoKeys(t *testing.T) {
	const id = "FBREPOKEY0000000001"
	withKey := func(h *mkt) {
		withRepo(h)
		h.ok("alice", &repo.MsgCreateKey{Repo: "photos", ID: id, Perm: accesskey.PermWrite, SealedSecret: sealed()})
	}
	runRepoCases(t, []repoCase{
		{name: "create", setup: withRepo, signer: "alice", msg: &repo.MsgCreateKey{Repo: "photos", ID: id, Perm: accesskey.PermWrite, SealedSecret: sealed()}, check: func(t *testing.T, h *mkt) {
			out, err := Query(h.blk, "repo-keys/"+id)
			if err != nil {
				t.Fatal(err)
			}
			var k types.RepoKey
			if err := json.Unmarshal(out, &k); err != nil {
				t.Fatal(err)
			}
			if k.Repo != "photos" || k.Owner != mktAddr("alice") || k.Perm != accesskey.PermWrite || !bytes.Equal(k.SealedSecret, sealed()) {
				t.Fatalf("key %+v", k)
			}
			// A bridge only knows access key records: the repo key is
			// neither an access key nor listed for any provider.
			if _, err := Query(h.blk, "accesskeys/"+id); core.CodeOf(err) != core.CodeNotFound {
				t.Fatalf("repo key visible as an access key: %v", err)
			}
			for _, p := range []string{"prov", "bob", "carol"} {
				out, _ := Query(h.blk, "accesskeys?provider="+mktAddr(p))
				if bytes.Contains(out, []byte(id)) {
					t.Fatalf("repo key listed for bridge of %s: %s", p, out)
				}
			}
			var page types.RepoKeysPage
			out, _ = Query(h.blk, "repo-keys?owner="+mktAddr("alice")+"&repo=photos")
			if err := json.Unmarshal(out, &page); err != nil || len(page.Keys) != 1 || page.Keys[0].ID != id {
				t.Fatalf("keys of photos: %s %v", out, err)
			}
		}},
		{name: "duplicate id", setup: withKey, signer: "alice", msg: &repo.MsgCreateKey{Repo: "photos", ID: id, Perm: accesskey.PermRead, SealedSecret: sealed()}, code: core.CodeAlreadyExists},
		{name: "id of an access key", setup: withRepo, signer: "alice", msg: &repo.MsgCreateKey{Repo: "photos", ID: memberKey(1), Perm: accesskey.PermRead, SealedSecret: sealed()}, code: core.CodeAlreadyExists},
		{name: "bad perm", setup: withRepo, signer: "alice", msg: &repo.MsgCreateKey{Repo: "photos", ID: id, Perm: "root", SealedSecret: sealed()}, code: core.CodeInvalidMessage},
		{name: "plaintext secret", setup: withRepo, signer: "alice", msg: &repo.MsgCreateKey{Repo: "photos", ID: id, Perm: accesskey.PermRead, SealedSecret: []byte("secret")}, code: core.CodeInvalidMessage},
		{name: "unknown repo", signer: "alice", msg: &repo.MsgCreateKey{Repo: "photos", ID: id, Perm: accesskey.PermRead, SealedSecret: sealed()}, code: core.CodeNotFound},
		{name: "revoke", setup: withKey, signer: "alice", msg: &repo.MsgRevokeKey{ID: id}, check: func(t *testing.T, h *mkt) {
			if _, err := Query(h.blk, "repo-keys/"+id); core.CodeOf(err) != core.CodeNotFound {
				t.Fatalf("revoked key: %v", err)
			}
		}},
		{name: "non-owner revoke", setup: withKey, signer: "bob", msg: &repo.MsgRevokeKey{ID: id}, code: core.CodeUnauthorized},
		{name: "revoke unknown", signer: "alice", msg: &repo.MsgRevokeKey{ID: id}, code: core.CodeNotFound},
		{name: "delete drops keys and frees members", setup: withKey, signer: "alice", msg: &repo.MsgDelete{Repo: "photos"}, check: func(t *testing.T, h *mkt) {
			if _, err := Query(h.blk, "repo-keys/"+id); core.CodeOf(err) != core.CodeNotFound {
				t.Fatalf("key of a deleted repo: %v", err)
			}
			if _, err := Query(h.blk, "repos/"+mktAddr("alice")+"/photos"); core.CodeOf(err) != core.CodeNotFound {
				t.Fatalf("deleted repo: %v", err)
			}
			n := 0
			h.blk.Iterate([]byte("rp/"), nil, func(k, _ []byte) bool {
				if bytes.HasPrefix(k, []byte("rp/")) {
					n++
				}
				return true
			})
			if n != 0 {
				t.Fatalf("%d repo keys left in state", n)
			}
			h.ok("alice", mirror("photos", 0, 1, 3, 4))
		}},
	})
}

func TestRepoKeyLimit(t *testing.T) {
	h := repoFixture(t)
	withRepo(h)
	for i := 0; i < repo.MaxKeysPerRepo; i++ {
		h.ok("alice", &repo.MsgCreateKey{Repo: "photos", ID: "FBLIMIT" + string(rune('A'+i/26)) + string(rune('A'+i%26)) + "0000000000", Perm: accesskey.PermRead, SealedSecret: sealed()})
	}
	if r := h.exec("alice", &repo.MsgCreateKey{Repo: "photos", ID: "FBONEMORE0000000000", Perm: accesskey.PermRead, SealedSecret: sealed()}); r.Code != core.CodeLimitExceeded {
		t.Fatalf("key %d: %s %s", repo.MaxKeysPerRepo+1, r.Code.Name(), r.Log)
	}
}

// A member whose reservation ends shows as degraded at query time; the
// repository is degraded, and below its quorum once too few stay healthy.
// Nothing in the repository's state changes.
func TestRepoDegraded(t *testing.T) {
	h := repoFixture(t)
	withRepo(h)
	h.ok("alice", &repo.MsgCreate{Name: "other", Mode: repo.ModeNormal, GatewayPubKey: bytes.Repeat([]byte{6}, 32), Members: []repo.MemberSpec{spec(5)}})
	h.next(5)
	before := h.blk.Get(repo.RecordKey(mktRaw("alice"), "photos"))
	h.ok("alice", &market.MsgCloseReservation{ResRef: market.ResRef{Reservation: "res-3"}})
	h.next(5)
	if got := h.blk.Get(repo.RecordKey(mktRaw("alice"), "photos")); !bytes.Equal(got, before) {
		t.Fatal("the repository record changed when a member's reservation ended")
	}
	v := repoView(t, h, "alice", "photos")
	m := v.Members[1]
	if v.Status != types.HealthDegraded || v.BelowQuorum || v.HealthyMembers != 2 || m.Health != types.HealthDegraded || m.ReservationStatus == market.ResActive || !strings.Contains(m.HealthReason, "reservation res-3 is") {
		t.Fatalf("after res-3 ended: %+v", v)
	}
	if v.Members[0].Health != types.HealthOK {
		t.Fatalf("res-1 %+v", v.Members[0])
	}
	h.ok("alice", &market.MsgCloseReservation{ResRef: market.ResRef{Reservation: "res-4"}})
	h.next(5)
	if v := repoView(t, h, "alice", "photos"); !v.BelowQuorum || v.HealthyMembers != 1 || v.StatusReason == "" {
		t.Fatalf("after res-4 ended: %+v", v)
	}
	// Filters: by owner and status, by gateway key.
	list := func(q string) []string {
		t.Helper()
		out, err := Query(h.blk, "repos?"+q)
		if err != nil {
			t.Fatal(err)
		}
		var p types.ReposPage
		if err := json.Unmarshal(out, &p); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range p.Repos {
			names = append(names, r.Name)
		}
		return names
	}
	alice := "owner=" + mktAddr("alice")
	for q, want := range map[string]string{
		alice:                                    "[other photos]",
		alice + "&status=degraded":               "[photos]",
		alice + "&status=ok":                     "[other]",
		"gateway=" + hex.EncodeToString(gwKey()): "[photos]",
		"gateway=" + hex.EncodeToString(gwKey()) + "&" + alice + "&status=ok": "[]",
		"owner=" + mktAddr("bob"): "[]",
		"limit=1":                 "[other]",
	} {
		if got := list(q); fmt.Sprint(got) != want {
			t.Errorf("repos?%s: %v, want %s", q, got, want)
		}
	}
	if _, err := Query(h.blk, "repos?gateway=zz"); core.CodeOf(err) != core.CodeInvalidQuery {
		t.Fatalf("bad gateway filter: %v", err)
	}
	checkRepoInvariants(t, h.blk)
}

// Two chains running the same repository txs end in byte-identical state
// with identical events (no map order, clock or randomness in the module).
func TestRepoDeterministic(t *testing.T) {
	script := []core.Msg{
		mirror("photos", 0, 1, 3, 4),
		&repo.MsgCreateKey{Repo: "photos", ID: "FBREPOKEY0000000001", Perm: accesskey.PermWrite, SealedSecret: sealed()},
		&repo.MsgReplaceMember{Repo: "photos", Old: "res-3", Member: spec(5)},
		&repo.MsgMemberSynced{Repo: "photos", Reservation: "res-5"},
		&repo.MsgSetQuorum{Repo: "photos", Quorum: 3},
		&repo.MsgCreate{Name: "site", Mode: repo.ModeNormal, NoEncryption: true, GatewayPubKey: gwKey(), Members: []repo.MemberSpec{spec(6)}},
		&repo.MsgDelete{Repo: "site"},
	}
	run := func() (map[string]string, []core.Event) {
		h := repoFixture(t)
		var evs []core.Event
		for _, m := range script {
			evs = append(evs, h.ok("alice", m).Events...)
		}
		h.next(5)
		return stateDump(h.kv, nil), evs
	}
	s1, e1 := run()
	s2, e2 := run()
	if fmt.Sprint(s1) != fmt.Sprint(s2) || fmt.Sprint(e1) != fmt.Sprint(e2) {
		t.Fatal("the same repository txs gave different state or events")
	}
}

// The per-repository member bound and the per-owner repository bound hold
// (normal mode, so members may share a provider).
func TestRepoBounds(t *testing.T) {
	h := repoFixture(t)
	const n = repo.MaxMembers + repo.MaxReposPerOwner
	first := 9 // res-9 onwards
	for i := 0; i < n; i += 16 {
		var reserve, keys []core.Msg
		for j := i; j < i+16 && j < n; j++ {
			reserve = append(reserve, &market.MsgReserve{Unit: "unit-1", Bytes: gib, Term: monthS, MaxPrice: unitP})
			keys = append(keys, createKey(fmt.Sprintf("res-%d", first+j), memberKey(first+j), accesskey.PermWrite))
		}
		h.ok("alice", reserve...)
		h.ok("alice", keys...)
	}
	normal := func(name string, members ...int) *repo.MsgCreate {
		m := &repo.MsgCreate{Name: name, Mode: repo.ModeNormal, GatewayPubKey: gwKey()}
		for _, k := range members {
			m.Members = append(m.Members, spec(k))
		}
		return m
	}
	var sixteen []int
	for i := 0; i < repo.MaxMembers; i++ {
		sixteen = append(sixteen, first+i)
	}
	if r := h.exec("alice", normal("big", append(sixteen, first+repo.MaxMembers)...)); r.Code != core.CodeLimitExceeded {
		t.Fatalf("%d members: %s %s", repo.MaxMembers+1, r.Code.Name(), r.Log)
	}
	h.ok("alice", normal("big", sixteen...))
	if r := h.exec("alice", &repo.MsgAddMember{Repo: "big", Member: spec(first + repo.MaxMembers)}); r.Code != core.CodeLimitExceeded {
		t.Fatalf("add a %dth member: %s %s", repo.MaxMembers+1, r.Code.Name(), r.Log)
	}
	for i := 1; i < repo.MaxReposPerOwner; i++ {
		h.ok("alice", normal(fmt.Sprintf("repo-%03d", i), first+repo.MaxMembers+i-1))
	}
	if r := h.exec("alice", normal("one-too-many", first+n-1)); r.Code != core.CodeLimitExceeded {
		t.Fatalf("repo %d: %s %s", repo.MaxReposPerOwner+1, r.Code.Name(), r.Log)
	}
	checkRepoInvariants(t, h.blk)
}
