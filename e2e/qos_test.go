package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/qos"
	"github.com/flashback-network/flashback/oracle"
)

// qosEpochSeconds and friends shorten the dev genesis (10 s epochs, 6-epoch
// scoring periods) so that scores move within the test: a scoring period
// is 2 epochs of 5 s, and its score change lands 2 epochs after it ends.
const (
	qosEpochSeconds = 5
	qosScorePeriod  = 2
	qosUptimeWindow = 4
)

// TestQoSTwoOraclesTwoBridges is issue 4's acceptance on a real node
// process: two providers, each with one unit behind its own `flashback
// bridge` process — provider A's unit on a local disk (healthy), provider
// B's unit on an S3 backend pointing at a closed 127.0.0.1 port (every probe
// fails) — and two oracles as separate `flashback oracle` processes (the dev
// `oracle` key and a second key created and funded here). alice reserves on
// both units. After a few epochs, through the REST API: A's epochs are
// compliant with both oracles' reports in the median and A is paid and
// scored up; B's epochs are breached, B's stake slashed, alice compensated
// and B scored down; the network stats add up.
func TestQoSTwoOraclesTwoBridges(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a network with two bridges and two oracles for about a minute")
	}
	s := startQoSScenario(t)
	s.fundKeys()
	s.startBridges()
	s.reserveAndStartOracles()
	s.awaitJudged()
	s.checkHealthyHistory()
	s.checkFailingHistory()
	s.checkScoresAndOracles()
	s.checkSlashFromStake()
	s.claimHealthyRevenue()
	s.claimFailingCompensation()
	s.checkStats()
}

// qosScenario is the network of TestQoSTwoOraclesTwoBridges and what its
// steps learn about it, in the order the steps fill it in.
type qosScenario struct {
	t            *testing.T
	t0           time.Time
	base         int    // node base..+2; bridge A S3 base+10, ops +110; bridge B S3 base+20, ops +120
	home, homeB  string // provider A's (the dev home) and provider B's
	apiURL       string
	c            *client.Client
	p            *types.Params
	provA, provB string
	orc1, orc2   string
	alice        string
	opsA, opsB   string
	unitA, unitB string
	resA, resB   string
	qa, qb       *types.UnitQoSView
	claimed      core.Amount // provider A's final revenue claim
	comp         core.Amount // alice's compensation on B
}

func startQoSScenario(t *testing.T) *qosScenario {
	s := &qosScenario{t: t, t0: time.Now(), base: freeBase(t, 13)}
	s.home, s.apiURL, s.c = startQoSNode(t, s.base)
	// Bridge B is another provider's: its own home and keyring.
	s.homeB = filepath.Join(t.TempDir(), "provider-b")
	var err error
	if s.p, err = s.c.Params(t.Context()); err != nil {
		t.Fatal(err)
	}
	if s.p.EpochSeconds != qosEpochSeconds || s.p.ScorePeriodEpochs != qosScorePeriod {
		t.Fatalf("params: epoch %d s, score period %d epochs; the genesis patch did not take", s.p.EpochSeconds, s.p.ScorePeriodEpochs)
	}
	return s
}

// fb runs the CLI against provider A's (the dev) home; fbB against B's.
func (s *qosScenario) fb(args ...string) string {
	s.t.Helper()
	return run(s.t, append(args, "--home", s.home, "--node", s.apiURL)...)
}

func (s *qosScenario) fbB(args ...string) string {
	s.t.Helper()
	return run(s.t, append(args, "--home", s.homeB, "--node", s.apiURL)...)
}

// fundKeys makes the keys: provider B in its own home, a second oracle next
// to the dev one; both funded by alice.
func (s *qosScenario) fundKeys() {
	t, fb, fbB := s.t, s.fb, s.fbB
	fbB("keys", "add", "provider", "--unencrypted")
	s.provA, s.provB = strings.TrimSpace(fb("keys", "show", "provider")), strings.TrimSpace(fbB("keys", "show", "provider"))
	fb("keys", "add", "oracle2", "--unencrypted")
	s.orc1, s.orc2 = strings.TrimSpace(fb("keys", "show", "oracle")), strings.TrimSpace(fb("keys", "show", "oracle2"))
	s.alice = strings.TrimSpace(fb("keys", "show", "alice"))
	fb("tx", "bank", "send", s.provB, "5000FLASH", "--from", "alice")
	fb("tx", "bank", "send", s.orc2, "1500FLASH", "--from", "alice")
	if a, err := s.c.Account(t.Context(), s.orc2); err != nil || a.Balance != 1_500_000_000 {
		t.Fatalf("oracle2 funded: %+v %v", a, err)
	}
}

