package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flashback-network/flashback/api"
	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/chain/chaintest"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/repo"
	"github.com/flashback-network/flashback/sealed"
)

// repoCLI is a real in-process node with the REST API, four providers with
// an auto-accepting unit each, and alice (the consumer) holding an active
// reservation on each.
type repoCLI struct {
	t        *testing.T
	ctx      context.Context
	home     string
	node     string
	c        *client.Client
	alice    *client.Signer
	provs    []string // provider addresses, in unit order
	res      []string // alice's reservations, one per provider
	gwPub    *[32]byte
	gwPriv   *[32]byte
	gwKeyPEM string // path of the gateway key file
}

func startRepoCLI(t *testing.T) *repoCLI {
	t.Helper()
	dev := chaintest.StartDev(t, "repocli", chaintest.Options{})
	srv := httptest.NewServer(api.New(dev.Node.RPC))
	t.Cleanup(srv.Close)
	h := &repoCLI{t: t, ctx: context.Background(), home: dev.Home, node: srv.URL, c: client.New(srv.URL)}
	h.alice = h.c.Signer(dev.Key(t, "alice"))
	_, dave, _ := ed25519.GenerateKey(rand.Reader)
	signers := []*client.Signer{h.c.Signer(dev.Key(t, "provider")), h.c.Signer(dev.Key(t, "bob")), h.c.Signer(dev.Key(t, "oracle")), h.c.Signer(dave)}
	if _, err := h.alice.Send(h.ctx, signers[3].Address(), 100_000_000_000); err != nil {
		t.Fatal(err)
	}
	for i, s := range signers {
		bridgePub, _, err := sealed.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.RegisterProvider(h.ctx, market.MsgRegisterProvider{Name: "p" + string(rune('0'+i)), Endpoint: "https://bridge" + string(rune('0'+i)) + ".example", BridgePubKey: bridgePub[:]}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Stake(h.ctx, dev.Params.MinUnitStake); err != nil {
			t.Fatal(err)
		}
		unit, _, err := s.AddUnit(h.ctx, market.MsgAddUnit{Kind: "local", Region: "local", Country: "US", Capacity: 10 << 30, StoragePrice: 1_000_000, EgressPrice: 1, AutoAccept: true})
		if err != nil {
			t.Fatal(err)
		}
		res, _, err := h.alice.Reserve(h.ctx, market.MsgReserve{Unit: unit, Bytes: 1 << 30, Term: 3600, MaxPrice: 1_000_000})
		if err != nil {
			t.Fatal(err)
		}
		if r, err := h.c.Reservation(h.ctx, res); err != nil || r.Status != market.ResActive {
			t.Fatalf("reservation %s: %+v %v", res, r, err)
		}
		h.provs, h.res = append(h.provs, s.Address()), append(h.res, res)
	}
	var err error
	if h.gwPub, h.gwPriv, err = sealed.GenerateKey(); err != nil {
		t.Fatal(err)
	}
	h.gwKeyPEM = filepath.Join(t.TempDir(), "gateway.pub")
	if err := os.WriteFile(h.gwKeyPEM, []byte(base64.StdEncoding.EncodeToString(h.gwPub[:])+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return h
}

// fb runs the CLI and requires success.
func (h *repoCLI) fb(args ...string) string {
	h.t.Helper()
	out, err := runCLI(h.t, h.home, append([]string{"--node", h.node}, args...)...)
	if err != nil {
		h.t.Fatalf("flashback %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// fails runs the CLI and requires it to fail naming the stable code.
func (h *repoCLI) fails(code string, args ...string) {
	h.t.Helper()
	out, err := runCLI(h.t, h.home, append([]string{"--node", h.node}, args...)...)
	if err == nil || !strings.Contains(out+err.Error(), code) {
		h.t.Fatalf("flashback %s: want %s, got %v\n%s", strings.Join(args, " "), code, err, out)
	}
}

func (h *repoCLI) repo(name string) *types.Repo {
	h.t.Helper()
	r, err := h.c.Repo(h.ctx, h.alice.Address(), name)
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

func memberStates(r *types.Repo) string {
	var s []string
	for _, m := range r.Members {
		s = append(s, m.Reservation+":"+m.State)
	}
	return strings.Join(s, " ")
}

// open opens a secret sealed to the test gateway's key.
func (h *repoCLI) open(box []byte) string {
	h.t.Helper()
	b, err := sealed.Open(box, h.gwPub, h.gwPriv)
	if err != nil {
		h.t.Fatalf("the gateway cannot open a sealed secret: %v", err)
	}
	return string(b)
}

// TestRepoLifecycleCLI: create -> add -> synced -> quorum -> keys -> status
// -> replace -> synced -> degraded -> revoke -> delete, through the CLI on a
// real node; rejections come back with their stable codes.
func TestRepoLifecycleCLI(t *testing.T) {
	h := startRepoCLI(t)
	r1, r2, r3, r4 := h.res[0], h.res[1], h.res[2], h.res[3]
	h.fb("repo", "create", "photos", "--mode", "mirror", "--member", r1, "--member", r2, "--gateway-key-file", h.gwKeyPEM, "--from", "alice")
	r := h.repo("photos")
	if memberStates(r) != r1+":active "+r2+":active" || r.WriteQuorum != 2 || !r.Encrypted || r.Status != types.HealthOK {
		t.Fatalf("created %+v", r)
	}
	// Each member credential is a write access key of the reservation whose
	// secret (kept in s3keys.json) the gateway can open.
	stored, err := (&globals{home: h.home}).loadS3Keys()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range r.Members {
		ak, err := h.c.AccessKey(h.ctx, m.AccessKeyID)
		if err != nil || ak.Reservation != m.Reservation || ak.Perm != "write" {
			t.Fatalf("member %s key %+v %v", m.Reservation, ak, err)
		}
		if got := h.open(m.SealedSecret); got != stored[m.Reservation].Secret || got == "" {
			t.Fatalf("member %s: sealed secret does not match the stored access key secret", m.Reservation)
		}
		if m.BridgeEndpoint == "" || m.Unit == "" || m.Provider == "" {
			t.Fatalf("member view lacks what a gateway needs: %+v", m)
		}
	}

	h.fails("already_exists", "repo", "create", "photos", "--member", r3, "--gateway-key-file", h.gwKeyPEM, "--from", "alice")
	h.fails("invalid_message", "repo", "create", "Bad_Name", "--member", r3, "--gateway-key-file", h.gwKeyPEM, "--from", "alice")
	h.fails("quorum_too_large", "repo", "quorum", "photos", "3", "--from", "alice")
	h.fails("not_found", "repo", "add", "photos", r3, "--from", "bob") // bob has no repo photos

	h.fb("repo", "add", "photos", r3, "--from", "alice")
	if s := memberStates(h.repo("photos")); s != r1+":active "+r2+":active "+r3+":joining" {
		t.Fatalf("after add: %s", s)
	}
	h.fb("repo", "synced", "photos", r3, "--from", "alice")
	h.fb("repo", "quorum", "photos", "3", "--from", "alice")
	if r := h.repo("photos"); r.WriteQuorum != 3 || memberStates(r) != r1+":active "+r2+":active "+r3+":active" {
		t.Fatalf("after synced and quorum: %+v", r)
	}
	h.fails("quorum_too_large", "repo", "remove", "photos", r3, "--from", "alice")
	h.fb("repo", "quorum", "photos", "2", "--from", "alice")

	out := h.fb("-o", "json", "repo", "keys", "create", "photos", "--perm", "write", "--from", "alice")
	var key client.CreatedRepoKey
	if err := json.Unmarshal([]byte(out), &key); err != nil || key.ID == "" || key.Secret == "" {
		t.Fatalf("keys create: %v\n%s", err, out)
	}
	rk, err := h.c.RepoKey(h.ctx, key.ID)
	if err != nil || rk.Repo != "photos" || rk.Perm != "write" || h.open(rk.SealedSecret) != key.Secret {
		t.Fatalf("repo key on chain %+v %v", rk, err)
	}
	if _, err := h.c.AccessKey(h.ctx, key.ID); !client.IsCode(err, core.CodeNotFound) { // bridges never see it
		t.Fatalf("repo key visible as an access key: %v", err)
	}
	if out := h.fb("repo", "keys", "ls", "photos", "--from", "alice"); !strings.Contains(out, key.ID) {
		t.Fatalf("keys ls:\n%s", out)
	}

	out = h.fb("repo", "status", "photos", "--from", "alice")
	for _, want := range []string{"status: ok", r1, r2, r3, h.provs[0], h.provs[2], "active", "2 of 3"} {
		if !strings.Contains(out, want) {
			t.Fatalf("status lacks %q:\n%s", want, out)
		}
	}

	// Replace r2 with r4 (a fourth provider): both stay until synced.
	h.fb("repo", "replace", "photos", r2, r4, "--from", "alice")
	if s := memberStates(h.repo("photos")); s != r1+":active "+r2+":retiring "+r3+":active "+r4+":joining" {
		t.Fatalf("after replace: %s", s)
	}
	if out := h.fb("repo", "status", "photos", "--from", "alice"); !strings.Contains(out, "joining (replaces "+r2+")") || !strings.Contains(out, "retiring") {
		t.Fatalf("status during replace:\n%s", out)
	}
	h.fb("repo", "synced", "photos", r4, "--from", "alice")
	if s := memberStates(h.repo("photos")); s != r1+":active "+r3+":active "+r4+":active" {
		t.Fatalf("after synced: %s", s)
	}

	// A member's reservation ends: degraded at once, still above quorum.
	if _, err := h.alice.CloseReservation(h.ctx, r1); err != nil {
		t.Fatal(err)
	}
	out = h.fb("repo", "status", "photos", "--from", "alice")
	if !strings.Contains(out, "status: degraded") || !strings.Contains(out, "degraded (reservation "+r1) {
		t.Fatalf("status after %s ended:\n%s", r1, out)
	}
	if r := h.repo("photos"); r.BelowQuorum || r.HealthyMembers != 2 {
		t.Fatalf("degraded view %+v", r)
	}
	if out := h.fb("repo", "ls", "--from", "alice", "--status", "degraded"); !strings.Contains(out, "photos") {
		t.Fatalf("ls --status degraded:\n%s", out)
	}
	if out := h.fb("repo", "ls", "--gateway-key", base64.StdEncoding.EncodeToString(h.gwPub[:])); !strings.Contains(out, "photos") {
		t.Fatalf("ls --gateway-key:\n%s", out)
	}

	h.fb("repo", "keys", "revoke", key.ID, "--from", "alice")
	if _, err := h.c.RepoKey(h.ctx, key.ID); !client.IsCode(err, core.CodeNotFound) {
		t.Fatalf("revoked key: %v", err)
	}
	h.fb("repo", "delete", "photos", "--from", "alice")
	if _, err := h.c.Repo(h.ctx, h.alice.Address(), "photos"); !client.IsCode(err, core.CodeNotFound) {
		t.Fatalf("deleted repo: %v", err)
	}
	// The members are free again; a reused stored key serves the new repo.
	h.fb("repo", "create", "again", "--mode", repo.ModeNormal, "--no-encryption", "--member", r3, "--gateway-key", base64.StdEncoding.EncodeToString(h.gwPub[:]), "--from", "alice")
	r = h.repo("again")
	if r.Encrypted || r.Mode != repo.ModeNormal || len(r.Members) != 1 {
		t.Fatalf("second repo %+v", r)
	}
	if keys, err := h.c.AccessKeys(h.ctx, r3, "", ""); err != nil || len(keys.AccessKeys) != 1 || keys.AccessKeys[0].ID != r.Members[0].AccessKeyID {
		t.Fatalf("the stored write key of %s was not reused: %+v %v", r3, keys, err)
	}
}
