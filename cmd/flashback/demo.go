package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/api"
	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/bridge/daemon"
	"github.com/flashback-network/flashback/chain"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract"
	"github.com/flashback-network/flashback/contract/accesskey"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/qos"
	"github.com/flashback-network/flashback/keyring"
	"github.com/flashback-network/flashback/oracle"
	"github.com/flashback-network/flashback/storage"
)

// The demo network: two providers, one healthy local unit (A) and one whose
// bridge points it at an unreachable S3 endpoint (B), one oracle, alice
// reserving on both.
const (
	demoEpochSeconds = 4
	demoBlockTime    = 200 * time.Millisecond
	demoUnitSize     = 100 << 30
	demoResSize      = 50 << 30
	demoResTerm      = 30 * 86400
	demoStake        = core.Amount(10_000_000_000)
	demoPriceA       = core.Amount(2_000_000)
	demoPriceB       = core.Amount(1_500_000)
	demoObjectSize   = 1 << 20
	demoMaxRuntime   = 150 * time.Second
	demoProvider2Key = "provider2"
)

// DemoStep is one checked step of the story.
type DemoStep struct {
	N       int     `json:"n"`
	Name    string  `json:"name"`
	OK      bool    `json:"ok"`
	Detail  string  `json:"detail,omitempty"`
	Error   string  `json:"error,omitempty"`
	Seconds float64 `json:"seconds"`
}

// DemoReport is what `flashback demo -o json` prints.
type DemoReport struct {
	OK      bool       `json:"ok"`
	Seconds float64    `json:"seconds"`
	Home    string     `json:"home,omitempty"` // kept with --keep
	API     string     `json:"api,omitempty"`
	Steps   []DemoStep `json:"steps"`

	Units        map[string]string `json:"units"`        // "a", "b" -> unit id
	Reservations map[string]string `json:"reservations"` // "a", "b" -> reservation id
	Payment      struct {
		Provider string      `json:"provider"`
		Unit     string      `json:"unit"`
		Claimed  core.Amount `json:"claimed"`
	} `json:"payment"`
	Breach struct {
		Unit   string   `json:"unit"`
		Epochs []int64  `json:"epochs"`
		Terms  []string `json:"terms"`
		// Slashed is the stake slashed from unit B over its breached epochs.
		Slashed core.Amount `json:"slashed"`
	} `json:"breach"`
	Compensation struct {
		Reservation string      `json:"reservation"`
		Consumer    string      `json:"consumer"`
		Amount      core.Amount `json:"amount"`
	} `json:"compensation"`
	Scores struct {
		ABefore uint32 `json:"a_before"`
		AAfter  uint32 `json:"a_after"`
		BBefore uint32 `json:"b_before"`
		BAfter  uint32 `json:"b_after"`
	} `json:"scores"`
	Balances map[string]core.Amount `json:"balances"`
	Stats    *types.StatsView       `json:"stats,omitempty"`
}

