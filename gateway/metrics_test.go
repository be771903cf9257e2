package gateway

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func adminGet(t *testing.T, url string) (int, string) {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestGatewayMetricsAndReadiness: the admin listener answers /healthz at
// once, /readyz only once S3 is served, and /metrics with the requests,
// bytes and member requests the gateway handled.
func TestGatewayMetricsAndReadiness(t *testing.T) {
	f := newFixture(t, ModeMirror, 2, 2)
	gw, err := New(context.Background(), Config{Directory: f.dir, StateDir: t.TempDir(), StallTimeout: 5 * time.Second, Logf: t.Logf, AdminListen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	admin := "http://" + gw.AdminAddr()
	if code, _ := adminGet(t, admin+"/healthz"); code != 200 {
		t.Fatalf("/healthz: %d", code)
	}
	if code, body := adminGet(t, admin+"/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "not serving S3 yet") {
		t.Fatalf("/readyz before Serve: %d %s", code, body)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- gw.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		gw.Shutdown(ctx)
		<-done
	})
	k := f.keys[PermWrite]
	c := sdkClient("http://"+ln.Addr().String(), k.AccessKeyID, k.Secret)
	data := randBytes(3000)
	mustPut(t, c, "photos", "a.bin", data)
	mustGetExact(t, c, "photos", "a.bin", data)
	if _, err := get(c, "photos", "missing.bin", ""); err == nil {
		t.Fatal("GET of a missing key succeeded")
	}
	if code, body := adminGet(t, admin+"/readyz"); code != 200 {
		t.Fatalf("/readyz while serving: %d %s", code, body)
	}
	code, body := adminGet(t, admin+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`flashback_gateway_requests_total{op="PutObject",repo="photos",status="200"} 1`,
		`flashback_gateway_requests_total{op="GetObject",repo="photos",status="200"} 1`,
		`flashback_gateway_requests_total{op="GetObject",repo="photos",status="404"} 1`,
		`flashback_gateway_bytes_total{direction="in"} 3000`,
		`flashback_gateway_bytes_total{direction="out"} 3000`,
		`flashback_gateway_member_requests_total{member="res-1",result="ok"}`,
		`flashback_gateway_member_requests_total{member="res-2",result="ok"}`,
		"flashback_gateway_request_duration_seconds_bucket",
		"flashback_gateway_repair_queue_records 0",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}
}
