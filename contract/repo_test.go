package contract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/accesskey"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/repo"
	"github.com/flashback-network/flashback/contract/store"
)

func gwKey() []byte { return bytes.Repeat([]byte{5}, 32) }

// memberKey is the write access key the fixture makes on reservation n.
func memberKey(n int) string { return fmt.Sprintf("FBMEMBERKEY%09d", n) }

func spec(n int) repo.MemberSpec {
	return repo.MemberSpec{Reservation: fmt.Sprintf("res-%d", n), AccessKeyID: memberKey(n), SealedSecret: sealed()}
}

func mirror(name string, quorum uint32, members ...int) *repo.MsgCreate {
	m := &repo.MsgCreate{Name: name, Mode: repo.ModeMirror, Quorum: quorum, GatewayPubKey: gwKey()}
	for _, n := range members {
		m.Members = append(m.Members, spec(n))
	}
	return m
}

// repoFixture extends the market fixture: alice holds active reservations
// res-1 (prov, unit-1), res-3 (bob, unit-4), res-4 (carol, unit-5), res-5
// (dave, unit-6) and res-6 (prov again, unit-1), each with a write access
// key memberKey(n), plus res-8 (dave) with a read-only key; bob holds res-7
// on unit-1 with key memberKey(7). res-2 (alice, unit-2) is pending.
func repoFixture(t testing.TB) *mkt {
	t.Helper()
	h := fixture(t)
	h.ok("carol", &bank.MsgSend{To: mktAddr("dave"), Amount: 1_000_000})
	h.ok("bob", addUnit(unitP, unitE, 100*gib, true))
	h.ok("carol", regProvider("carol"), &market.MsgStake{Amount: 5_000}, addUnit(unitP, unitE, 100*gib, true))
	h.ok("dave", regProvider("dave"), &market.MsgStake{Amount: 5_000}, addUnit(unitP, unitE, 100*gib, true))
	h.next(5)
	reserve := func(unit string) core.Msg {
		return &market.MsgReserve{Unit: unit, Bytes: gib, Term: monthS, MaxPrice: unitP}
	}
	h.ok("alice", reserve("unit-4"), reserve("unit-5"), reserve("unit-6"), reserve("unit-1"))
	h.ok("bob", reserve("unit-1"))
	h.ok("alice", reserve("unit-6"))
	for _, n := range []int{1, 3, 4, 5, 6} {
		h.ok("alice", createKey(fmt.Sprintf("res-%d", n), memberKey(n), accesskey.PermWrite))
	}
	h.ok("bob", createKey("res-7", memberKey(7), accesskey.PermWrite))
	h.ok("alice", createKey("res-8", memberKey(8), accesskey.PermRead))
	h.next(5)
	for _, n := range []int{1, 3, 4, 5, 6, 7, 8} {
		if r := h.res(fmt.Sprintf("res-%d", n)); r.Status != market.ResActive {
			t.Fatalf("fixture: res-%d is %s", n, r.Status)
		}
	}
	return h
}

func repoView(t testing.TB, h *mkt, owner, name string) types.Repo {
	t.Helper()
	out, err := Query(h.blk, "repos/"+mktAddr(owner)+"/"+name)
	if err != nil {
		t.Fatal(err)
	}
	var v types.Repo
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// states lists "res-N:state" of the members, in order.
func states(v types.Repo) []string {
	var out []string
	for _, m := range v.Members {
		out = append(out, m.Reservation+":"+m.State)
	}
	return out
}

func wantStates(t testing.TB, v types.Repo, want ...string) {
	t.Helper()
	if got := states(v); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("members %v, want %v", got, want)
	}
}

