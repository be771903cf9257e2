package e2e

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/dispute"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/params"
	"github.com/flashback-network/flashback/oracle"
)

// TestDisputeEndToEnd: a real node, a provider's bridge on a local-disk
// unit, two oracle daemons (`flashback oracle`, which also watch
// disputes). alice stores two files with `flashback store` (receipts in
// her journal). The provider deletes a.txt from its disk behind the
// bridge's back; `flashback dispute open --key a.txt` is upheld by both
// oracles (they read through the dispute's key and get 404): the provider
// loses dispute_slash of stake to alice, who gets her deposit back. A
// false dispute on the intact b.bin is rejected (both oracles hash it and
// match the receipt) and costs alice the deposit, shared by the oracles.
// Then an egress dispute is settled at alice's figure and, with the bridge
// down, an unavailable dispute is upheld.
func TestDisputeEndToEnd(t *testing.T) {
	t0 := time.Now()
	s := startDisputeScenario(t)
	t.Logf("network ready after %s", time.Since(t0).Round(time.Second))
	s.lostObject()
	s.falseDispute()
	checkDisputeViews(t, s.fb, s.c, s.res, s.alice, s.prov)
	checkEgressDispute(t, s.fb, s.c, s.res, s.alice, s.fee)
	s.stopBridge()
	checkUnavailableDispute(t, s.fb, s.c, s.res, s.alice, s.fee, s.slash)
	t.Logf("done in %s", time.Since(t0).Round(time.Second))
}

// disputeScenario is TestDisputeEndToEnd's network and what it stored.
type disputeScenario struct {
	t                   *testing.T
	fb                  func(args ...string) string
	c                   *client.Client
	unitDir, res        string
	alice, prov         string
	slash, deposit, fee core.Amount
	stopBridge          func()
}

// startDisputeScenario starts the node, the provider's bridge, the two
// oracles and alice's reservation with a.txt and b.bin, and waits until
// both oracles would hear a dispute on it (assigned from the epoch after
// they registered, seal keys on chain).
func startDisputeScenario(t *testing.T) *disputeScenario {
	base := freeBase(t, 12)
	home, apiURL, c := startDevNode(t, "e2e-dispute", base)
	s := &disputeScenario{t: t, fb: homeCLI(t, home), c: c, unitDir: filepath.Join(t.TempDir(), "unit-1")}
	fb := s.fb
	s3Addr, opsAddr := fmt.Sprintf("127.0.0.1:%d", base+10), fmt.Sprintf("127.0.0.1:%d", base+10+oracle.PortOffset)
	pub := jsonString(t, fb("bridge", "init", "--unit", "unit-1=local:"+s.unitDir, "--listen", s3Addr, "--metrics-listen", opsAddr, "-o", "json"), "bridge_pub_key")
	fb("tx", "provider", "register", "--name", "dispute e2e", "--endpoint", "http://"+s3Addr, "--bridge-pubkey", pub, "--from", "provider")
	fb("tx", "provider", "stake", "2000FLASH", "--from", "provider")
	fb("tx", "unit", "add", "--kind", "local", "--region", "eu-central", "--country", "DE", "--capacity", "10GiB",
		"--price", "1FLASH", "--egress-price", "0.01FLASH", "--auto-accept", "--from", "provider")
	s.stopBridge = startBridgeProc(t, home, apiURL)
	waitHealthz(t, opsAddr)

	fb("keys", "add", "oracle2", "--unencrypted")
	fb("tx", "bank", "send", strings.TrimSpace(fb("keys", "show", "oracle2")), "3000FLASH", "--from", "bob")
	for _, key := range []string{"oracle", "oracle2"} {
		startProcess(t, home, "oracle-"+key, "oracle", "--home", home, "--node", apiURL, "--from", key, "--register", "2000FLASH",
			"--interval", "250ms", "--pings", "3", "--probe-bytes", "64KiB", "--budget-per-unit", "1MiB")
	}
	dir := t.TempDir()
	small, big := []byte("the consumer's precious data\n"), []byte(strings.Repeat("intact bytes ", 5000))
	for name, b := range map[string][]byte{"a.txt": small, "b.bin": big} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s.res = jsonString(t, fb("store", filepath.Join(dir, "a.txt"), filepath.Join(dir, "b.bin"), "--term", "1d", "--max-price", "2FLASH",
		"--from", "alice", "-o", "json"), "reservation")
	ctx := context.Background()
	eventually(t, 40*time.Second, func() error {
		p, err := c.DisputePanel(ctx, s.res)
		if err != nil {
			return err
		}
		if len(p.Oracles) != 2 {
			return fmt.Errorf("panel of %s in epoch %d: %d oracles", s.res, p.Epoch, len(p.Oracles))
		}
		return nil
	})
	pr, err := c.Params(ctx)
	if err != nil {
		t.Fatal(err)
	}
	def := params.Default()
	s.slash, s.deposit, s.fee = orDefault(pr.DisputeSlash, def.DisputeSlash), orDefault(pr.DisputeDeposit, def.DisputeDeposit), pr.TxFee
	s.alice, s.prov = strings.TrimSpace(fb("keys", "show", "alice")), strings.TrimSpace(fb("keys", "show", "provider"))
	return s
}

