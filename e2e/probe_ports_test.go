package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
)

// probePortsEpochs is how many judged epochs every unit must pass.
const probePortsEpochs = 10

// TestDevProbesWithArbitraryPorts runs `flashback dev` with the bridges'
// S3 and metrics listeners on free ports that do not follow the old
// "ops = S3 + 100" rule: the oracle must find every bridge's probe endpoint
// from the registered endpoint alone, so for 10 epochs each unit's QoS on
// chain shows every probe passed, nothing is slashed and no provider's stake
// moves, and no bridge warns of failed probes.
func TestDevProbesWithArbitraryPorts(t *testing.T) {
	base := freeBase(t, 4) // base..base+39
	s3, metrics := base+10, base+20
	home := filepath.Join(t.TempDir(), "devhome")
	logPath := filepath.Join(t.TempDir(), "dev.log")
	startDevPlatform(t, logPath, "dev", "--home", home, "--base-port", fmt.Sprint(base), "--block-time", "200ms", "--epoch-seconds", "4",
		"--s3-addr", fmt.Sprintf("127.0.0.1:%d", s3), "--bridge-metrics-addr", fmt.Sprintf("127.0.0.1:%d", metrics))
	eventually(t, 120*time.Second, func() error {
		if b, _ := os.ReadFile(logPath); !strings.Contains(string(b), "Flashback dev platform is up") {
			return fmt.Errorf("dev platform not up yet")
		}
		return nil
	})
	c := client.New(fmt.Sprintf("http://127.0.0.1:%d", base+2))
	ctx := context.Background()
	units, err := c.Units(ctx, client.UnitFilter{Status: market.UnitAvailable})
	if err != nil || len(units.Units) != 3 {
		t.Fatalf("dev units: %+v, %v", units, err)
	}
	stakes := map[string]core.Amount{}
	for _, u := range units.Units {
		p, err := c.Provider(ctx, u.Provider)
		if err != nil {
			t.Fatal(err)
		}
		stakes[u.Provider] = p.Stake
	}

	// Every unit: probePortsEpochs epochs with probes, all of them passed.
	eventually(t, 150*time.Second, func() error {
		for _, u := range units.Units {
			if err := unitProbesAllPassed(t, ctx, c, u.ID); err != nil {
				return err
			}
		}
		return nil
	})
	for prov, before := range stakes {
		p, err := c.Provider(ctx, prov)
		if err != nil || p.Stake != before {
			t.Fatalf("provider %s stake %d -> %+v (%v)", prov, before, p, err)
		}
	}
	if b, _ := os.ReadFile(logPath); strings.Contains(string(b), "WARNING") {
		t.Fatalf("dev warned though every probe passed:\n%s", b)
	}
}

// unitProbesAllPassed is nil once unit has probePortsEpochs judged epochs
// with probes; an epoch with a failed probe or a slash fails the test.
func unitProbesAllPassed(t *testing.T, ctx context.Context, c *client.Client, unit string) error {
	t.Helper()
	q, err := c.UnitQoS(ctx, unit, client.EpochRange{})
	if err != nil {
		return err
	}
	probed := 0
	for _, h := range q.History {
		if h.Probes == 0 {
			continue // before the oracle's first round
		}
		if h.Successes != h.Probes || h.IntegrityFailed > 0 || h.Slashed != 0 || h.Status != "compliant" {
			t.Fatalf("%s epoch %d: %d/%d probes passed, integrity failed %d, slashed %d, status %s",
				unit, h.Epoch, h.Successes, h.Probes, h.IntegrityFailed, h.Slashed, h.Status)
		}
		probed++
	}
	if probed < probePortsEpochs {
		return fmt.Errorf("%s: %d of %d epochs judged with probes", unit, probed, probePortsEpochs)
	}
	return nil
}

// startDevPlatform runs the binary with args (a `flashback dev`) until the
// test ends, its output in logPath (printed if the test fails).
func startDevPlatform(t *testing.T, logPath string, args ...string) {
	t.Helper()
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	dev := exec.Command(binary, args...)
	dev.Stdout, dev.Stderr = logf, logf
	if err := dev.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = dev.Process.Kill()
		_ = dev.Wait()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			if len(b) > 8000 {
				b = b[len(b)-8000:]
			}
			t.Logf("flashback dev output:\n%s", b)
		}
	})
}
