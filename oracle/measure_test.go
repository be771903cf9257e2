package oracle

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"io"
	"net"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/flashback-network/flashback/probe"
	"github.com/flashback-network/flashback/storage"
)

// slow delays every read.
type slow struct {
	storage.Backend
	d time.Duration
}

func (s slow) Get(ctx context.Context, key string, rng *storage.Range) (io.ReadCloser, storage.ObjectInfo, error) {
	time.Sleep(s.d)
	return s.Backend.Get(ctx, key, rng)
}

// failing fails every write and read.
type failing struct{ storage.Backend }

var errDisk = errors.New("disk on fire")

func (failing) Get(context.Context, string, *storage.Range) (io.ReadCloser, storage.ObjectInfo, error) {
	return nil, storage.ObjectInfo{}, errDisk
}

func (failing) Put(context.Context, string, io.Reader, int64, storage.ObjectMeta) (storage.ObjectInfo, error) {
	return storage.ObjectInfo{}, errDisk
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
	if len(b) > 0 {
		b[len(b)/2] ^= 1
	}
	return io.NopCloser(bytes.NewReader(b)), info, err
}

func local(t *testing.T) storage.Backend {
	t.Helper()
	be, err := storage.NewLocal(storage.LocalConfig{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return be
}

// closedURL is an address nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + ln.Addr().String()
	ln.Close()
	return u
}

// bridgeWith serves the probe endpoint for units on real local backends
// (wrapped to misbehave), accepting only the given oracle.
func bridgeWith(t *testing.T, oracle string, units map[string]storage.Backend) string {
	t.Helper()
	srv := httptest.NewServer(probe.NewHandler(probe.Config{
		Backend:  probe.BackendMap(units),
		IsOracle: func(_ context.Context, a string) (bool, error) { return a == oracle, nil },
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func newProber(t *testing.T, o Options) *Prober {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &Prober{Client: probe.NewClient(priv), Options: o}
}

func TestMeasureHealthySlowFailing(t *testing.T) {
	p := newProber(t, Options{Concurrency: 4, Pings: 8, ProbeBytes: 512 << 10, Timeout: 10 * time.Second})
	url := bridgeWith(t, p.Client.Address(), map[string]storage.Backend{
		"unit-1": local(t),
		"unit-2": slow{local(t), 60 * time.Millisecond},
		"unit-3": failing{local(t)},
		"unit-5": corrupting{local(t)},
	})
	targets := []Target{
		{Unit: "unit-1", ProbeURL: url},
		{Unit: "unit-2", ProbeURL: url},
		{Unit: "unit-3", ProbeURL: url},
		{Unit: "unit-4", ProbeURL: closedURL(t)}, // bridge down
		{Unit: "unit-5", ProbeURL: url},
		{Unit: "unit-6", ProbeURL: ""},  // no endpoint known
		{Unit: "unit-7", ProbeURL: url}, // not served by that bridge
	}
	ms, err := p.Measure(context.Background(), targets)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != len(targets) {
		t.Fatalf("%d measurements for %d targets", len(ms), len(targets))
	}
	by := map[string]Measurement{}
	for i, m := range ms {
		if m.Unit != targets[i].Unit {
			t.Fatalf("measurement %d is %s, want %s", i, m.Unit, targets[i].Unit)
		}
		if m.Probes != 9 {
			t.Errorf("%s: %d probes, want 8 pings + 1 transfer", m.Unit, m.Probes)
		}
		if m.P50Ms > m.P95Ms {
			t.Errorf("%s: p50 %d > p95 %d", m.Unit, m.P50Ms, m.P95Ms)
		}
		by[m.Unit] = m
		t.Logf("%s: %+v", m.Unit, m)
	}
	h := by["unit-1"]
	if h.Successes != 9 || h.IntegrityPassed != 1 || h.IntegrityFailed != 0 || h.P95Ms == 0 || h.UpMbps == 0 || h.DownMbps == 0 || len(h.Errors) != 0 {
		t.Errorf("healthy unit: %+v", h)
	}
	if h.BytesUsed != 8*probe.PingSize+2*(512<<10) {
		t.Errorf("healthy unit used %d bytes", h.BytesUsed)
	}
	s := by["unit-2"]
	if s.Successes != 9 || s.P50Ms < 60 || s.P50Ms <= h.P50Ms || s.IntegrityPassed != 1 {
		t.Errorf("slow unit: %+v (healthy p50 %d)", s, h.P50Ms)
	}
	for _, u := range []string{"unit-3", "unit-4", "unit-6", "unit-7"} {
		m := by[u]
		if m.Successes != 0 || m.IntegrityPassed != 0 || m.P50Ms != 0 || m.P95Ms != 0 || m.UpMbps != 0 || m.DownMbps != 0 || len(m.Errors) == 0 {
			t.Errorf("failing unit %s: %+v", u, m)
		}
	}
	c := by["unit-5"]
	if c.Successes != 8 || c.IntegrityFailed != 1 || c.IntegrityPassed != 0 {
		t.Errorf("corrupting unit: %+v", c)
	}
}

func TestBudgetAndSpread(t *testing.T) {
	// 1 MiB transfers do not fit a 600 KiB budget: they shrink.
	p := newProber(t, Options{Pings: 4, ProbeBytes: 1 << 20, BudgetPerUnit: 600 << 10, Spread: 300 * time.Millisecond})
	url := bridgeWith(t, p.Client.Address(), map[string]storage.Backend{"unit-1": local(t)})
	t0 := time.Now()
	ms, err := p.Measure(context.Background(), []Target{{Unit: "unit-1", ProbeURL: url}})
	if err != nil {
		t.Fatal(err)
	}
	m := ms[0]
	if m.Successes != 5 || m.IntegrityPassed != 1 || m.BytesUsed > 600<<10 || m.BytesUsed < 500<<10 {
		t.Fatalf("budgeted round: %+v", m)
	}
	if el := time.Since(t0); el > 20*time.Second {
		t.Fatalf("round took %s", el)
	}
	// A budget too small for a transfer: pings only.
	if pings, transfers, _ := (Options{Pings: 10, BudgetPerUnit: 100 << 10}).withDefaults().plan(); pings != 10 || transfers != 0 {
		t.Fatalf("plan: %d pings %d transfers", pings, transfers)
	}
	if pings, _, _ := (Options{Pings: 10, BudgetPerUnit: 1}).withDefaults().plan(); pings != 1 {
		t.Fatalf("a unit is always probed at least once, got %d pings", pings)
	}
}

func TestMeasureCutShort(t *testing.T) {
	p := newProber(t, Options{Pings: 5, Spread: time.Hour})
	url := bridgeWith(t, p.Client.Address(), map[string]storage.Backend{"unit-1": local(t)})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	ms, err := p.Measure(ctx, []Target{{Unit: "unit-1", ProbeURL: url}})
	if !errors.Is(err, context.DeadlineExceeded) || len(ms) != 1 {
		t.Fatalf("cut short: %v %+v", err, ms)
	}
	if ms[0].Probes != 0 && ms[0].Successes != ms[0].Probes {
		t.Fatalf("probes cut short counted against the unit: %+v", ms[0])
	}
}

func TestStats(t *testing.T) {
	ds := []time.Duration{}
	for i := 1; i <= 20; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	if p50, p95 := percentileMs(ds, 50), percentileMs(ds, 95); p50 != 10 || p95 != 19 {
		t.Fatalf("p50 %d p95 %d", p50, p95)
	}
	if p := percentileMs([]time.Duration{300 * time.Microsecond}, 95); p != 1 {
		t.Fatalf("sub-millisecond rounds up to 1, got %d", p)
	}
	if m := median([]float64{1, 100, 3}); m != 3 {
		t.Fatal(m)
	}
	if m := median([]float64{2, 4}); m != 3 {
		t.Fatal(m)
	}
	if got := mbps(10_000_000, 2*time.Second); got != 5 {
		t.Fatal(got)
	}
}

func TestPortOffsetResolver(t *testing.T) {
	r := PortOffsetResolver(100, map[string]string{"fb1special": "https://ops.example.com/bridge"})
	for in, want := range map[string]string{
		"http://127.0.0.1:9000":       "http://127.0.0.1:9100",
		"https://s3.example.com":      "https://s3.example.com:543",
		"http://[::1]:9000/some/path": "http://[::1]:9100",
	} {
		got, err := r("fb1x", in)
		if err != nil || got != want {
			t.Errorf("%s: %q %v, want %q", in, got, err, want)
		}
	}
	if got, _ := r("fb1special", "http://whatever:1"); got != "https://ops.example.com/bridge" {
		t.Errorf("override: %q", got)
	}
	for _, bad := range []string{"ftp://x:1", "http://x:65500", "not a url"} {
		if _, err := r("fb1x", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// The default resolver uses the registered endpoint as it is: no port rule.
func TestEndpointResolver(t *testing.T) {
	r := EndpointResolver(map[string]string{"fb1special": "http://127.0.0.1:9100"})
	for in, want := range map[string]string{
		"http://127.0.0.1:9000":          "http://127.0.0.1:9000/_flashback",
		"http://127.0.0.1:31337":         "http://127.0.0.1:31337/_flashback",
		"https://s3.example.com/prefix/": "https://s3.example.com/prefix/_flashback",
	} {
		if got, err := r("fb1x", in); err != nil || got != want {
			t.Errorf("%s: %q %v, want %q", in, got, err, want)
		}
	}
	if got, _ := r("fb1special", "http://whatever:1"); got != "http://127.0.0.1:9100" {
		t.Errorf("override: %q", got)
	}
	if _, err := r("fb1x", "not a url"); err == nil {
		t.Error("a bad endpoint was accepted")
	}
	d := New("http://127.0.0.1:1", make([]byte, 64), Options{})
	if got, _ := d.Resolve("fb1x", "http://127.0.0.1:4242"); got != "http://127.0.0.1:4242/_flashback" {
		t.Errorf("the daemon's default resolver gave %q", got)
	}
}
