package bridge

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/flashback-network/flashback/probe"
	"github.com/flashback-network/flashback/storage"
)

// probeFixture is a bridge serving S3 and, on the same listener, the probe
// endpoint for unit-a (the S3 fixture's backend) to one registered oracle.
func probeFixture(t *testing.T, vhost string) (*fixture, *probe.Client) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	oc := probe.NewClient(priv)
	dir := t.TempDir()
	local, err := storage.NewLocal(storage.LocalConfig{Root: dir})
	if err != nil {
		t.Fatal(err)
	}
	h := probe.NewHandler(probe.Config{
		Backend:  probe.BackendMap(map[string]storage.Backend{"unit-a": local}),
		IsOracle: func(_ context.Context, a string) (bool, error) { return a == oc.Address(), nil },
	})
	return newFixture(t, fixtureOpts{dir: dir, vhost: vhost, probe: h}), oc
}

// The probe endpoint answers on the S3 port under the reserved path, signed
// exactly as on the ops listener; S3 on the same listener is unaffected.
func TestProbeOnS3Listener(t *testing.T) {
	f, oc := probeFixture(t, "")
	ctx := context.Background()
	base, err := probe.BaseURL(f.url)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := oc.Ping(ctx, base, "unit-a"); err != nil || p.Server.Bytes != probe.PingSize {
		t.Fatalf("ping on the S3 listener: %+v, %v", p, err)
	}
	tr, err := oc.Transfer(ctx, base, "unit-a", 300<<10)
	if err != nil || !tr.SHA256OK || tr.Bytes != 300<<10 {
		t.Fatalf("transfer on the S3 listener: %+v, %v", tr, err)
	}
	if r, err := oc.Probe(ctx, base, "unit-a", 70<<10); err != nil || !r.SHA256OK {
		t.Fatalf("probe (JSON) on the S3 listener: %+v, %v", r, err)
	}
	if _, err := oc.Ping(ctx, base, "unit-elsewhere"); !isProbeErr(err, http.StatusNotFound, "unknown_unit") {
		t.Fatalf("ping of a unit not served: %v", err)
	}

	// Unsigned and wrongly signed requests are refused as on the ops port.
	for name, req := range map[string]func() *http.Request{
		"unsigned": func() *http.Request {
			r, _ := http.NewRequest(http.MethodGet, base+"/probe/unit-a/ping", nil)
			return r
		},
		"other unit signed": func() *http.Request {
			r, _ := oc.SignedRequest(ctx, http.MethodGet, base, "unit-b", "/ping", nil, nil, probe.EmptySHA256)
			r.URL.Path = strings.Replace(r.URL.Path, "unit-b", "unit-a", 1)
			return r
		},
	} {
		status, code := doProbe(t, req())
		if status != http.StatusForbidden || (code != "unsigned" && code != "bad_signature") {
			t.Fatalf("%s: HTTP %d %s, want 403", name, status, code)
		}
	}
	// Anything else under the reserved prefix is the probe endpoint's 404.
	r, _ := http.NewRequest(http.MethodGet, f.url+"/_flashback/nothing", nil)
	if status, code := doProbe(t, r); status != http.StatusNotFound || code != "not_found" {
		t.Fatalf("GET /_flashback/nothing: HTTP %d %s", status, code)
	}

	// S3 goes on as before on the same port.
	c := f.sdk(keyW1)
	data := randBytes(200<<10, 7)
	putBytes(t, c, "res-1", "_flashback/probe/unit-a/ping", data)
	if got := getAll(t, c, "res-1", "_flashback/probe/unit-a/ping"); string(got) != string(data) {
		t.Fatal("S3 object read back differs")
	}
}

// In virtual-host style the reserved path is a bucket's object key: S3's.
func TestProbePathIsS3InVirtualHostStyle(t *testing.T) {
	f, _ := probeFixture(t, "s3.test")
	r, _ := http.NewRequest(http.MethodGet, f.url+"/_flashback/probe/unit-a/ping", nil)
	r.Host = "res-1.s3.test"
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(b), "<Error>") {
		t.Fatalf("virtual-host GET: HTTP %d %s, want S3's AccessDenied", resp.StatusCode, b)
	}
	// The bare domain (path style) still reaches the probe endpoint.
	r, _ = http.NewRequest(http.MethodGet, f.url+"/_flashback/probe/unit-a/ping", nil)
	r.Host = "s3.test"
	if status, code := doProbe(t, r); status != http.StatusForbidden || code != "unsigned" {
		t.Fatalf("path-style GET on the bare domain: HTTP %d %s", status, code)
	}
}

func doProbe(t *testing.T, r *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var eb probe.ErrorBody
	if err := json.NewDecoder(resp.Body).Decode(&eb); err != nil {
		t.Fatalf("%s %s: answer is not the probe endpoint's JSON: %v", r.Method, r.URL, err)
	}
	return resp.StatusCode, eb.Code
}

func isProbeErr(err error, status int, code string) bool {
	pe, ok := err.(*probe.Error)
	return ok && pe.Status == status && pe.Code == code
}
