package probe

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/storage"
)

type fixture struct {
	srv     *httptest.Server
	be      storage.Backend
	oracle  *Client
	oracles map[string]bool
}

func newKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

// newFixture serves the probe endpoint for unit-1 on a real local backend
// in a temp dir, with one registered oracle.
func newFixture(t *testing.T, mod func(*Config)) *fixture {
	t.Helper()
	be, err := storage.NewLocal(storage.LocalConfig{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{be: be, oracle: NewClient(newKey(t)), oracles: map[string]bool{}}
	f.oracles[f.oracle.Address()] = true
	cfg := Config{
		Backend:  BackendMap(map[string]storage.Backend{"unit-1": be}),
		IsOracle: func(_ context.Context, a string) (bool, error) { return f.oracles[a], nil },
		MaxBytes: 1 << 20,
	}
	if mod != nil {
		mod(&cfg)
	}
	f.srv = httptest.NewServer(NewHandler(cfg))
	t.Cleanup(f.srv.Close)
	return f
}

// probeObjects lists the probe objects left in the backend (the ping
// sentinel aside).
func (f *fixture) probeObjects(t *testing.T) []string {
	t.Helper()
	objs, err := f.be.List(context.Background(), KeyPrefix, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range objs {
		if o.Key != PingKey {
			keys = append(keys, o.Key)
		}
	}
	return keys
}

func wantCode(t *testing.T, err error, status int, code string) {
	t.Helper()
	var pe *Error
	if !errors.As(err, &pe) || pe.Status != status || pe.Code != code {
		t.Fatalf("want HTTP %d %s, got %v", status, code, err)
	}
}

func do(t *testing.T, req *http.Request) error {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return readError(resp)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return nil
}

func TestTransferOnLocalBackend(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	tr, err := f.oracle.Transfer(ctx, f.srv.URL, "unit-1", 300_000)
	if err != nil {
		t.Fatal(err)
	}
	if !tr.SHA256OK || tr.Bytes != 300_000 || tr.Upload <= 0 || tr.Download <= 0 {
		t.Fatalf("transfer: %+v", tr)
	}
	res, err := f.oracle.Probe(ctx, f.srv.URL, "unit-1", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if !res.SHA256OK || res.Bytes != 1<<20 || res.Unit != "unit-1" || len(res.SHA256) != 64 {
		t.Fatalf("probe: %+v", res)
	}
	// Empty objects work too.
	if tr, err := f.oracle.Transfer(ctx, f.srv.URL, "unit-1", 0); err != nil || !tr.SHA256OK {
		t.Fatalf("empty transfer: %+v %v", tr, err)
	}
	if left := f.probeObjects(t); len(left) != 0 {
		t.Fatalf("probe objects left behind: %v", left)
	}
	p, err := f.oracle.Ping(ctx, f.srv.URL, "unit-1")
	if err != nil || p.Server.Bytes != PingSize || p.RTT <= 0 {
		t.Fatalf("ping: %+v %v", p, err)
	}
	if _, err := f.oracle.Ping(ctx, f.srv.URL, "unit-1"); err != nil {
		t.Fatal(err)
	}
	_, err = f.oracle.Ping(ctx, f.srv.URL, "unit-9")
	wantCode(t, err, http.StatusNotFound, "unknown_unit")
}

func TestSignatureChecks(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	body := []byte("probe body")

	// A valid request passes.
	req, _ := f.oracle.SignedRequest(ctx, http.MethodPost, f.srv.URL, "unit-1", "", nil, body, "")
	if err := do(t, req); err != nil {
		t.Fatal(err)
	}
	// Unsigned.
	req, _ = http.NewRequest(http.MethodPost, f.srv.URL+"/probe/unit-1", bytes.NewReader(body))
	wantCode(t, do(t, req), http.StatusForbidden, "unsigned")
	// Tampered signature.
	req, _ = f.oracle.SignedRequest(ctx, http.MethodPost, f.srv.URL, "unit-1", "", nil, body, "")
	sig := []byte(req.Header.Get(HeaderSignature))
	sig[3] ^= 1
	req.Header.Set(HeaderSignature, string(sig))
	wantCode(t, do(t, req), http.StatusForbidden, "bad_signature")
	// Signed for another unit, sent to this one.
	req, _ = f.oracle.SignedRequest(ctx, http.MethodPost, f.srv.URL, "unit-2", "", nil, body, "")
	req.URL.Path = "/probe/unit-1"
	wantCode(t, do(t, req), http.StatusForbidden, "bad_signature")
	// Signed as a ping, sent as a transfer.
	req, _ = f.oracle.SignedRequest(ctx, http.MethodGet, f.srv.URL, "unit-1", "/ping", nil, nil, "")
	req.URL.Path = "/probe/unit-1"
	req.Method = http.MethodPost
	wantCode(t, do(t, req), http.StatusForbidden, "bad_signature")
	// Query not covered by the signature.
	req, _ = f.oracle.SignedRequest(ctx, http.MethodPost, f.srv.URL, "unit-1", "", nil, body, "")
	req.URL.RawQuery = "echo=1"
	wantCode(t, do(t, req), http.StatusForbidden, "bad_signature")
	// The address is not the public key's.
	req, _ = f.oracle.SignedRequest(ctx, http.MethodPost, f.srv.URL, "unit-1", "", nil, body, "")
	req.Header.Set(HeaderOracle, address.FromPubKey(newKey(t).Public().(ed25519.PublicKey)))
	wantCode(t, do(t, req), http.StatusForbidden, "address_mismatch")
	// Someone else's key, claiming the registered oracle's address.
	other := NewClient(newKey(t))
	req, _ = other.SignedRequest(ctx, http.MethodPost, f.srv.URL, "unit-1", "", nil, body, "")
	req.Header.Set(HeaderOracle, f.oracle.Address())
	wantCode(t, do(t, req), http.StatusForbidden, "address_mismatch")
	// A body that is not the signed one: refused, nothing left.
	req, _ = f.oracle.SignedRequest(ctx, http.MethodPost, f.srv.URL, "unit-1", "", nil, body, "")
	req.Body = io.NopCloser(strings.NewReader("probe bodx"))
	wantCode(t, do(t, req), http.StatusBadRequest, "content_mismatch")
	if left := f.probeObjects(t); len(left) != 0 {
		t.Fatalf("probe objects left behind: %v", left)
	}
}

func TestTimestampAndReplay(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	body := []byte("replay me")
	req, _ := f.oracle.SignedRequest(ctx, http.MethodPost, f.srv.URL, "unit-1", "", nil, body, "")
	replay := req.Clone(ctx)
	replay.Body = io.NopCloser(bytes.NewReader(body))
	if err := do(t, req); err != nil {
		t.Fatal(err)
	}
	wantCode(t, do(t, replay), http.StatusForbidden, "replayed_nonce")

	for _, off := range []time.Duration{-2 * time.Minute, 2 * time.Minute} {
		f.oracle.Now = func() time.Time { return time.Now().Add(off) }
		_, err := f.oracle.Ping(ctx, f.srv.URL, "unit-1")
		wantCode(t, err, http.StatusForbidden, "stale_timestamp")
	}
	f.oracle.Now = func() time.Time { return time.Now().Add(-50 * time.Second) }
	if _, err := f.oracle.Ping(ctx, f.srv.URL, "unit-1"); err != nil {
		t.Fatalf("50 s of skew is within the window: %v", err)
	}
}

func TestUnregisteredOracle(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	stranger := NewClient(newKey(t))
	_, err := stranger.Transfer(ctx, f.srv.URL, "unit-1", 100)
	wantCode(t, err, http.StatusForbidden, "not_oracle")
	_, err = stranger.Ping(ctx, f.srv.URL, "unit-1")
	wantCode(t, err, http.StatusForbidden, "not_oracle")
	// Deregistered: refused from then on.
	delete(f.oracles, f.oracle.Address())
	_, err = f.oracle.Ping(ctx, f.srv.URL, "unit-1")
	wantCode(t, err, http.StatusForbidden, "not_oracle")
}

func TestChainUnavailable(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.IsOracle = func(context.Context, string) (bool, error) { return false, errors.New("node down") }
	})
	_, err := f.oracle.Ping(context.Background(), f.srv.URL, "unit-1")
	wantCode(t, err, http.StatusServiceUnavailable, "chain_unavailable")
}

func TestSizeLimit(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxBytes = 4096 })
	ctx := context.Background()
	if _, err := f.oracle.Transfer(ctx, f.srv.URL, "unit-1", 4096); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
	_, err := f.oracle.Transfer(ctx, f.srv.URL, "unit-1", 4097)
	wantCode(t, err, http.StatusRequestEntityTooLarge, "too_large")
	// No Content-Length (chunked).
	req, _ := f.oracle.SignedRequest(ctx, http.MethodPost, f.srv.URL, "unit-1", "", nil, []byte("abc"), "")
	req.ContentLength = -1
	req.Body = io.NopCloser(io.MultiReader(strings.NewReader("abc")))
	wantCode(t, do(t, req), http.StatusLengthRequired, "length_required")
	if left := f.probeObjects(t); len(left) != 0 {
		t.Fatalf("probe objects left behind: %v", left)
	}
}