// startBridges configures the bridges — A serves unit-1 from a local disk,
// B serves unit-2 from an S3 endpoint nothing listens on — registers both
// providers with their units (which get these ids in this order on a fresh
// chain, checked) and starts the bridge processes.
func (s *qosScenario) startBridges() {
	t, fb, fbB, base := s.t, s.fb, s.fbB, s.base
	s3A, opsA := fmt.Sprintf("127.0.0.1:%d", base+10), fmt.Sprintf("127.0.0.1:%d", base+10+oracle.PortOffset)
	s3B, opsB := fmt.Sprintf("127.0.0.1:%d", base+20), fmt.Sprintf("127.0.0.1:%d", base+20+oracle.PortOffset)
	s.opsA, s.opsB = opsA, opsB
	badBackend := filepath.Join(t.TempDir(), "unreachable-s3.json")
	if err := os.WriteFile(badBackend, []byte(`{"kind":"s3","s3":{"endpoint":"http://127.0.0.1:1","bucket":"gone","path_style":true,"access_key_id":"x","secret_access_key":"x"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	bridgePub := func(out string) string { t.Helper(); return jsonString(t, out, "bridge_pub_key") }
	pubA := bridgePub(fb("bridge", "init", "--unit", "unit-1=local:"+filepath.Join(t.TempDir(), "unit-1"), "--listen", s3A, "--metrics-listen", opsA, "-o", "json"))
	pubB := bridgePub(fbB("bridge", "init", "--unit", "unit-2=@"+badBackend, "--listen", s3B, "--metrics-listen", opsB, "-o", "json"))

	addUnit := func(f func(...string) string, kind string) string {
		t.Helper()
		return jsonString(t, f("tx", "unit", "add", "--kind", kind, "--region", "eu-central", "--country", "DE", "--capacity", "100GiB",
			"--price", "2FLASH", "--egress-price", "0.01FLASH", "--sla-latency-ms", "5000", "--sla-uptime", "50", "--durability",
			"--auto-accept", "--from", "provider", "-o", "json"), "unit")
	}
	fb("tx", "provider", "register", "--name", "healthy", "--endpoint", "http://"+s3A, "--bridge-pubkey", pubA, "--from", "provider")
	fb("tx", "provider", "stake", "1000FLASH", "--from", "provider")
	s.unitA = addUnit(fb, "local")
	fbB("tx", "provider", "register", "--name", "failing", "--endpoint", "http://"+s3B, "--bridge-pubkey", pubB, "--from", "provider")
	fbB("tx", "provider", "stake", "1000FLASH", "--from", "provider")
	s.unitB = addUnit(fbB, "s3")
	if s.unitA != "unit-1" || s.unitB != "unit-2" {
		t.Fatalf("units %q and %q, want unit-1 and unit-2 (the bridges were configured for those)", s.unitA, s.unitB)
	}
	startBridge(t, s.home, s.apiURL)
	startBridge(t, s.homeB, s.apiURL)
	waitHealthz(t, opsA)
	waitHealthz(t, opsB)
}

// reserveAndStartOracles has alice reserve on both units, then starts the
// two oracles, each its own process registering itself.
func (s *qosScenario) reserveAndStartOracles() {
	t := s.t
	reserve := func(unit string) string {
		t.Helper()
		return jsonString(t, s.fb("tx", "reserve", unit, "--size", "10GiB", "--term", "30d", "--egress", "1GiB", "--from", "alice", "-o", "json"), "reservation")
	}
	s.resA, s.resB = reserve(s.unitA), reserve(s.unitB)

	for _, key := range []string{"oracle", "oracle2"} {
		startProcess(t, s.home, "oracle-"+key, "oracle", "--home", s.home, "--node", s.apiURL, "--from", key, "--register", "1000FLASH",
			"--interval", "250ms", "--pings", "5", "--probe-bytes", "256KiB", "--budget-per-unit", "4MiB")
	}
	eventually(t, 20*time.Second, func() error {
		st, err := s.c.Stats(t.Context())
		if err != nil {
			return err
		}
		if st.ActiveOracles != 2 {
			return fmt.Errorf("%d active oracles", st.ActiveOracles)
		}
		return nil
	})
	t.Logf("network ready after %s: %s (healthy, %s) and %s (failing, %s), oracles %s and %s",
		time.Since(s.t0).Round(time.Second), s.unitA, s.provA, s.unitB, s.provB, s.orc1, s.orc2)
}

// awaitJudged lets epochs pass: it waits until A has two compliant epochs
// judged with both reports, B two breached ones, and both scoring periods
// moved.
func (s *qosScenario) awaitJudged() {
	t, c, ctx := s.t, s.c, s.t.Context()
	twoReporters := func(q *types.UnitQoSView, status string) int {
		n := 0
		for _, h := range q.History {
			if h.Status == status && h.Reporters == 2 && h.Quorum == 2 {
				n++
			}
		}
		return n
	}
	eventually(t, 75*time.Second, func() error {
		var err error
		if s.qa, err = c.UnitQoS(ctx, s.unitA, client.EpochRange{}); err != nil {
			return err
		}
		if s.qb, err = c.UnitQoS(ctx, s.unitB, client.EpochRange{}); err != nil {
			return err
		}
		qa, qb := s.qa, s.qb
		if twoReporters(qa, qos.QoSCompliant) < 2 || twoReporters(qb, qos.QoSBreached) < 2 || qa.Score <= 50 || qb.Score >= 50 {
			return fmt.Errorf("A: score %d, history %+v; B: score %d, history %+v", qa.Score, qa.History, qb.Score, qb.History)
		}
		return nil
	})
	t.Logf("QoS judged after %s: A score %d, %d compliant; B score %d, %d breached", time.Since(s.t0).Round(time.Second), s.qa.Score, s.qa.Compliant, s.qb.Score, s.qb.Breached)
}

// checkHealthyHistory: every judged epoch of A compliant, none breached;
// reports from both oracles whenever there was a quorum.
// On a loaded machine an oracle can run out of epoch before its write
// and read-back probe (it reports what it measured), so integrity
// checks are required in some epoch, not in each.
func (s *qosScenario) checkHealthyHistory() {
	t, qa, unitA := s.t, s.qa, s.unitA
	integrity := false
	for _, h := range qa.History {
		switch h.Status {
		case qos.QoSCompliant:
			if h.Reporters != 2 || h.Successes == 0 || h.IntegrityFailed != 0 {
				t.Errorf("%s epoch %d compliant with %+v", unitA, h.Epoch, h)
			}
			integrity = integrity || h.IntegrityPassed > 0
		case qos.QoSNoQuorum, qos.QoSHeld:
			// An oracle joined mid-epoch: not the provider's fault (held,
			// then refunded if its reports never come).
		default:
			t.Errorf("%s (healthy) epoch %d is %s: %+v", unitA, h.Epoch, h.Status, h)
		}
	}
	if !integrity {
		t.Errorf("%s: no compliant epoch had a passed integrity check: %+v", unitA, qa.History)
	}
	if qa.Breached != 0 || qa.Slashed != 0 {
		t.Errorf("%s (healthy): %d breached epochs, %d slashed", unitA, qa.Breached, qa.Slashed)
	}
}

// checkFailingHistory: every judged epoch of B breached on reachability,
// slashed each time.
func (s *qosScenario) checkFailingHistory() {
	t, qb, unitB := s.t, s.qb, s.unitB
	for _, h := range qb.History {
		switch h.Status {
		case qos.QoSBreached:
			if h.Reporters != 2 || h.Successes != 0 || h.Slashed == 0 || !slices.Contains(h.Terms, "reachability") {
				t.Errorf("%s epoch %d breached with %+v", unitB, h.Epoch, h)
			}
		case qos.QoSNoQuorum, qos.QoSHeld:
		default:
			t.Errorf("%s (failing) epoch %d is %s: %+v", unitB, h.Epoch, h.Status, h)
		}
	}
	if qb.Slashed == 0 || qb.Compensation == 0 {
		t.Errorf("%s (failing): slashed %d, compensation %d", unitB, qb.Slashed, qb.Compensation)
	}
}

// checkScoresAndOracles checks the scores through the providers' view and
// that both oracles' reports entered the median.
func (s *qosScenario) checkScoresAndOracles() {
	t, c, ctx := s.t, s.c, s.t.Context()
	for _, pc := range []struct {
		addr string
		up   bool
	}{{s.provA, true}, {s.provB, false}} {
		ps, err := c.ProviderScore(ctx, pc.addr)
		if err != nil {
			t.Fatal(err)
		}
		if pc.up && ps.Score <= 50 || !pc.up && ps.Score >= 50 || ps.Units != 1 {
			t.Errorf("provider %s score %+v (want %s 50)", pc.addr, ps, map[bool]string{true: "above", false: "below"}[pc.up])
		}
	}

	for _, o := range []string{s.orc1, s.orc2} {
		ov, err := c.Oracle(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		if !ov.Active || ov.Reports < 2 || ov.InMedian == 0 || ov.Rewards == 0 {
			t.Errorf("oracle %s: %+v", o, ov.Oracle)
		}
	}
}

// checkSlashFromStake: B's slashes come out of its stake (1000 FLASH
// bonded, one unit).
func (s *qosScenario) checkSlashFromStake() {
	c, ctx := s.c, s.t.Context()
	eventually(s.t, 10*time.Second, func() error {
		q, err := c.UnitQoS(ctx, s.unitB, client.EpochRange{})
		if err != nil {
			return err
		}
		pv, err := c.Provider(ctx, s.provB)
		if err != nil {
			return err
		}
		if q.Slashed == 0 || pv.Stake+q.Slashed != 1_000_000_000 {
			return fmt.Errorf("provider B stake %d with %d slashed from its unit", pv.Stake, q.Slashed)
		}
		return nil
	})
}

// claimHealthyRevenue: A is paid: alice's reservation on A pays, and
// provider A claims its final revenue; its balance grows by the claim less
// its own tx fees.
func (s *qosScenario) claimHealthyRevenue() {
	t, c, ctx := s.t, s.c, s.t.Context()
	ra, err := c.Reservation(ctx, s.resA)
	if err != nil {
		t.Fatal(err)
	}
	if ra.Paid == 0 || ra.Status != market.ResActive {
		t.Errorf("%s on the healthy unit: paid %d, status %s", s.resA, ra.Paid, ra.Status)
	}
	eventually(t, 30*time.Second, func() error {
		u, err := c.Unit(ctx, s.unitA)
		if err != nil {
			return err
		}
		if u.Claimable == 0 {
			return fmt.Errorf("%s has no final revenue yet", s.unitA)
		}
		return nil
	})
	accBefore, err := c.Account(ctx, s.provA)
	if err != nil {
		t.Fatal(err)
	}
	s.claimed = txEventAmount(t, s.fb("tx", "provider", "claim", "--unit", s.unitA, "--from", "provider", "-o", "json"), "claim")
	accAfter, err := c.Account(ctx, s.provA)
	if err != nil {
		t.Fatal(err)
	}
	fees := core.Amount(accAfter.Sequence-accBefore.Sequence) * s.p.TxFee // the claim, and any usage report of A's bridge meanwhile
	if s.claimed == 0 || accAfter.Balance != accBefore.Balance+s.claimed-fees {
		t.Errorf("provider A claimed %d: balance %d -> %d with %d in tx fees", s.claimed, accBefore.Balance, accAfter.Balance, fees)
	}
}

// claimFailingCompensation: alice collects B's compensation; the
// reservation records it and her balance grows by it less the fee. The
// healthy unit's reservation has nothing to claim.
func (s *qosScenario) claimFailingCompensation() {
	t, c, ctx, resB := s.t, s.c, s.t.Context(), s.resB
	aliceBefore, err := c.Account(ctx, s.alice)
	if err != nil {
		t.Fatal(err)
	}
	// What is owed shows before it is collected (more breached epochs may
	// become final before the claim lands, never fewer).
	rb0, err := c.Reservation(ctx, resB)
	if err != nil {
		t.Fatal(err)
	}
	out := s.fb("tx", "reservation", "claim-compensation", resB, "--from", "alice", "-o", "json")
	comp := txEventAmount(t, out, "compensation_paid")
	s.comp = comp
	aliceAfter, err := c.Account(ctx, s.alice)
	if err != nil {
		t.Fatal(err)
	}
	// The CLI's printed balance change is the account's (cli_money_test.go
	// checks the other money commands).
	if got, want := jsonString(t, out, "balance_change"), fmt.Sprint(int64(aliceAfter.Balance)-int64(aliceBefore.Balance)); got != want {
		t.Errorf("claim-compensation printed balance_change %s; the account changed by %s", got, want)
	}
	if comp == 0 || aliceAfter.Balance != aliceBefore.Balance+comp-s.p.TxFee {
		t.Errorf("alice compensated %d: balance %d -> %d (tx fee %d)", comp, aliceBefore.Balance, aliceAfter.Balance, s.p.TxFee)
	}
	rb, err := c.Reservation(ctx, resB)
	if err != nil {
		t.Fatal(err)
	}
	if rb.Compensation != comp {
		t.Errorf("%s compensation %d, want the %d claimed", resB, rb.Compensation, comp)
	}
	if rb0.CompensationOwed == 0 || rb0.CompensationOwed > comp {
		t.Errorf("%s showed %d owed before a claim that paid %d", resB, rb0.CompensationOwed, comp)
	}
	// The healthy unit was never breached: nothing to claim there, refused
	// with the stable code.
	if out, err := runErr("tx", "reservation", "claim-compensation", s.resA, "--from", "alice", "--home", s.home, "--node", s.apiURL); err == nil || !strings.Contains(out, "not_found") {
		t.Errorf("claim on the healthy unit's reservation: %v\n%s", err, out)
	}
}

// checkStats checks the network stats add up.
func (s *qosScenario) checkStats() {
	t := s.t
	st, err := s.c.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if st.Slashed == 0 || st.Compensation == 0 || st.Paid == 0 || st.ActiveOracles != 2 || st.Compensation > st.Slashed || st.OracleRewards == 0 {
		t.Errorf("stats: %+v", st)
	}
	if st.Paid < s.claimed {
		t.Errorf("stats paid %d < the %d claimed by provider A", st.Paid, s.claimed)
	}
	t.Logf("done after %s: claimed %d, compensation %d; stats slashed %d, compensation %d, paid %d, oracle rewards %d",
		time.Since(s.t0).Round(time.Second), s.claimed, s.comp, st.Slashed, st.Compensation, st.Paid, st.OracleRewards)
}

// startQoSNode is startDevNode with the shorter QoS params.
func startQoSNode(t *testing.T, base int) (home, apiURL string, c *client.Client) {
	t.Helper()
	return startDevNodeParams(t, "e2e-qos", base, map[string]any{
		"epoch_seconds": qosEpochSeconds, "score_period_epochs": qosScorePeriod, "uptime_window_epochs": qosUptimeWindow})
}

// startDevNodeParams is startDevNode with params (genesis JSON names)
// patched into the dev genesis before the node's first start.
func startDevNodeParams(t *testing.T, chainID string, base int, params map[string]any) (home, apiURL string, c *client.Client) {
	t.Helper()
	home = filepath.Join(t.TempDir(), "home")
	run(t, "init", "--home", home, "--chain-id", chainID, "--dev", "--base-port", fmt.Sprint(base), "--block-time", "200ms")
	path := filepath.Join(home, "config", "genesis.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var g map[string]any
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	gp := g["app_state"].(map[string]any)["params"].(map[string]any)
	for k, v := range params {
		gp[k] = v
	}
	if b, err = json.MarshalIndent(g, "", "  "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	apiURL = fmt.Sprintf("http://127.0.0.1:%d", base+2)
	startNode(t, home, apiURL)
	c = client.New(apiURL)
	waitHeight(t, c, 2, 60*time.Second)
	t.Cleanup(func() {
		if t.Failed() {
			dumpLog(t, home)
		}
	})
	return home, apiURL, c
}

// txEventAmount reads a `-o json` tx result and returns the amount
// attribute of its first event of type typ.
func txEventAmount(t *testing.T, out, typ string) core.Amount {
	t.Helper()
	var res types.TxResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("tx output: %v\n%s", err, out)
	}
	v, err := core.ParseAmount(client.EventAttr(&res, typ, "amount"))
	if err != nil {
		t.Fatalf("no %s event with an amount (%v) in\n%s", typ, err, out)
	}
	return v
}
