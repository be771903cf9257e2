package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// rssLimit is issue 12's bound on the gateway's memory growth while one
// 1 GiB object streams through it.
const rssLimit = 64 << 20

// TestGatewayRSS1GiB streams a 1 GiB object (generated, never held) PUT
// and then GET through a real `flashback gateway` process over a mirror
// repository of three real bridges, and samples that process's VmRSS
// from /proc/PID/status during both transfers. What is measured is the
// gateway process alone (the bridges and the client run in this test
// process): its peak VmRSS (sampled, and VmHWM, the kernel's own peak)
// minus its VmRSS after a 1 MiB warm-up PUT and GET. It must stay under
// 64 MiB: a mirrored write holds a bounded set of chunk buffers, not the
// object.
func TestGatewayRSS1GiB(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 1 GiB through a gateway process")
	}
	bin := filepath.Join(t.TempDir(), "flashback")
	build := exec.Command("go", "build", "-o", bin, "../cmd/flashback")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	var fms []FileMember
	for _, id := range []string{"res-1", "res-2", "res-3"} {
		m := startBridge(t, id)
		fms = append(fms, FileMember{ID: m.id, Endpoint: m.url, AccessKeyID: m.key.AccessKeyID, SecretAccessKey: m.key.Secret})
	}
	cfg := writeConfig(t, FileConfig{Listen: "127.0.0.1:0", StateDir: t.TempDir(),
		Repos: []FileRepo{{Name: "photos", Mode: ModeMirror, Members: fms}},
		Keys:  []FileKey{{AccessKeyID: "FBRSS", SecretAccessKey: "rss-secret-rss-rss", Repo: "photos", Perm: PermWrite}}})
	proc, url := startGatewayProcess(t, bin, cfg)
	pid := proc.Process.Pid
	c := streamClient(url, "FBRSS", "rss-secret-rss-rss")

	// Warm-up: connection pools, lazily built state, the first buffers.
	warm := randBytes(1 << 20)
	mustPut(t, c, "photos", "warm", warm)
	mustGetExact(t, c, "photos", "warm", warm)
	base := procStatus(t, pid, "VmRSS")

	const size = 1 << 30
	s := startRSSSampler(t, pid)
	t0 := time.Now()
	gen := newGen(size)
	sent := sha256.New()
	_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String("gib"),
		Body: io.TeeReader(gen, sent), ContentLength: aws.Int64(size)})
	if err != nil {
		t.Fatalf("put 1 GiB: %v", err)
	}
	putDur := time.Since(t0)
	putPeak := s.peak()
	t1 := time.Now()
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("photos"), Key: aws.String("gib")})
	if err != nil {
		t.Fatalf("get 1 GiB: %v", err)
	}
	got := sha256.New()
	n, err := io.Copy(got, out.Body)
	out.Body.Close()
	getDur := time.Since(t1)
	peak := s.stop()
	if err != nil || n != size {
		t.Fatalf("get 1 GiB: %d bytes, %v", n, err)
	}
	if !bytes.Equal(got.Sum(nil), sent.Sum(nil)) {
		t.Fatal("get 1 GiB: the bytes differ from those put")
	}
	hwm := procStatus(t, pid, "VmHWM")
	mib := func(v uint64) float64 { return float64(int64(v)-int64(base)) / (1 << 20) }
	t.Logf("gateway process RSS: base %.1f MiB; growth: PUT peak %.1f MiB, PUT+GET peak %.1f MiB (%d samples), VmHWM %.1f MiB (limit 64 MiB)",
		float64(base)/(1<<20), mib(putPeak), mib(peak), s.samples(), mib(hwm))
	t.Logf("1 GiB mirror-3 PUT %.1f MB/s, GET %.1f MB/s", size/putDur.Seconds()/1e6, size/getDur.Seconds()/1e6)
	if hi := max(peak, hwm); hi > base && hi-base >= rssLimit {
		t.Fatalf("gateway RSS grew by %.1f MiB streaming 1 GiB; want < 64 MiB", mib(hi))
	}
}

// rssSampler polls a process's VmRSS until stopped and keeps the peak.
type rssSampler struct {
	mu   sync.Mutex
	max  uint64
	n    int
	quit chan struct{}
	done chan struct{}
}

func startRSSSampler(t *testing.T, pid int) *rssSampler {
	s := &rssSampler{quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			if v, err := readStatus(pid, "VmRSS"); err == nil {
				s.mu.Lock()
				s.max, s.n = max(s.max, v), s.n+1
				s.mu.Unlock()
			}
			select {
			case <-s.quit:
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			s.stop()
		}
	})
	return s
}

func (s *rssSampler) peak() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.max
}

func (s *rssSampler) samples() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// stop ends the sampling and returns the peak.
func (s *rssSampler) stop() uint64 {
	close(s.quit)
	<-s.done
	return s.peak()
}

func procStatus(t *testing.T, pid int, field string) uint64 {
	t.Helper()
	v, err := readStatus(pid, field)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// readStatus reads a "kB" field of /proc/PID/status, in bytes.
func readStatus(pid int, field string) (uint64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, field+":") {
			f := strings.Fields(line)
			if len(f) < 2 {
				break
			}
			kb, err := strconv.ParseUint(f[1], 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no %s", pid, field)
}
