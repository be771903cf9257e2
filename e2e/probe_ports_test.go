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
// moves, and no bridge warns of failed probes. Then unit-1's disk breaks
// and dev's console warns of its failing probes.
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

	// Now the first provider's disk breaks (its unit's directory becomes
	// a file): the probes of unit-1 fail and dev's console says so.
	dir := filepath.Join(home, "unit-data", "unit-1")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, func() error {
		b, _ := os.ReadFile(logPath)
		if !strings.Contains(string(b), "bridge: WARNING: unit unit-1 epoch ") || !strings.Contains(string(b), "oracle probes FAILED") {
			return fmt.Errorf("dev has not warned of unit-1's failing probes yet")
		}
		return nil
	})
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

// TestBridgeWarnsOfFailedProbes: a provider lists unit-1, served by its
// bridge (ops listener on an arbitrary port), and unit-2, which the bridge
// does not serve. A real oracle probes both: unit-1's probes pass through
// the S3 port, unit-2's fail, and the bridge logs a WARNING naming unit-2,
// the epoch and the failed probes, and none for unit-1.
func TestBridgeWarnsOfFailedProbes(t *testing.T) {
	base := freeBase(t, 4)
	home, apiURL, c := startDevNodeParams(t, "e2e-probe-warn", base, map[string]any{"epoch_seconds": 4})
	fb := homeCLI(t, home)
	s3Addr, opsAddr := fmt.Sprintf("127.0.0.1:%d", base+10), fmt.Sprintf("127.0.0.1:%d", base+27)
	pub := jsonString(t, fb("bridge", "init", "--unit", "unit-1=local:"+filepath.Join(t.TempDir(), "unit-1"), "--listen", s3Addr,
		"--metrics-listen", opsAddr, "-o", "json"), "bridge_pub_key")
	fb("tx", "provider", "register", "--name", "warn e2e", "--endpoint", "http://"+s3Addr, "--bridge-pubkey", pub, "--from", "provider")
	fb("tx", "provider", "stake", "2000FLASH", "--from", "provider")
	for range 2 {
		fb("tx", "unit", "add", "--kind", "local", "--region", "eu-central", "--country", "DE", "--capacity", "10GiB",
			"--price", "1FLASH", "--egress-price", "0.01FLASH", "--auto-accept", "--from", "provider")
	}
	startBridge(t, home, apiURL)
	waitHealthz(t, opsAddr)
	oracleOps := fmt.Sprintf("127.0.0.1:%d", base+29)
	startProcess(t, home, "oracle", "oracle", "--home", home, "--node", apiURL, "--register", "1000FLASH",
		"--pings", "3", "--probe-bytes", "256KiB", "--metrics-listen", oracleOps)

	logPath := filepath.Join(home, "bridge.log")
	eventually(t, 120*time.Second, func() error {
		b, _ := os.ReadFile(logPath)
		log := string(b)
		if strings.Contains(log, "WARNING: unit unit-1 ") {
			t.Fatalf("the bridge warned of unit-1, whose probes pass:\n%s", log)
		}
		if !strings.Contains(log, "WARNING: unit unit-2 epoch ") || !strings.Contains(log, "oracle probes FAILED") ||
			!strings.Contains(log, "this bridge does not serve unit-2") {
			return fmt.Errorf("no warning of unit-2 in the bridge log yet")
		}
		return nil
	})
	// unit-1's probes went through the S3 port and passed.
	q, err := c.UnitQoS(context.Background(), "unit-1", client.EpochRange{})
	if err != nil {
		t.Fatal(err)
	}
	passed := 0
	for _, h := range q.History {
		if h.Probes > 0 && h.Successes == h.Probes {
			passed++
		}
	}
	if passed == 0 {
		t.Fatalf("unit-1 has no epoch with all probes passed: %+v", q.History)
	}
	// The oracle's own metrics tell the same story.
	if code, body, err := httpGet("http://" + oracleOps + "/readyz"); err != nil || code != 200 {
		t.Fatalf("oracle /readyz: %d %v %s", code, err, body)
	}
	eventually(t, 30*time.Second, func() error {
		_, body, err := httpGet("http://" + oracleOps + "/metrics")
		if err != nil {
			return err
		}
		for _, want := range []string{`flashback_oracle_probes_total{result="ok",unit="unit-1"}`, `flashback_oracle_probes_total{result="failed",unit="unit-2"}`,
			`flashback_oracle_reports_total{result="committed"}`, "flashback_oracle_report_lag_seconds_count", "flashback_oracle_last_reported_epoch"} {
			if !strings.Contains(body, want) {
				return fmt.Errorf("oracle /metrics lacks %q:\n%s", want, body)
			}
		}
		return nil
	})
}
