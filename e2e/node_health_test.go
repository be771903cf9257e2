package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flashback-network/flashback/client"
)

func httpGet(url string) (int, string, error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// TestNodeMetricsAndReadiness: the node serves Prometheus text on its API
// address with CometBFT's series and the app's (txs by type and code,
// block execution time, state size, reservations, escrow), and /readyz
// says ready once it commits blocks.
func TestNodeMetricsAndReadiness(t *testing.T) {
	home, apiURL, c := startDevNode(t, "metrics-chain", freeBase(t, 1))
	cli := homeCLI(t, home)
	bob := strings.TrimSpace(cli("keys", "show", "bob"))
	cli("tx", "bank", "send", bob, "1FLASH", "--from", "alice", "--node", apiURL)
	waitHeight(t, c, 4, 30*time.Second)

	code, body, err := httpGet(apiURL + "/readyz")
	if err != nil || code != 200 || !strings.Contains(body, `"ready"`) {
		t.Fatalf("/readyz: %d %v %s", code, err, body)
	}
	code, body, err = httpGet(apiURL + "/metrics")
	if err != nil || code != 200 {
		t.Fatalf("/metrics: %d %v", code, err)
	}
	for _, want := range []string{
		`flashback_txs_total{code="ok",type="bank/send"} 1`,
		"flashback_block_execution_seconds_bucket",
		"flashback_epoch_end_seconds_count",
		"flashback_block_height ",
		"flashback_active_reservations 0",
		"flashback_escrow_uflash 0",
		"flashback_state_bytes ",
		"flashback_last_block_age_seconds ",
		"cometbft_consensus_height",
		"cometbft_mempool_size",
		"go_goroutines",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	checkGrafanaServed(t, body, grafanaMetrics(t, "flashback_bridge_", true))
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}
}

// TestNodeDiskFullFailsReadiness fills the disk under a running node (a
// tmpfs of its own): the node must stop claiming health at once, say why
// (not merely that blocks stopped), and exit with a clear message.
func TestNodeDiskFullFailsReadiness(t *testing.T) {
	mnt := filepath.Join(t.TempDir(), "disk")
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("a small disk to fill needs `mount -t tmpfs` (root): %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", mnt).Run() })
	base := freeBase(t, 1)
	home := filepath.Join(mnt, "home")
	run(t, "init", "--home", home, "--chain-id", "diskfull", "--dev", "--base-port", fmt.Sprint(base), "--block-time", "200ms")
	apiURL := fmt.Sprintf("http://127.0.0.1:%d", base+2)
	logPath := filepath.Join(t.TempDir(), "node.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "node", "--home", home)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			if len(b) > 6000 {
				b = b[len(b)-6000:]
			}
			t.Logf("node log:\n%s", b)
		}
	})
	c := client.New(apiURL)
	waitHeight(t, c, 3, 60*time.Second)
	if code, body, _ := httpGet(apiURL + "/readyz"); code != 200 {
		t.Fatalf("/readyz before the disk filled: %d %s", code, body)
	}

	fillDisk(t, mnt)
	// The failure must be seen as one (node_failed), not only later as a
	// stale block (stalled, after MaxBlockAge).
	deadline := time.Now().Add(30 * time.Second)
	for done := false; !done; {
		code, body, err := httpGet(apiURL + "/readyz")
		switch {
		case err == nil && code == http.StatusServiceUnavailable:
			var p struct{ Code, Detail string }
			_ = json.Unmarshal([]byte(body), &p)
			if p.Code != "node_failed" {
				t.Fatalf("/readyz failed for another reason than the node's failure: %s", body)
			}
			done = true
		case err != nil && cmd.ProcessState != nil:
			done = true // already exited on the failure: nothing claims health
		case time.Now().After(deadline):
			t.Fatalf("/readyz still answers %d %s (err %v) 30 s after the disk filled", code, body, err)
		default:
			time.Sleep(50 * time.Millisecond)
		}
	}
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() == 0 {
			t.Fatalf("node exit after the failure: %v, want a non-zero exit", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the node did not exit after its failure")
	}
	b, _ := os.ReadFile(logPath)
	if !strings.Contains(string(b), "FATAL: the node stopped committing blocks") {
		t.Fatalf("the node's last words lack the FATAL line")
	}
}

// fillDisk writes a file under dir until the file system is full.
func fillDisk(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for {
		if _, err := f.Write(chunk); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return
			}
			t.Fatalf("filling the disk: %v", err)
		}
	}
}

// TestNodeAPISurvivesTricklers: 300 clients trickling a request body one
// byte a second neither block other clients nor hold the API forever: the
// server's read timeout closes them.
func TestNodeAPISurvivesTricklers(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the API's 30 s read timeout")
	}
	_, apiURL, _ := startDevNode(t, "trickle-chain", freeBase(t, 1))
	addr := strings.TrimPrefix(apiURL, "http://")
	var conns []net.Conn
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for i := 0; i < 300; i++ {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		fmt.Fprintf(c, "POST /v1/txs HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{", addr)
		conns = append(conns, c)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() { // one byte a second on every connection
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				for _, c := range conns {
					_, _ = c.Write([]byte(" "))
				}
			}
		}
	}()
	if code, body, err := httpGet(apiURL + "/v1/status"); err != nil || code != 200 {
		t.Fatalf("with 300 tricklers, GET /v1/status: %d %v %s", code, err, body)
	}
	// Every trickler is cut off by the read timeout (30 s), not served forever.
	deadline := time.Now().Add(60 * time.Second)
	for i, c := range conns {
		_ = c.SetReadDeadline(deadline)
		if _, err := io.ReadAll(c); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("trickler %d still held open 60 s later", i)
			}
		}
	}
}
