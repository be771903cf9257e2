package chaindir

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flashback-network/flashback/api"
	"github.com/flashback-network/flashback/chain/chaintest"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/accesskey"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/repo"
	"github.com/flashback-network/flashback/gateway"
	"github.com/flashback-network/flashback/sealed"
)

// world is a real in-process node with its REST API, three providers with
// an auto-accepting unit each, alice holding a reservation on each with a
// write access key, and a gateway key pair.
type world struct {
	ctx     context.Context
	c       *client.Client
	alice   *client.Signer
	res     []string
	units   []string
	members []client.RepoMemberInput
	bob     ed25519.PrivateKey // a funded consumer, not a provider
	pub     *[32]byte
	priv    *[32]byte
	// repoLists counts the node's GET /v1/repos requests (one per reload).
	repoLists atomic.Int64
}

func startWorld(t *testing.T) *world {
	t.Helper()
	dev := chaintest.StartDev(t, "chaindir", chaintest.Options{})
	w := &world{ctx: context.Background()}
	h := api.New(dev.Node.RPC)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/repos" {
			w.repoLists.Add(1)
		}
		h.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	w.c = client.New(srv.URL)
	w.alice = w.c.Signer(dev.Key(t, "alice"))
	w.bob = dev.Key(t, "bob")
	_, dave, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := w.alice.Send(w.ctx, w.c.Signer(dave).Address(), 100_000_000_000); err != nil {
		t.Fatal(err)
	}
	for i, key := range []ed25519.PrivateKey{dev.Key(t, "provider"), dev.Key(t, "oracle"), dave} {
		name := fmt.Sprint("p", i)
		s := w.c.Signer(key)
		bridgePub, _, err := sealed.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.RegisterProvider(w.ctx, market.MsgRegisterProvider{Name: name, Endpoint: fmt.Sprintf("http://127.0.0.1:%d", 9500+i), BridgePubKey: bridgePub[:]}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Stake(w.ctx, dev.Params.MinUnitStake); err != nil {
			t.Fatal(err)
		}
		unit, _, err := s.AddUnit(w.ctx, market.MsgAddUnit{Kind: "local", Region: "local", Country: "US", Capacity: 10 << 30, StoragePrice: 1_000_000, EgressPrice: 1, AutoAccept: true})
		if err != nil {
			t.Fatal(err)
		}
		res, _, err := w.alice.Reserve(w.ctx, market.MsgReserve{Unit: unit, Bytes: 1 << 30, Term: 3600, MaxPrice: 1_000_000})
		if err != nil {
			t.Fatal(err)
		}
		w.res, w.units = append(w.res, res), append(w.units, unit)
		w.members = append(w.members, w.credential(t, w.alice, res))
	}
	var err error
	if w.pub, w.priv, err = sealed.GenerateKey(); err != nil {
		t.Fatal(err)
	}
	return w
}

// credential makes a write access key of reservation res.
func (w *world) credential(t *testing.T, s *client.Signer, res string) client.RepoMemberInput {
	t.Helper()
	k, err := s.CreateAccessKey(w.ctx, res, accesskey.PermWrite)
	if err != nil {
		t.Fatal(err)
	}
	return client.RepoMemberInput{Reservation: res, AccessKeyID: k.AccessKeyID, Secret: k.Secret}
}

// reserve has s reserve on unit i and returns a member input for it.
func (w *world) reserve(t *testing.T, s *client.Signer, i int) client.RepoMemberInput {
	t.Helper()
	res, _, err := s.Reserve(w.ctx, market.MsgReserve{Unit: w.units[i], Bytes: 1 << 20, Term: 3600, MaxPrice: 1_000_000})
	if err != nil {
		t.Fatal(err)
	}
	return w.credential(t, s, res)
}

// logs collects a directory's log lines.
type logs struct {
	mu    sync.Mutex
	lines []string
}