func TestRateLimit(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.RatePerSecond = 0.01; c.Burst = 3 })
	ctx := context.Background()
	for i := range 3 {
		if _, err := f.oracle.Ping(ctx, f.srv.URL, "unit-1"); err != nil {
			t.Fatalf("ping %d: %v", i, err)
		}
	}
	_, err := f.oracle.Ping(ctx, f.srv.URL, "unit-1")
	wantCode(t, err, http.StatusTooManyRequests, "rate_limited")
	// Other units and other oracles have their own budget.
	_, err = f.oracle.Ping(ctx, f.srv.URL, "unit-2")
	wantCode(t, err, http.StatusNotFound, "unknown_unit")
	o2 := NewClient(newKey(t))
	f.oracles[o2.Address()] = true
	if _, err := o2.Ping(ctx, f.srv.URL, "unit-1"); err != nil {
		t.Fatal(err)
	}
}

// corrupting flips a byte of every object read.
type corrupting struct{ storage.Backend }

func (c corrupting) Get(ctx context.Context, key string, rng *storage.Range) (io.ReadCloser, storage.ObjectInfo, error) {
	rc, info, err := c.Backend.Get(ctx, key, rng)
	if err != nil {
		return nil, info, err
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return nil, info, err
	}
	if len(b) > 0 {
		b[len(b)/2] ^= 0x40
	}
	return io.NopCloser(bytes.NewReader(b)), info, nil
}

