package bridge

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
)

// TestRSSBridgeChild is the bridge process of TestRSSFlat (it only runs
// when that test starts it): a standard fixture that prints its URL and
// serves until its stdin closes.
func TestRSSBridgeChild(t *testing.T) {
	dir := os.Getenv("FB_RSS_BRIDGE_DIR")
	if dir == "" {
		t.Skip("helper process of TestRSSFlat")
	}
	f := newFixture(t, fixtureOpts{dir: dir})
	fmt.Printf("BRIDGE %s\n", f.url)
	io.Copy(io.Discard, os.Stdin)
}

// vmRSS is the resident set size of process pid, in bytes.
func vmRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// TestRSSFlat streams a 1 GiB object up and down through a bridge running
// in its own process and checks, from /proc, that the bridge's resident
// memory grows by less than 64 MiB.
func TestRSSFlat(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	size := int64(1 << 30)
	if testing.Short() || raceEnabled {
		size = 256 << 20
	}
	url, pid := startRSSBridge(t)
	f := &fixture{t: t, url: url}
	c := f.minio(keyW1)
	ctx := context.Background()
	// Warm up (connection, first-use allocations) before the baseline.
	if _, err := c.PutObject(ctx, "res-1", "warm", strings.NewReader("warm"), 4, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	base, err := vmRSS(pid)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	peak := base
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			if r, err := vmRSS(pid); err == nil {
				mu.Lock()
				peak = max(peak, r)
				mu.Unlock()
			}
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	if _, err := c.PutObject(ctx, "res-1", "huge", io.LimitReader(zeroReader{}, size), size,
		minio.PutObjectOptions{DisableMultipart: true}); err != nil {
		t.Fatal(err)
	}
	o, err := c.GetObject(ctx, "res-1", "huge", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, o)
	o.Close()
	close(stop)
	<-done
	if err != nil || n != size {
		t.Fatalf("get: %d bytes, %v", n, err)
	}
	mu.Lock()
	growth := peak - base
	mu.Unlock()
	t.Logf("object %d MiB: bridge RSS %d MiB before, peak growth %d MiB", size>>20, base>>20, growth>>20)
	if growth >= 64<<20 {
		t.Fatalf("bridge RSS grew by %d MiB during a %d MiB PUT and GET (limit 64 MiB)", growth>>20, size>>20)
	}
}

// startRSSBridge starts the bridge process of TestRSSFlat (stopped at the
// test's cleanup) and returns its URL and pid.
func startRSSBridge(t *testing.T) (string, int) {
	cmd := exec.Command(os.Args[0], "-test.run", "^TestRSSBridgeChild$", "-test.count", "1")
	cmd.Env = append(os.Environ(), "FB_RSS_BRIDGE_DIR="+t.TempDir())
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	url := ""
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "BRIDGE "); ok {
			url = u
			break
		}
	}
	if url == "" {
		t.Fatal("bridge process printed no URL")
	}
	go io.Copy(io.Discard, out)
	return url, cmd.Process.Pid
}
