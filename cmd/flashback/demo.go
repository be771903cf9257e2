package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/core"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/chain"
	"github.com/flashback-network/flashback/client"
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
	demoProvider2Key = "provider2" // a dev key (chain.DevKeys), funded in genesis
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
	// Repo: the mirror repository, its killed member and the repair
	// (demo_repo.go).
	Repo *DemoRepo `json:"repo,omitempty"`
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
score change, then final balances and network stats. Then a third provider
(C) joins and alice mirrors a repository over A and C (write quorum 1) behind
an in-process gateway: objects go up through the gateway, bridge C is killed
(every GET stays exact, a PUT still succeeds), restarted, and the gateway's
repair loop brings it level again. Every step is checked;
the exit code is 0 only if all checks pass. The home is removed unless --keep.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runDemo(g, keep)
		},
	}
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the demo's home directory (chain data, keys, bridge data, log)")
	return cmd
}

// demo is one run of the story: the network it started and what the steps
// learned, passed from step to step.
type demo struct {
	g      *globals
	ctx    context.Context // bounds the whole demo
	cancel context.CancelFunc
	start  time.Time
	rep    *DemoReport
	text   bool
	home   string
	logw   io.Writer
	c      *client.Client
	apiURL string

	// Started by the steps; stopped by teardown.
	logFile     *os.File
	logPath     string
	wg          sync.WaitGroup // bridges and oracle, which stop with ctx
	node        *chain.Node
	srv         *http.Server
	bridgePorts [2]int

	alice, provA, provB, orcSigner *client.Signer
	unitA, unitB, resA, resB       string
	s3A                            string
	key                            *client.CreatedKey
	repo                           demoRepoState // demo_repo.go
}

// demoStep is one named, checked step of the story and its time budget.
type demoStep struct {
	name    string
	timeout time.Duration
	run     func(ctx context.Context) (string, error)
}

// steps is the story in order; a step runs only if all before it passed.
func (d *demo) steps() []demoStep {
	return append([]demoStep{
		// ---- the network (demo_network.go) ----
		{"start a fresh dev network (validator, REST API)", 40 * time.Second, d.startNetwork},
		{"two providers register, stake and add a unit each", 30 * time.Second, d.registerProviders},
		{"bridges serve S3 and the oracle is registered and probing", 30 * time.Second, d.startBridgesAndOracle},
		// ---- the story (demo_story.go) ----
		{"market listing", 10 * time.Second, d.marketListing},
		{"quote 50 GiB for 30 days", 10 * time.Second, d.quote},
		{"alice reserves on unit A and on unit B", 20 * time.Second, d.reserveBoth},
		{"alice creates an S3 access key for her reservation on A", 20 * time.Second, d.createAccessKey},
		{"upload and download 1 MiB through the bridge with the SDK", 30 * time.Second, d.uploadDownload},
		{"epochs pass and provider A claims its revenue", 60 * time.Second, d.claimRevenue},
		{"unit B fails its SLA and is marked breached", 60 * time.Second, d.awaitBreach},
		{"alice is compensated for the breach", 40 * time.Second, d.claimCompensation},
		{"scores move: B falls below 50 and below A", 60 * time.Second, d.awaitScores},
		{"final balances and network stats", 10 * time.Second, d.finalBalances},
	}, d.repoSteps()...) // ---- the repository (demo_repo.go) ----
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
	d := &demo{g: g, start: start, home: home, text: g.output != "json", logFile: logf, logPath: logPath,
		rep: &DemoReport{Units: map[string]string{}, Reservations: map[string]string{}, Balances: map[string]core.Amount{}}}
	d.logw = &lockedWriter{w: logf}
	d.ctx, d.cancel = context.WithTimeout(context.Background(), demoMaxRuntime)
	defer func() { d.teardown(err, keep) }()
	if keep {
		d.rep.Home = home
	}
	d.header("Flashback demo: a fresh dev network in %s", home)
	steps := d.steps()
	for _, s := range steps {
		if !d.step(s.name, s.timeout, s.run) {
			break
		}
	}
	return d.finish(len(steps))
}

// teardown stops everything the steps started (bridges and oracle stop with
// ctx; the wait is for them), shows the log's tail on failure and removes
// the home unless kept.
func (d *demo) teardown(err error, keep bool) {
	d.cancel()
	d.wg.Wait()
	if d.srv != nil {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = d.srv.Shutdown(sctx)
		scancel()
	}
	if d.node != nil {
		_ = d.node.Stop()
	}
	d.logFile.Close()
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo failed; last lines of %s:\n", d.logPath)
		tailFile(os.Stderr, d.logPath, 30)
	}
	if keep {
		fmt.Fprintf(os.Stderr, "demo home kept at %s (log: %s)\n", d.home, d.logPath)
	} else {
		_ = os.RemoveAll(d.home)
	}
}

// finish prints the verdict (text) or the report (json); it fails unless
// all want steps ran and passed.
func (d *demo) finish(want int) error {
	d.rep.OK = len(d.rep.Steps) == want
	for _, s := range d.rep.Steps {
		d.rep.OK = d.rep.OK && s.OK
	}
	d.rep.Seconds = round1(time.Since(d.start).Seconds())
	if d.text {
		verdict := "PASSED"
		if !d.rep.OK {
			verdict = "FAILED"
		}
		fmt.Fprintf(d.g.out, "\n%s: %d of %d checks passed in %.1f s\n", verdict, passed(d.rep.Steps), want, d.rep.Seconds)
	} else if perr := d.g.print(d.rep, nil); perr != nil {
		return perr
	}
	if !d.rep.OK {
		return fmt.Errorf("demo failed: %d of %d checks passed", passed(d.rep.Steps), want)
	}
	return nil
}

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

// freePorts finds a port p in 10000..29999 such that p..p+n-1 and, with
// offset > 0, also p+offset are free on 127.0.0.1.
func freePorts(n, offset int) (int, error) {
	for range 200 {
		v, err := rand.Int(rand.Reader, big.NewInt(20000))
		if err != nil {
			return 0, err
		}
		// Below the kernel's ephemeral ports (32768 and up by default),
		// which outgoing connections take without asking.
		p := 10000 + int(v.Int64())
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