// lostObject: the provider loses a.txt behind the bridge's back; alice's
// dispute with its receipt is upheld.
func (s *disputeScenario) lostObject() {
	t, c := s.t, s.c
	deleteObjectFile(t, s.unitDir, "a.txt")
	aliceBefore, stakeBefore := mustBalance(t, c, s.alice), providerStake(t, c, s.prov)
	var opened client.OpenedDispute
	mustJSON(t, s.fb("dispute", "open", s.res, "--key", "a.txt", "--from", "alice", "-o", "json"), &opened)
	d := waitDecided(t, c, opened.ID)
	if d.Status != dispute.StatusUpheld || d.Slashed != s.slash || d.DepositTo != "consumer" || d.VerdictsGiven < 2 {
		t.Fatalf("lost object: %+v", d)
	}
	for _, seat := range d.Panel {
		if seat.Verdict != dispute.VerdictUpheld || !strings.Contains(seat.Observed, "404") {
			t.Fatalf("verdict %+v, want upheld on a 404", seat)
		}
	}
	if got := mustBalance(t, c, s.alice); got != aliceBefore-s.fee+s.slash {
		t.Fatalf("alice %d after the upheld dispute, want %d (deposit back, %d compensation)", got, aliceBefore-s.fee+s.slash, s.slash)
	}
	if got := providerStake(t, c, s.prov); got > stakeBefore-s.slash {
		t.Fatalf("provider stake %d, want at most %d", got, stakeBefore-s.slash)
	}
	if _, err := c.AccessKey(context.Background(), opened.AccessKeyID); !client.IsCode(err, core.CodeNotFound) {
		t.Fatalf("dispute key %s after the dispute: %v", opened.AccessKeyID, err)
	}
}

// falseDispute: b.bin is intact; the dispute is rejected and costs alice
// the deposit.
func (s *disputeScenario) falseDispute() {
	t, c := s.t, s.c
	aliceBefore := mustBalance(t, c, s.alice)
	var opened client.OpenedDispute
	mustJSON(t, s.fb("dispute", "open", s.res, "--key", "b.bin", "--from", "alice", "-o", "json"), &opened)
	d := waitDecided(t, c, opened.ID)
	if d.Status != dispute.StatusRejected || d.Slashed != 0 || d.DepositTo != "oracles" {
		t.Fatalf("false dispute: %+v", d)
	}
	for _, seat := range d.Panel {
		if seat.Verdict != dispute.VerdictRejected || seat.Observed != "sha256:"+d.ContentHash {
			t.Fatalf("verdict %+v, want rejected with the receipt's hash %s", seat, d.ContentHash)
		}
	}
	if got := mustBalance(t, c, s.alice); got != aliceBefore-s.fee-s.deposit {
		t.Fatalf("alice %d after the false dispute, want %d (deposit lost)", got, aliceBefore-s.fee-s.deposit)
	}
}

// checkEgressDispute: the oracles' reads of b.bin are egress the bridge
// reports for an epoch; alice says she read nothing that epoch. Oracles
// cannot tell, so it is settled at her figure: the charge of the reported
// bytes comes back to her.
func checkEgressDispute(t *testing.T, fb func(...string) string, c *client.Client, res, alice string, fee core.Amount) {
	ctx := context.Background()
	var r *types.ReservationView
	eventually(t, 25*time.Second, func() error {
		var err error
		if r, err = c.Reservation(ctx, res); err != nil {
			return err
		}
		if r.EgressUsed == 0 {
			return fmt.Errorf("no egress reported for %s yet", res)
		}
		return nil
	})
	before := mustBalance(t, c, alice)
	var opened client.OpenedDispute
	mustJSON(t, fb("dispute", "open", res, "--kind", "egress", "--epoch", fmt.Sprint(r.LastUsage), "--egress", "0", "--from", "alice", "-o", "json"), &opened)
	d := waitDecided(t, c, opened.ID)
	net, egFee, err := market.EgressCharge(r.EgressUsed, r.EgressPrice, r.FeeBps)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != dispute.StatusUndecided || d.ReportedEgress != r.EgressUsed || d.EgressRefund != net+egFee || d.EgressRefund == 0 {
		t.Fatalf("egress dispute of %d reported bytes: %+v, want undecided with refund %d", r.EgressUsed, d, net+egFee)
	}
	for _, s := range d.Panel {
		if s.Verdict != dispute.VerdictCannotTell {
			t.Fatalf("egress verdict %+v, want cannot_tell", s)
		}
	}
	if got := mustBalance(t, c, alice); got != before-fee+d.EgressRefund {
		t.Fatalf("alice %d after the egress dispute, want %d", got, before-fee+d.EgressRefund)
	}
}

