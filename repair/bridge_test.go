package repair

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flashback-network/flashback/bridge"
	"github.com/flashback-network/flashback/s3bench"
	"github.com/flashback-network/flashback/storage"
)

// bridgeCopy runs a real bridge over a local disk with reservation res-1
// of quota bytes, and returns a member talking S3 to it (storage.S3, the
// SDK client the gateway's member clients are built like).
func bridgeCopy(t *testing.T, id string, quota int64) (*localCopy, func() error) {
	t.Helper()
	local, err := storage.NewLocal(storage.LocalConfig{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	key := bridge.Key{AccessKeyID: "AKIAREPAIR" + strings.ToUpper(id), Secret: "secret-" + id, Bucket: "res-1", Perm: bridge.PermWrite}
	sb, err := s3bench.ServeBridgeConfig(id, bridge.Config{
		Backend:      local,
		Keys:         bridge.NewStaticKeys(key),
		Reservations: bridge.NewStaticReservations(bridge.Reservation{ID: "res-1", QuotaBytes: quota, EgressBytes: -1, Unit: "u-" + id}),
		ReceiptKey:   ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)), ChainID: "repair-test",
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	stop := sync.OnceValue(sb.Close) // a second Close would wait for a result already taken
	t.Cleanup(func() { stop() })
	// Idle connections are closed before the bridge's shutdown, which
	// waits for them (cleanups run last first).
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	be, err := storage.NewS3(context.Background(), storage.S3Config{
		HTTPClient: &http.Client{Transport: tr},
		Endpoint:   sb.Endpoint.URL, Bucket: "res-1", PathStyle: true,
		AccessKeyID: key.AccessKeyID, SecretAccessKey: key.Secret,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &localCopy{id: id, be: be, root: local.Root()}, stop
}

// TestOverBridges: three members behind real bridges. A scrub finds the
// byte flipped on one member's disk, the member whose reservation is full
// is paused with the bridge's QuotaExceeded as reason while the others are
// repaired, and a member whose bridge is down is backed off.
func TestOverBridges(t *testing.T) {
	m0, stop0 := bridgeCopy(t, "m0", 1<<30)
	m1, _ := bridgeCopy(t, "m1", 1<<30)
	m2, _ := bridgeCopy(t, "m2", 500<<10)
	f := &fixture{cs: []*localCopy{m0, m1, m2}, objs: map[string][]byte{}}
	for i, sz := range []int{0, 10, 300 << 10, 300 << 10, 70000} {
		k := fmt.Sprintf("obj-%03d", i)
		f.objs[k] = data(i, sz)
		put(t, k, f.objs[k], m0, m1)
	}
	m1.flipByte(t, "obj-003", 777)
	cfg := fastCfg()
	cfg.Scrub, cfg.Concurrency, cfg.Quorum = true, 1, 2
	r := newRepairer(t, f.copies(), cfg)
	res := once(t, r)
	if res.Behind["m1"] != 1 || res.Behind["m2"] != 5 {
		t.Fatalf("pass: %+v", res)
	}
	f.level(t, m0, m1)
	st := r.Status()
	s2 := memberOf(st, "m2")
	if !s2.Paused || !strings.Contains(s2.PausedReason, "QuotaExceeded") || s2.Level {
		t.Fatalf("m2: %+v", s2)
	}
	if s2.RepairedObjects == 0 || s2.RepairedBytes > 500<<10 {
		t.Fatalf("m2 got %d objects, %d bytes in a 500 KiB reservation", s2.RepairedObjects, s2.RepairedBytes)
	}

	// m0's bridge goes away: its listing fails, it is backed off and its
	// status says why; the pass goes on with the others.
	if err := stop0(); err != nil {
		t.Fatal(err)
	}
	cfg.BackoffBase, cfg.BackoffMax = 1<<40, 1<<40 // stays backed off for the test
	r = newRepairer(t, f.copies(), cfg)
	t0 := time.Now()
	res = once(t, r)
	t.Logf("pass with m0 down: %v", time.Since(t0))
	s0 := memberOf(r.Status(), "m0")
	if res.Listed["m0"] || s0.LastError == "" || s0.LastErrorAt == nil || s0.BackoffUntil == nil {
		t.Fatalf("m0 down: %+v, %+v", res, s0)
	}
	f.level(t, m1)
}
