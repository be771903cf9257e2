package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flashback-network/flashback/client"
)

// devRun is one `flashback dev` process and its combined output.
type devRun struct {
	cmd *exec.Cmd
	log string
}

func startDev(t *testing.T, home string, base, s3 int) *devRun {
	t.Helper()
	log := filepath.Join(t.TempDir(), "dev.log")
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "dev", "--home", home, "--base-port", fmt.Sprint(base),
		"--s3-addr", fmt.Sprintf("127.0.0.1:%d", s3), "--bridge-metrics-addr", fmt.Sprintf("127.0.0.1:%d", s3+5))
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &devRun{cmd: cmd, log: log}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		f.Close()
		if t.Failed() {
			b, _ := os.ReadFile(log)
			t.Logf("flashback dev output:\n%s", b)
		}
	})
	eventually(t, 120*time.Second, func() error {
		b, _ := os.ReadFile(log)
		if !strings.Contains(string(b), "Flashback dev platform is up") {
			return fmt.Errorf("dev platform not up yet")
		}
		return nil
	})
	return d
}

// stop ends dev with SIGINT, as Ctrl-C does, and waits for it.
func (d *devRun) stop(t *testing.T) {
	t.Helper()
	_ = d.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("flashback dev did not stop on SIGINT")
	}
}

// TestDevPortClashWritesNothing: a first start whose port is taken fails
// before it writes a home, naming the port and the flag that moves it.
func TestDevPortClashWritesNothing(t *testing.T) {
	base := freeBase(t, 2)
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", base+2)) // the REST API's port
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	home := filepath.Join(t.TempDir(), "devhome")
	out, err := runErr("dev", "--home", home, "--base-port", fmt.Sprint(base),
		"--s3-addr", fmt.Sprintf("127.0.0.1:%d", base+10), "--bridge-metrics-addr", fmt.Sprintf("127.0.0.1:%d", base+15))
	if err == nil {
		t.Fatalf("dev started on a taken port:\n%s", out)
	}
	for _, want := range []string{fmt.Sprintf("127.0.0.1:%d", base+2), "REST API", "--api-addr or --base-port", "nothing was started or written"} {
		if !strings.Contains(out, want) {
			t.Errorf("error lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(home); !os.IsNotExist(err) {
		t.Fatalf("the failed first start left %s behind (stat: %v)", home, err)
	}
}

// TestDevRestartOnOtherPorts: dev.env points the CLI at the platform, and
// a restart with another --base-port and --s3-addr takes effect: the node
// listens on the new ports and the chain knows the bridges moved.
func TestDevRestartOnOtherPorts(t *testing.T) {
	home := filepath.Join(t.TempDir(), "devhome")
	base := freeBase(t, 4)
	d := startDev(t, home, base, base+10)

	env := filepath.Join(home, "dev.env")
	sh := exec.Command("bash", "-c", fmt.Sprintf("source %s && %s keys list && %s status", env, binary, binary))
	sh.Env = append(os.Environ(), "FLASHBACK_HOME=", "FLASHBACK_NODE=")
	out, err := sh.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "alice") || !strings.Contains(string(out), "flashback-dev") {
		t.Fatalf("after source dev.env, keys list and status do not reach the dev platform: %v\n%s", err, out)
	}
	// Completion asks the node for ids: `query unit <TAB>`.
	if out := run(t, "__complete", "query", "unit", "--home", home, "unit-"); !strings.Contains(out, "unit-1") || !strings.Contains(out, "unit-3") {
		t.Fatalf("unit completion lacks the dev units:\n%s", out)
	}
	d.stop(t)

	base2 := base + 20
	startDev(t, home, base2, base2+10)
	c := client.New(fmt.Sprintf("http://127.0.0.1:%d", base2+2))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatalf("the restarted node does not serve on the new API port: %v", err)
	}
	if st.ChainID != "flashback-dev" {
		t.Fatalf("chain id %q", st.ChainID)
	}
	b, _ := os.ReadFile(env)
	if !strings.Contains(string(b), fmt.Sprintf("FLASHBACK_NODE='http://127.0.0.1:%d'", base2+2)) {
		t.Fatalf("dev.env does not name the new node address:\n%s", b)
	}
	provs, err := c.Providers(ctx, client.ProviderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	moved := 0
	for _, p := range provs.Providers {
		for i := 0; i < 3; i++ {
			if p.Endpoint == fmt.Sprintf("http://127.0.0.1:%d", base2+10+i) {
				moved++
			}
		}
	}
	if moved != 3 {
		t.Fatalf("%d of 3 providers' endpoints moved to the new S3 ports: %+v", moved, provs.Providers)
	}
}