func (l *logs) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func eventually(t *testing.T, d time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v", d, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestChainDirectory builds a mirror repository of three members and a
// repo key on a real node, then follows the chain: members carry their
// opened secrets and bridge endpoints, a new key works, a revoked key and a
// removed member are gone within a refresh, a closed reservation's member
// stops taking writes (unless that would go below the quorum), repositories
// of other gateways are not served, and no secret reaches the log.
func TestChainDirectory(t *testing.T) {
	w := startWorld(t)
	ctx, cancel := context.WithCancel(w.ctx)
	defer cancel()
	if _, err := w.alice.CreateRepo(ctx, client.RepoSpec{Name: "photos", Mode: repo.ModeMirror, GatewayPubKey: w.pub[:], Members: w.members}); err != nil {
		t.Fatal(err)
	}
	key, err := w.alice.CreateRepoKey(ctx, "photos", accesskey.PermWrite)
	if err != nil {
		t.Fatal(err)
	}
	// A repository sealed to another gateway is not served.
	otherPub, _, _ := sealed.GenerateKey()
	if _, err := w.alice.CreateRepo(ctx, client.RepoSpec{Name: "elsewhere", Mode: repo.ModeNormal, GatewayPubKey: otherPub[:], Members: []client.RepoMemberInput{w.reserve(t, w.alice, 0)}}); err != nil {
		t.Fatal(err)
	}

	var log logs
	d, err := New(ctx, w.c, w.pub, w.priv, Options{PollInterval: 50 * time.Millisecond, MinInterval: 100 * time.Millisecond, Logf: log.logf})
	if err != nil {
		t.Fatal(err)
	}
	go d.Run(ctx)

	r, err := d.Repo(ctx, "photos")
	if err != nil {
		t.Fatal(err)
	}
	if r.Mode != gateway.ModeMirror || r.WriteQuorum != 2 || !r.Encrypted || r.Owner != w.alice.Address() || len(r.Members) != 3 {
		t.Fatalf("repo: %+v", r)
	}
	for i, m := range r.Members {
		in := w.members[i]
		if m.ID != in.Reservation || m.AccessKeyID != in.AccessKeyID || m.Secret != in.Secret || m.State != gateway.MemberActive ||
			m.Endpoint != fmt.Sprintf("http://127.0.0.1:%d", 9500+i) {
			t.Fatalf("member %d: %+v, want %+v", i, m, in)
		}
	}
	k, err := d.Key(ctx, key.ID)
	if err != nil || k.Secret != key.Secret || k.Repo != "photos" || k.Perm != gateway.PermWrite {
		t.Fatalf("key: %+v %v", k, err)
	}
	if _, err := d.Repo(ctx, "elsewhere"); !errors.Is(err, gateway.ErrNotFound) {
		t.Fatalf("another gateway's repository: %v", err)
	}
	if _, err := d.Key(ctx, "FBNOSUCHKEY"); !errors.Is(err, gateway.ErrNotFound) {
		t.Fatalf("unknown key: %v", err)
	}

	key2 := checkKeys(t, w, d, key)
	checkDegraded(t, w, d)

	// A removed member is gone.
	if _, err := w.alice.RemoveRepoMember(ctx, "photos", w.res[0]); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() error {
		r, _ := d.Repo(ctx, "photos")
		if _, ok := findMember(r, w.res[0]); ok {
			return fmt.Errorf("removed member still served: %+v", r.Members)
		}
		return nil
	})
	// A deleted repository is gone with its keys.
	if _, err := w.alice.DeleteRepo(ctx, "photos"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() error {
		if _, err := d.Repo(ctx, "photos"); !errors.Is(err, gateway.ErrNotFound) {
			return fmt.Errorf("deleted repo still served: %v", err)
		}
		if _, err := d.Key(ctx, key2.ID); !errors.Is(err, gateway.ErrNotFound) {
			return fmt.Errorf("key of a deleted repo still served: %v", err)
		}
		return nil
	})
	noSecrets(t, log.String(), key.Secret, key2.Secret, w.members[0].Secret, w.members[1].Secret, w.members[2].Secret)
}

func noSecrets(t *testing.T, out string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Fatalf("a secret reached the log:\n%s", out)
		}
	}
}

// checkKeys: a new key works after the next refresh; a revoked one
// (key) stops. It returns the new key.
func checkKeys(t *testing.T, w *world, d *Dir, key *client.CreatedRepoKey) *client.CreatedRepoKey {
	t.Helper()
	ctx := w.ctx
	key2, err := w.alice.CreateRepoKey(ctx, "photos", accesskey.PermRead)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() error {
		if k, err := d.Key(ctx, key2.ID); err != nil || k.Perm != gateway.PermRead || k.Secret != key2.Secret {
			return fmt.Errorf("new key: %+v %v", k, err)
		}
		return nil
	})
	if _, err := w.alice.RevokeRepoKey(ctx, key.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() error {
		if _, err := d.Key(ctx, key.ID); !errors.Is(err, gateway.ErrNotFound) {
			return fmt.Errorf("revoked key still served: %v", err)
		}
		return nil
	})

	return key2
}