func TestIntegrityFailureDetected(t *testing.T) {
	f := newFixture(t, nil)
	f.srv.Config.Handler = NewHandler(Config{
		Backend:  BackendMap(map[string]storage.Backend{"unit-1": corrupting{f.be}}),
		IsOracle: func(context.Context, string) (bool, error) { return true, nil },
	})
	ctx := context.Background()
	tr, err := f.oracle.Transfer(ctx, f.srv.URL, "unit-1", 10_000)
	if err != nil || tr.SHA256OK {
		t.Fatalf("corrupt read back not detected: %+v %v", tr, err)
	}
	res, err := f.oracle.Probe(ctx, f.srv.URL, "unit-1", 10_000)
	if err != nil || res.SHA256OK {
		t.Fatalf("corrupt read back not detected: %+v %v", res, err)
	}
	if left := f.probeObjects(t); len(left) != 0 {
		t.Fatalf("probe objects left behind: %v", left)
	}
}

func TestCachedIsOracle(t *testing.T) {
	var calls atomic.Int32
	fail := false
	f := CachedIsOracle(func(_ context.Context, a string) (bool, error) {
		calls.Add(1)
		if fail {
			return false, errors.New("down")
		}
		return a == "yes", nil
	}, 50*time.Millisecond)
	ctx := context.Background()
	for range 3 {
		if ok, _ := f(ctx, "yes"); !ok {
			t.Fatal("yes")
		}
		if ok, _ := f(ctx, "no"); ok {
			t.Fatal("no")
		}
	}
	if calls.Load() != 2 {
		t.Fatalf("%d lookups, want 2 (cached)", calls.Load())
	}
	time.Sleep(60 * time.Millisecond)
	fail = true
	if _, err := f(ctx, "yes"); err == nil {
		t.Fatal("error after expiry not passed through")
	}
}
