// Package e2e runs the real flashback binary: nodes as subprocesses on
// 127.0.0.1, driven through the REST API with the Go client.
package e2e

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flashback-network/flashback/chain/chaintest"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/keyring"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "flashback-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "flashback")
	// The CLI's profiles of whoever runs the tests must not steer them.
	os.Setenv("FLASHBACK_CONFIG", filepath.Join(dir, "config.json"))
	build := exec.Command("go", "build", "-o", binary, "../cmd/flashback")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build flashback:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run executes the binary and returns stdout, failing the test on error.
func run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := runErr(args...)
	if err != nil {
		t.Fatalf("flashback %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// homeCLI returns run with `--home home` appended to each command.
func homeCLI(t *testing.T, home string) func(args ...string) string {
	return func(args ...string) string {
		t.Helper()
		return run(t, append(args, "--home", home)...)
	}
}

func runErr(args ...string) (string, error) {
	cmd := exec.Command(binary, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String() + stderr.String(), err
	}
	return stdout.String(), nil
}

// freeBase finds n*10 consecutive free ports starting at a multiple of 10.
func freeBase(t *testing.T, n int) int { t.Helper(); return chaintest.FreePortRange(t, 10*n) }

// proc is a running node subprocess.
type proc struct {
	cmd  *exec.Cmd
	home string
	log  *os.File
	api  string
	done chan struct{}
}

func startNode(t *testing.T, home, api string) *proc {
	t.Helper()
	logf, err := os.OpenFile(filepath.Join(home, "node.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "node", "--home", home)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, home: home, log: logf, api: api, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.kill() })
	return p
}

func (p *proc) kill() {
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
	p.log.Close()
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("node %s did not stop on SIGTERM", p.home)
	}
	p.log.Close()
}

// waitHeight waits until the node's API reports at least height h.
func waitHeight(t *testing.T, c *client.Client, h int64, timeout time.Duration) int64 {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		st, err := c.Status(ctx)
		cancel()
		if err == nil && st.Height >= h && !st.CatchingUp {
			return st.Height
		}
		if time.Now().After(deadline) {
			t.Fatalf("node did not reach height %d in %s (last: %+v, err %v)", h, timeout, st, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func devKey(t *testing.T, home, name string) ed25519.PrivateKey {
	t.Helper()
	kr, err := keyring.Open(filepath.Join(home, "keyring"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := kr.PrivKey(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func dumpLog(t *testing.T, home string) {
	b, _ := os.ReadFile(filepath.Join(home, "node.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	t.Logf("%s/node.log tail:\n%s", home, b)
}

// startDevNode inits a dev home (funded keys alice, bob, provider, oracle)
// with P2P, RPC and REST on base, base+1, base+2, starts its node and waits
// for it to produce blocks.
func startDevNode(t *testing.T, chainID string, base int) (home, apiURL string, c *client.Client) {
	t.Helper()
	home = filepath.Join(t.TempDir(), "home")
	run(t, "init", "--home", home, "--chain-id", chainID, "--dev", "--base-port", fmt.Sprint(base), "--block-time", "200ms")
	apiURL = fmt.Sprintf("http://127.0.0.1:%d", base+2)
	startNode(t, home, apiURL)
	c = client.New(apiURL)
	waitHeight(t, c, 2, 60*time.Second)
	return home, apiURL, c
}

// startBridge runs `flashback bridge` for the home (configured beforehand
// with `bridge init`) as a subprocess; its log, home/bridge.log, is printed
// if the test fails.
func startBridge(t *testing.T, home, apiURL string) {
	t.Helper()
	startProcess(t, home, "bridge", "bridge", "--home", home, "--node", apiURL)
}

// startProcess runs the binary with args until the test ends; its output
// goes to dir/name.log, printed if the test fails.
func startProcess(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			if len(b) > 6000 {
				b = b[len(b)-6000:]
			}
			t.Logf("%s:\n%s", logPath, b)
		}
	})
}

// jsonString is the non-empty string field of a command's `-o json`
// output (a created id, a bridge key); the test fails without it.
func jsonString(t *testing.T, out, field string) string {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("output is not JSON (%v):\n%s", err, out)
	}
	s, _ := v[field].(string)
	if s == "" {
		t.Fatalf("output has no %q:\n%s", field, out)
	}
	return s
}

// waitHealthz waits up to 20 s for a bridge's ops server at addr to answer
// /healthz.
func waitHealthz(t *testing.T, addr string) {
	t.Helper()
	eventually(t, 20*time.Second, func() error {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	})
}