// checkDegraded closes the reservation of member 3: it stops taking writes
// (retiring); closing member 2's too would leave one writer under the
// quorum 2, so both stay writers and mirrored writes fail at the quorum.
func checkDegraded(t *testing.T, w *world, d *Dir) {
	t.Helper()
	ctx := w.ctx
	if _, err := w.alice.CloseReservation(ctx, w.res[2]); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() error {
		r, _ := d.Repo(ctx, "photos")
		if m, _ := findMember(r, w.res[2]); m.State != gateway.MemberRetiring {
			return fmt.Errorf("member of a closed reservation: %+v", m)
		}
		if m, _ := findMember(r, w.res[1]); m.State != gateway.MemberActive {
			return fmt.Errorf("healthy member: %+v", m)
		}
		return nil
	})
	if _, err := w.alice.CloseReservation(ctx, w.res[1]); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() error {
		r, _ := d.Repo(ctx, "photos")
		for _, res := range w.res {
			if m, _ := findMember(r, res); m.State != gateway.MemberActive {
				return fmt.Errorf("below quorum, member %s should stay a writer: %+v", res, r.Members)
			}
		}
		return nil
	})
}

func findMember(r gateway.Repo, id string) (gateway.Member, bool) {
	for _, m := range r.Members {
		if m.ID == id {
			return m, true
		}
	}
	return gateway.Member{}, false
}

// TestNameCollision: a repository of another owner sealed to this
// gateway under the name of an older one does not take over its bucket
// (nor do its keys work), and with Options.Owners it is not even read.
func TestNameCollision(t *testing.T) {
	w := startWorld(t)
	ctx := w.ctx
	if _, err := w.alice.CreateRepo(ctx, client.RepoSpec{Name: "shared", Mode: repo.ModeNormal, GatewayPubKey: w.pub[:], Members: w.members[:1]}); err != nil {
		t.Fatal(err)
	}
	// Creation times are in seconds: let one pass, so alice's is older.
	mine, err := w.c.Repo(ctx, w.alice.Address(), "shared")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() error {
		if st, err := w.c.Status(ctx); err != nil || st.LatestBlockTime.Unix() <= mine.CreatedAt.Unix() {
			return fmt.Errorf("chain time still in the second of alice's repository")
		}
		return nil
	})
	bob := w.c.Signer(w.bob)
	if _, err := bob.CreateRepo(ctx, client.RepoSpec{Name: "shared", Mode: repo.ModeNormal, GatewayPubKey: w.pub[:], Members: []client.RepoMemberInput{w.reserve(t, bob, 0)}}); err != nil {
		t.Fatal(err)
	}
	bobKey, err := bob.CreateRepoKey(ctx, "shared", accesskey.PermAdmin)
	if err != nil {
		t.Fatal(err)
	}
	var log logs
	d, err := New(ctx, w.c, w.pub, w.priv, Options{Logf: log.logf})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := d.Repo(ctx, "shared"); err != nil || r.Owner != w.alice.Address() || r.Members[0].ID != w.res[0] {
		t.Fatalf("bucket shared: %+v %v", r, err)
	}
	if _, err := d.Key(ctx, bobKey.ID); !errors.Is(err, gateway.ErrNotFound) {
		t.Fatalf("the squatter's key: %v", err)
	}
	if !strings.Contains(log.String(), "is not served") {
		t.Fatalf("the skipped repository is not logged:\n%s", log.String())
	}
	d2, err := New(ctx, w.c, w.pub, w.priv, Options{Owners: []string{bob.Address()}, Logf: log.logf})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := d2.Repo(ctx, "shared"); err != nil || r.Owner != bob.Address() {
		t.Fatalf("with Owners = bob: %+v %v", r, err)
	}
	if _, err := d2.Key(ctx, bobKey.ID); err != nil {
		t.Fatalf("with Owners = bob, his key: %v", err)
	}
}

// TestReloadBounded: the directory follows a chain that makes a block
// every 100 ms with at most one reload per MinInterval, however often it
// polls, and does reload while the height moves.
func TestReloadBounded(t *testing.T) {
	w := startWorld(t)
	ctx, cancel := context.WithCancel(w.ctx)
	defer cancel()
	d, err := New(ctx, w.c, w.pub, w.priv, Options{PollInterval: 10 * time.Millisecond, MinInterval: 500 * time.Millisecond, Logf: func(string, ...any) {}})
	if err != nil {
		t.Fatal(err)
	}
	before, h0 := w.repoLists.Load(), d.Height()
	go d.Run(ctx)
	time.Sleep(2 * time.Second)
	n := w.repoLists.Load() - before
	if n < 2 || n > 5 || d.Height() <= h0 {
		t.Fatalf("%d reloads in 2 s with MinInterval 500ms (height %d -> %d), want 2 to 5 and a newer height", n, h0, d.Height())
	}
}
