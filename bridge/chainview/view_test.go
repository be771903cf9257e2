package chainview_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flashback-network/flashback/api"
	"github.com/flashback-network/flashback/bridge/chainview"
	"github.com/flashback-network/flashback/chain/chaintest"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract"
	"github.com/flashback-network/flashback/sealed"
)

// requestLog counts the REST requests a view sends, by route shape.
type requestLog struct {
	mu    sync.Mutex
	paths []string
}

func (l *requestLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.paths = append(l.paths, r.URL.Path)
		l.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

// take returns the requests since the last take.
func (l *requestLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.paths
	l.paths = nil
	return out
}

// world is a real node with the REST API, a registered provider with an
// auto-accepting and a manual unit, and a consumer; the view's requests go
// through log, the test's own through c.
type world struct {
	c, viewClient *client.Client
	log           *requestLog
	prov, alice   *client.Signer
	auto, manual  string
	pub, priv     *[sealed.KeySize]byte
}

func startWorld(t *testing.T) *world {
	t.Helper()
	dev := chaintest.StartDev(t, "chainview", chaintest.Options{})
	handler := api.New(dev.Node.RPC)
	log := &requestLog{}
	viewSrv := httptest.NewServer(log.wrap(handler))
	t.Cleanup(viewSrv.Close)
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	w := &world{c: client.New(srv.URL), viewClient: client.New(viewSrv.URL), log: log}
	w.prov, w.alice = w.c.Signer(dev.Key(t, "provider")), w.c.Signer(dev.Key(t, "alice"))
	var err error
	if w.pub, w.priv, err = sealed.GenerateKey(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	must(t, "register provider", second(w.prov.RegisterProvider(ctx, contract.MsgRegisterProvider{Name: "view", Endpoint: "http://127.0.0.1:1", BridgePubKey: w.pub[:]})))
	must(t, "stake", second(w.prov.Stake(ctx, 2*dev.Params.MinUnitStake)))
	w.auto, w.manual = w.addUnit(t, true), w.addUnit(t, false)
	return w
}

func (w *world) addUnit(t *testing.T, auto bool) string {
	t.Helper()
	id, _, err := w.prov.AddUnit(context.Background(), contract.MsgAddUnit{Kind: "local", Region: "eu-central", Country: "DE",
		Capacity: 1 << 40, StoragePrice: 2_000_000, EgressPrice: 10_000, AutoAccept: auto})
	must(t, "add unit", err)
	return id
}

func (w *world) reserve(t *testing.T, unit string, term int64) string {
	t.Helper()
	id, _, err := w.alice.Reserve(context.Background(), contract.MsgReserve{Unit: unit, Bytes: 1 << 30, Term: term, EgressBytes: 1 << 30, MaxPrice: 2_000_000})
	must(t, "reserve", err)
	return id
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func second[T any](_ T, err error) error { return err }

// update runs one poll of the view and returns the requests it sent.
func update(t *testing.T, w *world, v *chainview.View) []string {
	t.Helper()
	w.log.take()
	must(t, "update", v.Update(context.Background()))
	return w.log.take()
}

// countLists counts full-sync list requests.
func countLists(paths []string) int {
	n := 0
	for _, p := range paths {
		if p == "/v1/reservations" || p == "/v1/accesskeys" {
			n++
		}
	}
	return n
}

func wantServed(t *testing.T, v *chainview.View, what, key, res string, want bool) {
	t.Helper()
	_, haveKey := v.Keys().Lookup(key)
	_, haveRes := v.Reservations().Get(res)
	if key != "" && haveKey != want {
		t.Errorf("%s: key %s served = %v, want %v", what, key, haveKey, want)
	}
	if res != "" && haveRes != want {
		t.Errorf("%s: reservation %s served = %v, want %v", what, res, haveRes, want)
	}
}

// TestViewFollowsChanges drives a reservation and its keys through their
// life on a real node and checks that one poll after each committed tx the
// view serves exactly what the chain holds, with one request per poll plus
// one per changed record and no re-listing.
func TestViewFollowsChanges(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	w := startWorld(t)
	ctx := context.Background()
	v := chainview.New(w.viewClient, w.prov.Address(), w.pub, w.priv)
	if got := update(t, w, v); countLists(got) != 2 {
		t.Fatalf("first poll: want a full sync (2 lists), sent %v", got)
	}

	pending := w.reserve(t, w.manual, 86400)
	early, err := w.alice.CreateAccessKey(ctx, pending, contract.PermWrite)
	must(t, "key on a pending reservation", err)
	got := update(t, w, v)
	wantServed(t, v, "pending", early.AccessKeyID, pending, false)
	if countLists(got) != 0 {
		t.Errorf("poll after reserve: re-listed: %v", got)
	}

	_, err = w.prov.AcceptReservation(ctx, pending)
	must(t, "accept", err)
	got = update(t, w, v)
	wantServed(t, v, "accepted", early.AccessKeyID, pending, true)
	// changes + the reservation + its keys (created while pending).
	if want := []string{"/v1/providers/" + w.prov.Address() + "/changes", "/v1/reservations/" + pending, "/v1/accesskeys"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("poll after accept sent %v, want %v", got, want)
	}

	late, err := w.alice.CreateAccessKey(ctx, pending, contract.PermRead)
	must(t, "second key", err)
	got = update(t, w, v)
	wantServed(t, v, "created", late.AccessKeyID, "", true)
	if len(got) != 2 {
		t.Errorf("poll after key create sent %v, want changes + the key", got)
	}
	if k, _ := v.Keys().Lookup(late.AccessKeyID); k.Secret != late.Secret || k.Perm != contract.PermRead {
		t.Errorf("served key %+v, want secret of the created key and perm read", k)
	}

	_, err = w.alice.RevokeAccessKey(ctx, late.AccessKeyID)
	must(t, "revoke", err)
	update(t, w, v)
	wantServed(t, v, "revoked", late.AccessKeyID, "", false)
	wantServed(t, v, "other key after revoke", early.AccessKeyID, pending, true)

	_, err = w.alice.TopUp(ctx, pending, 1<<30)
	must(t, "top up", err)
	update(t, w, v)
	if r, _ := v.Reservations().Get(pending); r.EgressBytes != 2<<30 {
		t.Errorf("after top-up the bridge allows %d egress bytes, want %d", r.EgressBytes, 2<<30)
	}

	_, err = w.alice.CloseReservation(ctx, pending)
	must(t, "close", err)
	update(t, w, v)
	wantServed(t, v, "closed", early.AccessKeyID, pending, false)

	idle := update(t, w, v)
	if len(idle) != 1 {
		t.Errorf("idle poll sent %v, want only the changes request", idle)
	}
}

// TestViewExpiryAndRestart checks that a reservation ending in a block hook
// (not a tx) drops with its key, that a new view (a bridge restart) and a
// view the node cannot serve changes to both do one full sync and then
// follow again.
func TestViewExpiryAndRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	w := startWorld(t)
	ctx := context.Background()
	v := chainview.New(w.viewClient, w.prov.Address(), w.pub, w.priv)
	update(t, w, v)
	short := w.reserve(t, w.auto, 2)
	long := w.reserve(t, w.auto, 86400)
	keyShort, err := w.alice.CreateAccessKey(ctx, short, contract.PermWrite)
	must(t, "key", err)
	keyLong, err := w.alice.CreateAccessKey(ctx, long, contract.PermWrite)
	must(t, "key", err)
	update(t, w, v)
	wantServed(t, v, "before expiry", keyLong.AccessKeyID, long, true)

	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := w.c.Reservation(ctx, short)
		must(t, "reservation", err)
		if r.Status != contract.ResActive {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reservation %s with a 2 s term still active after 30 s", short)
		}
		waitBlock(t, w.c)
	}
	got := update(t, w, v)
	wantServed(t, v, "expired", keyShort.AccessKeyID, short, false)
	wantServed(t, v, "still live", keyLong.AccessKeyID, long, true)
	if countLists(got) != 0 {
		t.Errorf("poll after expiry re-listed: %v", got)
	}

	restarted := chainview.New(w.viewClient, w.prov.Address(), w.pub, w.priv)
	if got := update(t, w, restarted); countLists(got) != 2 {
		t.Errorf("restarted view: want a full sync, sent %v", got)
	}
	wantServed(t, restarted, "after restart", keyLong.AccessKeyID, long, true)
	wantServed(t, restarted, "after restart", keyShort.AccessKeyID, short, false)
	if got := update(t, w, restarted); countLists(got) != 0 || len(got) != 1 {
		t.Errorf("poll after the restart sync sent %v, want only the changes request", got)
	}
}

func waitBlock(t *testing.T, c *client.Client) {
	t.Helper()
	st, err := c.Status(context.Background())
	must(t, "status", err)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		now, err := c.Status(context.Background())
		must(t, "status", err)
		if now.Height > st.Height {
			return
		}
	}
	t.Fatalf("no block after height %d within 10 s", st.Height)
}