// checkUnavailableDispute: with the bridge down, alice disputes the
// current epoch; nothing is on record for it yet, so the oracles probe
// the unit, find it unreachable and uphold: dispute_slash and the epoch's
// storage cost come to alice.
func checkUnavailableDispute(t *testing.T, fb func(...string) string, c *client.Client, res, alice string, fee, slash core.Amount) {
	ctx := context.Background()
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Params(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before := mustBalance(t, c, alice)
	e := st.LatestBlockTime.Unix() / p.EpochSeconds
	var opened client.OpenedDispute
	mustJSON(t, fb("dispute", "open", res, "--kind", "unavailable", "--epochs", fmt.Sprint(e), "--from", "alice", "-o", "json"), &opened)
	d := waitDecided(t, c, opened.ID)
	if d.Status != dispute.StatusUpheld || d.Slashed != slash || d.EpochRefund == 0 {
		t.Fatalf("unavailable dispute with the bridge down: %+v", d)
	}
	for _, s := range d.Panel {
		if s.Verdict != dispute.VerdictUpheld || !strings.Contains(s.Observed, "unreachable now") {
			t.Fatalf("unavailable verdict %+v, want upheld on failed probes", s)
		}
	}
	if got := mustBalance(t, c, alice); got != before-fee+slash+d.EpochRefund {
		t.Fatalf("alice %d after the unavailable dispute, want %d", got, before-fee+slash+d.EpochRefund)
	}
}

// startBridgeProc is startBridge with a stop function (a provider whose
// bridge goes down).
func startBridgeProc(t *testing.T, home, apiURL string) (stop func()) {
	t.Helper()
	logf, err := os.Create(filepath.Join(home, "bridge.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "bridge", "--home", home, "--node", apiURL)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			logf.Close()
		})
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			if len(b) > 6000 {
				b = b[len(b)-6000:]
			}
			t.Logf("bridge.log:\n%s", b)
		}
	})
	return stop
}

func orDefault(v, d core.Amount) core.Amount {
	if v == 0 {
		return d
	}
	return v
}

// checkDisputeViews: the CLI lists both disputes; both sides' counts are
// public.
func checkDisputeViews(t *testing.T, fb func(...string) string, c *client.Client, res, alice, prov string) {
	var page types.DisputesPage
	mustJSON(t, fb("dispute", "ls", "--reservation", res, "-o", "json"), &page)
	if len(page.Disputes) != 2 || page.Disputes[0].Status != dispute.StatusUpheld || page.Disputes[1].Status != dispute.StatusRejected {
		t.Fatalf("dispute ls: %+v", page)
	}
	var shown types.Dispute
	mustJSON(t, fb("dispute", "show", page.Disputes[0].ID, "-o", "json"), &shown)
	if shown.Key != "a.txt" || shown.Kind != dispute.KindDataLoss {
		t.Fatalf("dispute show: %+v", shown)
	}
	ctx := context.Background()
	a, err := c.DisputeAccount(ctx, alice)
	if err != nil || a.Consumer.Opened != 2 || a.Consumer.Upheld != 1 || a.Consumer.Rejected != 1 || a.Consumer.Open != 0 {
		t.Fatalf("alice's dispute counts: %+v %v", a, err)
	}
	p, err := c.DisputeAccount(ctx, prov)
	if err != nil || p.Provider.Against != 2 || p.Provider.Upheld != 1 || p.Provider.Rejected != 1 {
		t.Fatalf("provider's dispute counts: %+v %v", p, err)
	}
}

// waitDecided waits (30 s at most) for dispute id to close.
func waitDecided(t *testing.T, c *client.Client, id string) *types.Dispute {
	t.Helper()
	var d *types.Dispute
	eventually(t, 30*time.Second, func() error {
		var err error
		if d, err = c.Dispute(context.Background(), id); err != nil {
			return err
		}
		if d.Status == dispute.StatusOpen {
			return fmt.Errorf("dispute %s still open: %+v", id, d.Panel)
		}
		return nil
	})
	return d
}

func providerStake(t *testing.T, c *client.Client, addr string) core.Amount {
	t.Helper()
	p, err := c.Provider(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	return p.Stake
}

// deleteObjectFile removes the one file under the unit's objects
// directory holding key (KEY.o, see storage.Local), as a provider losing
// data would.
func deleteObjectFile(t *testing.T, unitDir, key string) {
	t.Helper()
	var found []string
	err := filepath.WalkDir(filepath.Join(unitDir, "objects"), func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() && e.Name() == key+".o" {
			found = append(found, p)
		}
		return err
	})
	if err != nil || len(found) != 1 {
		t.Fatalf("object file %s under %s: %v %v", key, unitDir, found, err)
	}
	if err := os.Remove(found[0]); err != nil {
		t.Fatal(err)
	}
}