func demoCmd(g *globals) *cobra.Command {
	var keep bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the platform's story on a fresh throwaway dev network and print a checked report (exit 0 only if every check passes)",
		Long: `demo starts a fresh dev network in a temporary home (one process: a validator
with 200 ms blocks and 4 s epochs, the REST API, two providers each with its own
bridge, one oracle) and runs the story: market listing, quote, reservations,
access key, upload and download through the bridge, the healthy provider's
payment, the failing unit's SLA breach, the consumer's compensation and the
score change, then final balances and network stats. Every step is checked;
the exit code is 0 only if all checks pass. The home is removed unless --keep.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runDemo(g, keep)
		},
	}
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the demo's home directory (chain data, keys, bridge data, log)")
	return cmd
}

type demo struct {
	g      *globals
	ctx    context.Context // bounds the whole demo
	start  time.Time
	rep    *DemoReport
	text   bool
	home   string
	logw   io.Writer
	c      *client.Client
	apiURL string

	alice, provA, provB, orcSigner *client.Signer
	unitA, unitB, resA, resB       string
	s3A                            string
}

func runDemo(g *globals, keep bool) (err error) {
	start := time.Now()
	home, err := os.MkdirTemp("", "flashback-demo-")
	if err != nil {
		return err
	}
	logPath := filepath.Join(home, "demo.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	d := &demo{g: g, start: start, home: home, text: g.output != "json",
		rep: &DemoReport{Units: map[string]string{}, Reservations: map[string]string{}, Balances: map[string]core.Amount{}}}
	d.logw = &lockedWriter{w: logf}
	runCtx, cancel := context.WithTimeout(context.Background(), demoMaxRuntime)
	defer cancel()
	d.ctx = runCtx
	// Everything started below stops when ctx is cancelled; stop waits for it.
	var wg sync.WaitGroup
	var node *chain.Node
	var srv *http.Server
	defer func() {
		cancel()
		wg.Wait()
		if srv != nil {
			sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = srv.Shutdown(sctx)
			scancel()
		}
		if node != nil {
			_ = node.Stop()
		}
		logf.Close()
		if err != nil {
			fmt.Fprintf(os.Stderr, "demo failed; last lines of %s:\n", logPath)
			tailFile(os.Stderr, logPath, 30)
		}
		if keep {
			fmt.Fprintf(os.Stderr, "demo home kept at %s (log: %s)\n", home, logPath)
		} else {
			_ = os.RemoveAll(home)
		}
	}()
	if keep {
		d.rep.Home = home
	}
	d.header("Flashback demo: a fresh dev network in %s", home)

	// ---- the network ----
	var apiAddr string
	var bridgePorts [2]int
	ok := d.step("start a fresh dev network (validator, REST API)", 40*time.Second, func(ctx context.Context) (string, error) {
		kr, err := keyring.Open(filepath.Join(home, "keyring"))
		if err != nil {
			return "", err
		}
		k2, err := kr.Add(demoProvider2Key, nil)
		if err != nil {
			return "", err
		}
		p := chain.DevParams()
		p.EpochSeconds = demoEpochSeconds
		p.SettleLagEpochs = 2 // the smallest lag QoS can still mark breaches within
		p.ScorePeriodEpochs = 2
		p.UptimeWindowEpochs = 4
		p.AcceptTimeout = 600
		base, err := freePorts(3, 0)
		if err != nil {
			return "", err
		}
		for i := range bridgePorts {
			// The oracles find the probe endpoint at the S3 port + 100.
			if bridgePorts[i], err = freePorts(1, oracle.PortOffset); err != nil {
				return "", err
			}
		}
		if err := chain.Init(chain.InitOptions{Home: home, ChainID: "flashback-demo", Moniker: "demo", Dev: true,
			BlockTime: demoBlockTime, BasePort: base, Params: &p,
			Accounts: []contract.GenesisAccount{{Address: k2.Address, Balance: chain.DevBalance}}}); err != nil {
			return "", err
		}
		apiAddr = fmt.Sprintf("127.0.0.1:%d", base+2)
		ln, err := net.Listen("tcp", apiAddr)
		if err != nil {
			return "", fmt.Errorf("REST API address: %w", err)
		}
		node, err = chain.StartNode(home, chain.NodeOptions{BlockTime: demoBlockTime, LogOutput: logf})
		if err != nil {
			ln.Close()
			return "", err
		}
		srv = &http.Server{Handler: api.New(node.RPC), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		d.apiURL = "http://" + ln.Addr().String()
		d.rep.API = d.apiURL
		d.c = client.New(d.apiURL)
		if err := waitForHeight(ctx, d.c, 2); err != nil {
			return "", err
		}
		key := func(name string) ed25519.PrivateKey {
			k, kerr := kr.PrivKey(name, nil)
			if kerr != nil && err == nil {
				err = fmt.Errorf("key %s: %w", name, kerr)
			}
			return k
		}
		d.alice, d.provA, d.provB, d.orcSigner = d.c.Signer(key("alice")), d.c.Signer(key("provider")), d.c.Signer(key(demoProvider2Key)), d.c.Signer(key("oracle"))
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("chain flashback-demo, %s blocks, %d s epochs, score period %d epochs, settle lag %d; API %s",
			demoBlockTime, p.EpochSeconds, p.ScorePeriodEpochs, p.SettleLagEpochs, d.apiURL), nil
	})

	// Providers, units, bridges and the oracle.
	bridgeHome := func(i int) string { return filepath.Join(home, fmt.Sprintf("bridge-%c", 'a'+i)) }
	ok = ok && d.step("two providers register, stake and add a unit each", 30*time.Second, func(ctx context.Context) (string, error) {
		var ids [2]string
		for i, prov := range []*client.Signer{d.provA, d.provB} {
			pub, _, err := daemon.LoadOrCreateKey(bridgeHome(i))
			if err != nil {
				return "", err
			}
			name := []string{"Acme Disk (healthy)", "Flaky Storage (misconfigured)"}[i]
			price := []core.Amount{demoPriceA, demoPriceB}[i]
			if _, err := prov.Submit(ctx,
				&market.MsgRegisterProvider{Name: name, Description: "flashback demo provider", Website: "https://localhost",
					Endpoint: fmt.Sprintf("http://127.0.0.1:%d", bridgePorts[i]), BridgePubKey: pub[:]},
				&market.MsgStake{Amount: demoStake}); err != nil {
				return "", fmt.Errorf("register %s: %w", name, err)
			}
			if ids[i], _, err = prov.AddUnit(ctx, market.MsgAddUnit{Kind: []string{"local", "s3"}[i], Region: "local", Country: "US",
				Capacity: demoUnitSize, StoragePrice: price, EgressPrice: 10_000, AutoAccept: true,
				SLA: market.SLAOffer{MaxP95LatencyMs: 2000, MinUptimeBps: 9000, MinDownloadMbps: 1, MinUploadMbps: 1, MaxErrorRateBps: 1000, Durability: true}}); err != nil {
				return "", fmt.Errorf("add unit of %s: %w", name, err)
			}
		}
		d.unitA, d.unitB = ids[0], ids[1]
		d.rep.Units["a"], d.rep.Units["b"] = d.unitA, d.unitB
		return fmt.Sprintf("A %s: unit %s (local disk); B %s: unit %s (its bridge points it at an unreachable S3 endpoint)",
			short(d.provA.Address()), d.unitA, short(d.provB.Address()), d.unitB), nil
	})
	ok = ok && d.step("bridges serve S3 and the oracle is registered and probing", 30*time.Second, func(ctx context.Context) (string, error) {
		cfgs := []*daemon.Config{
			{Node: d.apiURL, ProviderKey: "provider", Listen: fmt.Sprintf("127.0.0.1:%d", bridgePorts[0]),
				MetricsListen: fmt.Sprintf("127.0.0.1:%d", bridgePorts[0]+oracle.PortOffset), Region: "us-east-1",
				Units: map[string]storage.Config{d.unitA: {Kind: storage.KindLocal, Local: &storage.LocalConfig{Root: filepath.Join(bridgeHome(0), "unit-data")}}}},
			{Node: d.apiURL, ProviderKey: demoProvider2Key, Listen: fmt.Sprintf("127.0.0.1:%d", bridgePorts[1]),
				MetricsListen: fmt.Sprintf("127.0.0.1:%d", bridgePorts[1]+oracle.PortOffset), Region: "us-east-1",
				// The SLA failure on purpose: nothing listens on port 1.
				Units: map[string]storage.Config{d.unitB: {Kind: storage.KindS3, S3: &storage.S3Config{Endpoint: "http://127.0.0.1:1", Bucket: "gone",
					PathStyle: true, AccessKeyID: "demo", SecretAccessKey: "demo"}}}},
		}
		kr, err := keyring.Open(filepath.Join(home, "keyring"))
		if err != nil {
			return "", err
		}
		ready := make(chan string, 2)
		errc := make(chan error, 2)
		for i, cfg := range cfgs {
			if err := daemon.SaveConfig(bridgeHome(i), cfg); err != nil {
				return "", err
			}
			priv, err := kr.PrivKey(cfg.ProviderKey, nil)
			if err != nil {
				return "", err
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := daemon.Run(runCtx, bridgeHome(i), cfg, daemon.Options{ProviderPriv: priv, Log: d.logw,
					Ready: func(s3URL, _ string) { ready <- s3URL }})
				if err != nil && !errors.Is(err, context.Canceled) {
					errc <- err
				}
			}()
		}
		for range cfgs {
			select {
			case u := <-ready:
				_ = u
			case err := <-errc:
				return "", fmt.Errorf("bridge: %w", err)
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
		d.s3A = "http://" + cfgs[0].Listen
		okey, err := kr.PrivKey("oracle", nil)
		if err != nil {
			return "", err
		}
		orc := oracle.New(d.apiURL, okey, oracle.Options{Pings: 5, ProbeBytes: 256 << 10, BudgetPerUnit: 4 << 20, Timeout: 2 * time.Second})
		orc.Interval = 250 * time.Millisecond
		orc.Log = func(format string, args ...any) { fmt.Fprintf(d.logw, "oracle: "+format+"\n", args...) }
		p, err := d.c.Params(ctx)
		if err != nil {
			return "", err
		}
		if _, err := orc.EnsureRegistered(ctx, p.MinOracleStake); err != nil {
			return "", err
		}
		wg.Add(1)
		go func() { defer wg.Done(); _ = orc.Run(runCtx) }()
		return fmt.Sprintf("bridge A at %s, bridge B at http://%s; oracle %s staked %s", d.s3A, cfgs[1].Listen, short(orc.Address()), client.FormatAmount(p.MinOracleStake)), nil
	})

	// ---- the story ----
	ok = ok && d.step("market listing", 10*time.Second, func(ctx context.Context) (string, error) {
		page, err := d.c.Units(ctx, client.UnitFilter{Status: market.UnitAvailable, Sort: "price"})
		if err != nil {
			return "", err
		}
		var lines []string
		seen := map[string]bool{}
		for _, u := range page.Units {
			seen[u.ID] = true
			lines = append(lines, fmt.Sprintf("%s %s/%s %s/GiB-month score %d free %d GiB", u.ID, u.Kind, u.Region, client.FormatAmount(u.StoragePrice), u.Score, u.FreeBytes>>30))
		}
		if !seen[d.unitA] || !seen[d.unitB] {
			return "", fmt.Errorf("listing has %d units, want both %s and %s", len(page.Units), d.unitA, d.unitB)
		}
		return strings.Join(lines, "; "), nil
	})
	ok = ok && d.step("quote 50 GiB for 30 days", 10*time.Second, func(ctx context.Context) (string, error) {
		q, err := d.c.Quote(ctx, client.QuoteRequest{Bytes: demoResSize, Term: demoResTerm, Egress: 1 << 30})
		if err != nil {
			return "", err
		}
		var lines []string
		found := 0
		for _, it := range q.Quotes {
			if it.Unit == d.unitA || it.Unit == d.unitB {
				found++
			}
			switch it.Unit {
			case d.unitA:
				d.rep.Scores.ABefore = it.Score
			case d.unitB:
				d.rep.Scores.BBefore = it.Score
			}
			lines = append(lines, fmt.Sprintf("%s: %s total (score %d)", it.Unit, client.FormatAmount(it.Cost.Total), it.Score))
		}
		if found != 2 {
			return "", fmt.Errorf("quote lists %d of the 2 units", found)
		}
		return strings.Join(lines, "; "), nil
	})
	ok = ok && d.step("alice reserves on unit A and on unit B", 20*time.Second, func(ctx context.Context) (string, error) {
		var ids [2]string
		for i, u := range []string{d.unitA, d.unitB} {
			var err error
			if ids[i], _, err = d.alice.Reserve(ctx, market.MsgReserve{Unit: u, Bytes: demoResSize, Term: demoResTerm, EgressBytes: 1 << 30, MaxPrice: demoPriceA}); err != nil {
				return "", fmt.Errorf("reserve on %s: %w", u, err)
			}
			r, err := d.c.Reservation(ctx, ids[i])
			if err != nil {
				return "", err
			}
			if r.Status != market.ResActive {
				return "", fmt.Errorf("reservation %s is %s, want active", r.ID, r.Status)
			}
		}
		d.resA, d.resB = ids[0], ids[1]
		d.rep.Reservations["a"], d.rep.Reservations["b"] = d.resA, d.resB
		return fmt.Sprintf("%s on %s and %s on %s, both active", d.resA, d.unitA, d.resB, d.unitB), nil
	})
	var key *client.CreatedKey
	ok = ok && d.step("alice creates an S3 access key for her reservation on A", 20*time.Second, func(ctx context.Context) (string, error) {
		var err error
		if key, err = d.alice.CreateAccessKey(ctx, d.resA, accesskey.PermWrite); err != nil {
			return "", err
		}
		if err := key.Bucket().WaitReady(ctx, 15*time.Second); err != nil {
			return "", err
		}
		return fmt.Sprintf("key %s for bucket %s at %s, accepted by the bridge", key.AccessKeyID, key.Reservation, key.Endpoint), nil
	})
	ok = ok && d.step("upload and download 1 MiB through the bridge with the SDK", 30*time.Second, func(ctx context.Context) (string, error) {
		data := make([]byte, demoObjectSize)
		_, _ = rand.Read(data)
		b := key.Bucket()
		if _, err := b.Upload(ctx, "demo/hello.bin", bytes.NewReader(data), int64(len(data)), client.UploadOptions{}); err != nil {
			return "", fmt.Errorf("upload: %w", err)
		}
		var got bytes.Buffer
		if _, err := b.Download(ctx, "demo/hello.bin", &got, nil); err != nil {
			return "", fmt.Errorf("download: %w", err)
		}
		if !bytes.Equal(got.Bytes(), data) {
			return "", fmt.Errorf("downloaded %d bytes that differ from the %d uploaded", got.Len(), len(data))
		}
		return fmt.Sprintf("s3://%s/demo/hello.bin: %d bytes up, %d bytes down, identical", d.resA, len(data), got.Len()), nil
	})
	ok = ok && d.step("epochs pass and provider A claims its revenue", 60*time.Second, func(ctx context.Context) (string, error) {
		before, err := d.c.Account(ctx, d.provA.Address())
		if err != nil {
			return "", err
		}
		var claimable core.Amount
		if err := poll(ctx, 500*time.Millisecond, func() (bool, error) {
			u, err := d.c.Unit(ctx, d.unitA)
			if err != nil {
				return false, err
			}
			claimable = u.Claimable
			return claimable > 0, nil
		}); err != nil {
			return "", fmt.Errorf("unit %s never had final revenue to claim: %w", d.unitA, err)
		}
		amt, _, err := d.provA.Claim(ctx, d.unitA)
		if err != nil {
			return "", fmt.Errorf("claim: %w", err)
		}
		d.rep.Payment.Provider, d.rep.Payment.Unit, d.rep.Payment.Claimed = d.provA.Address(), d.unitA, amt
		if amt == 0 {
			return "", errors.New("the claim paid nothing")
		}
		return fmt.Sprintf("%s final revenue on %s, claimed %s (%d uflash) to provider A (balance was %s; tx fees are paid from it too)",
			client.FormatAmount(claimable), d.unitA, client.FormatAmount(amt), amt, client.FormatAmount(before.Balance)), nil
	})
	ok = ok && d.step("unit B fails its SLA and is marked breached", 60*time.Second, func(ctx context.Context) (string, error) {
		var q *types.UnitQoSView
		if err := poll(ctx, 500*time.Millisecond, func() (bool, error) {
			var err error
			if q, err = d.c.UnitQoS(ctx, d.unitB, client.EpochRange{}); err != nil {
				return false, err
			}
			return q.Breached > 0, nil
		}); err != nil {
			return "", fmt.Errorf("unit %s was never judged breached: %w", d.unitB, err)
		}
		terms := map[string]bool{}
		for _, h := range q.History {
			if h.Status == qos.QoSBreached {
				d.rep.Breach.Epochs = append(d.rep.Breach.Epochs, h.Epoch)
				for _, t := range h.Terms {
					if !terms[t] {
						terms[t] = true
						d.rep.Breach.Terms = append(d.rep.Breach.Terms, t)
					}
				}
			}
		}
		d.rep.Breach.Unit, d.rep.Breach.Slashed = d.unitB, q.Slashed
		if len(d.rep.Breach.Epochs) == 0 {
			return "", errors.New("the QoS view counts a breach but its history shows none")
		}
		return fmt.Sprintf("%s breached in epoch(s) %v on %s (uptime %.1f%%); %s of its stake slashed so far",
			d.unitB, d.rep.Breach.Epochs, strings.Join(d.rep.Breach.Terms, ", "), float64(q.UptimeBps)/100, client.FormatAmount(q.Slashed)), nil
	})
	ok = ok && d.step("alice is compensated for the breach", 40*time.Second, func(ctx context.Context) (string, error) {
		var amt core.Amount
		if err := poll(ctx, 500*time.Millisecond, func() (bool, error) {
			var err error
			amt, _, err = d.alice.ClaimCompensation(ctx, d.resB)
			if client.IsCode(err, core.CodeNotFound) {
				return false, nil // nothing distributed yet
			}
			return err == nil, err
		}); err != nil {
			return "", fmt.Errorf("claim compensation on %s: %w", d.resB, err)
		}
		d.rep.Compensation.Reservation, d.rep.Compensation.Consumer, d.rep.Compensation.Amount = d.resB, d.alice.Address(), amt
		if amt == 0 {
			return "", errors.New("the compensation claim paid nothing")
		}
		return fmt.Sprintf("%s paid to alice on %s", client.FormatAmount(amt), d.resB), nil
	})
	ok = ok && d.step("scores move: B falls below 50 and below A", 60*time.Second, func(ctx context.Context) (string, error) {
		var a, b *types.UnitQoSView
		if err := poll(ctx, 500*time.Millisecond, func() (bool, error) {
			var err error
			if a, err = d.c.UnitQoS(ctx, d.unitA, client.EpochRange{}); err != nil {
				return false, err
			}
			if b, err = d.c.UnitQoS(ctx, d.unitB, client.EpochRange{}); err != nil {
				return false, err
			}
			return b.Score < 50 && b.Score < a.Score, nil
		}); err != nil {
			if a != nil && b != nil {
				return "", fmt.Errorf("scores A %d, B %d: %w", a.Score, b.Score, err)
			}
			return "", err
		}
		d.rep.Scores.AAfter, d.rep.Scores.BAfter = a.Score, b.Score
		pa, err := d.c.ProviderScore(ctx, d.provA.Address())
		if err != nil {
			return "", err
		}
		pb, err := d.c.ProviderScore(ctx, d.provB.Address())
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("unit A %d -> %d, unit B %d -> %d; provider scores A %d, B %d",
			d.rep.Scores.ABefore, a.Score, d.rep.Scores.BBefore, b.Score, pa.Score, pb.Score), nil
	})
	ok = ok && d.step("final balances and network stats", 10*time.Second, func(ctx context.Context) (string, error) {
		var lines []string
		for _, n := range []struct {
			name string
			s    *client.Signer
		}{{"alice", d.alice}, {"provider A", d.provA}, {"provider B", d.provB}, {"oracle", d.orcSigner}} {
			acc, err := d.c.Account(ctx, n.s.Address())
			if err != nil {
				return "", err
			}
			d.rep.Balances[n.name] = acc.Balance
			lines = append(lines, fmt.Sprintf("%s %s", n.name, client.FormatAmount(acc.Balance)))
		}
		st, err := d.c.Stats(ctx)
		if err != nil {
			return "", err
		}
		d.rep.Stats = st
		if st.ActiveOracles < 1 {
			return "", errors.New("stats show no active oracle")
		}
		return fmt.Sprintf("%s; stats: epoch %d, frontier %d, escrowed %s, staked %s, treasury %s, compensation pool %s, %d active oracle(s)",
			strings.Join(lines, ", "), st.Epoch, st.Frontier, client.FormatAmount(st.Escrowed), client.FormatAmount(st.Staked),
			client.FormatAmount(st.Treasury), client.FormatAmount(st.CompensationPool), st.ActiveOracles), nil
	})
	_ = ok

	d.rep.OK = len(d.rep.Steps) == demoStepCount
	for _, s := range d.rep.Steps {
		d.rep.OK = d.rep.OK && s.OK
	}
	d.rep.Seconds = round1(time.Since(start).Seconds())
	if d.text {
		verdict := "PASSED"
		if !d.rep.OK {
			verdict = "FAILED"
		}
		fmt.Fprintf(g.out, "\n%s: %d of %d checks passed in %.1f s\n", verdict, passed(d.rep.Steps), demoStepCount, d.rep.Seconds)
	} else if perr := g.print(d.rep, nil); perr != nil {
		return perr
	}
	if !d.rep.OK {
		return fmt.Errorf("demo failed: %d of %d checks passed", passed(d.rep.Steps), demoStepCount)
	}
	return nil
}

// demoStepCount is the number of steps runDemo runs when all pass.
const demoStepCount = 13

func (d *demo) header(format string, args ...any) {
	if d.text {
		fmt.Fprintf(d.g.out, format+"\n\n", args...)
	}
}

// step runs f with a timeout and records (and in text mode prints) its
// outcome; it reports whether the check passed.
func (d *demo) step(name string, timeout time.Duration, f func(ctx context.Context) (string, error)) bool {
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(d.ctx, timeout)
	defer cancel()
	detail, err := f(ctx)
	s := DemoStep{N: len(d.rep.Steps) + 1, Name: name, OK: err == nil, Detail: detail, Seconds: round1(time.Since(t0).Seconds())}
	if err != nil {
		s.Error = explain(err).Error()
		if ctx.Err() != nil {
			s.Error += fmt.Sprintf(" (step timed out after %s)", timeout)
		}
	}
	d.rep.Steps = append(d.rep.Steps, s)
	fmt.Fprintf(d.logw, "demo: step %d %s: ok=%v %s %s\n", s.N, name, s.OK, detail, s.Error)
	if d.text {
		mark := "ok  "
		if !s.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(d.g.out, "[%s] %2d. %s  (%.1f s, t+%.0f s)\n", mark, s.N, name, s.Seconds, time.Since(d.start).Seconds())
		if s.Detail != "" {
			fmt.Fprintf(d.g.out, "          %s\n", s.Detail)
		}
		if s.Error != "" {
			fmt.Fprintf(d.g.out, "          error: %s\n", s.Error)
		}
	}
	return s.OK
}

// poll calls f every interval until it returns true, an error, or ctx ends
// (then the last error seen, or ctx's).
func poll(ctx context.Context, interval time.Duration, f func() (bool, error)) error {
	var last error
	for {
		done, err := f()
		if err == nil && done {
			return nil
		}
		if err != nil {
			last = err
			if client.CodeOf(err) != "" && ctx.Err() == nil {
				// A typed refusal from the chain is final.
				return err
			}
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("%w (last error: %v)", ctx.Err(), last)
			}
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}

// freePorts finds a port p such that p..p+n-1 and, with offset > 0, also
// p+offset are free on 127.0.0.1.
func freePorts(n, offset int) (int, error) {
	for range 200 {
		v, err := rand.Int(rand.Reader, big.NewInt(20000))
		if err != nil {
			return 0, err
		}
		p := 20000 + int(v.Int64())
		ports := []int{}
		for i := range n {
			ports = append(ports, p+i)
		}
		if offset > 0 {
			ports = append(ports, p+offset)
		}
		okAll := true
		for _, q := range ports {
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", q))
			if err != nil {
				okAll = false
				break
			}
			ln.Close()
		}
		if okAll {
			return p, nil
		}
	}
	return 0, errors.New("no free ports found on 127.0.0.1")
}

func short(addr string) string {
	if len(addr) <= 16 {
		return addr
	}
	return addr[:10] + "…" + addr[len(addr)-4:]
}

func round1(x float64) float64 { return float64(int64(x*10+0.5)) / 10 }

func passed(steps []DemoStep) int {
	n := 0
	for _, s := range steps {
		if s.OK {
			n++
		}
	}
	return n
}

func tailFile(w io.Writer, path string, n int) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	for _, l := range lines {
		fmt.Fprintln(w, "  "+l)
	}
}

// lockedWriter serializes the log writes of the node, bridges and oracle.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