// checkRepoInvariants: every index entry points at a record that agrees
// with it and every record is indexed (owner, gateway, members, keys).
func checkRepoInvariants(t testing.TB, kv store.KV) {
	t.Helper()
	repos := map[string]*repo.Repo{}
	scan := func(prefix string, f func(k, v []byte)) {
		kv.Iterate([]byte(prefix), store.PrefixEnd([]byte(prefix)), func(k, v []byte) bool { f(k[len(prefix):], v); return true })
	}
	scan("rp/r/", func(k, v []byte) {
		var r repo.Repo
		if err := r.UnmarshalBinary(v); err != nil {
			t.Fatal(err)
		}
		repos[string(k)] = &r
		if r.Mode == repo.ModeMirror {
			serving := 0
			for i, m := range r.Members {
				if m.State != repo.StateJoining {
					serving++
				}
				for _, o := range r.Members[i+1:] {
					if o.Provider == m.Provider && o.Replaces != m.Reservation && m.Replaces != o.Reservation {
						t.Errorf("mirror %s: %s and %s on one provider", r.Name, m.Reservation, o.Reservation)
					}
				}
			}
			if r.Quorum < 1 || int(r.Quorum) > serving {
				t.Errorf("repo %s: quorum %d with %d serving members", r.Name, r.Quorum, serving)
			}
		}
		for _, m := range r.Members {
			n, _ := market.ParseResID(m.Reservation)
			if got := kv.Get(store.Key([]byte("rp/m/"), store.EncodeUint64(n))); !bytes.Equal(got, k) {
				t.Errorf("member %s of %s: index %q", m.Reservation, r.Name, got)
			}
		}
		gk := store.Key([]byte("rp/g/"), r.GatewayPubKey, k)
		found := false
		kv.Iterate(gk, store.PrefixEnd(gk), func(key, _ []byte) bool { found = bytes.Equal(key, gk); return false })
		if !found {
			t.Errorf("repo %s missing from the gateway index", r.Name)
		}
	})
	scan("rp/m/", func(_, v []byte) {
		if repos[string(v)] == nil {
			t.Errorf("member index points at no repo: %q", v)
		}
	})
	scan("rp/g/", func(k, _ []byte) {
		if repos[string(k[32:])] == nil {
			t.Errorf("gateway index entry without a repo")
		}
	})
	keys := 0
	scan("rp/k/", func(_, v []byte) {
		var rk repo.RepoKey
		if err := rk.UnmarshalBinary(v); err != nil {
			t.Fatal(err)
		}
		owner := store.AddressBytes("owner", rk.Owner)
		if repos[string(store.Key(owner, []byte(rk.Repo)))] == nil {
			t.Errorf("key %s of a deleted repo", rk.ID)
		}
		keys++
	})
	n := 0
	scan("rp/q/", func(_, _ []byte) { n++ })
	if n != keys {
		t.Errorf("%d key index entries for %d keys", n, keys)
	}
}

type repoCase struct {
	name   string
	setup  func(h *mkt)
	signer string
	msg    core.Msg
	code   core.Code
	check  func(t *testing.T, h *mkt)
}

// runRepoCases runs each case on a fresh repoFixture: a rejection must carry
// its code and leave everything but the fee unchanged.
func runRepoCases(t *testing.T, cases []repoCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := repoFixture(t)
			if c.setup != nil {
				c.setup(h)
			}
			before := stateDump(h.blk, mktRaw(c.signer))
			r := h.exec(c.signer, c.msg)
			if r.Code != c.code {
				t.Fatalf("code %s (%s), want %s", r.Code.Name(), r.Log, c.code.Name())
			}
			if c.code != core.CodeOK {
				after := stateDump(h.blk, mktRaw(c.signer))
				if fmt.Sprint(after) != fmt.Sprint(before) {
					t.Fatalf("rejected message changed state")
				}
				if len(r.Log) < 30 {
					t.Fatalf("rejection message too terse to act on: %q", r.Log)
				}
			}
			if c.check != nil {
				c.check(t, h)
			}
			checkRepoInvariants(t, h.blk)
		})
	}
}

func withRepo(h *mkt) { h.ok("alice", mirror("photos", 0, 1, 3, 4)) }
