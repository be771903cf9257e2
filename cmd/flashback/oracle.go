package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/net/netutil"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/oracle"
)

// oracleFlags are the flags of `flashback oracle`.
type oracleFlags struct {
	from, probeBytes, budget, register string
	metricsListen                      string
	interval                           time.Duration
	concurrency, pings, portOffset     int
	spread                             float64
	once                               bool
	probeURLs                          []string
}

func oracleCmd(g *globals) *cobra.Command {
	var fl oracleFlags
	cmd := &cobra.Command{
		Use:   "oracle",
		Short: "Run a QoS oracle: probe every available unit each epoch and report on chain",
		Long: `Run a QoS oracle. Each epoch it probes every available unit through its
provider bridge's probe endpoint (small reads for latency, a write and read
back of --probe-bytes for throughput and integrity), spread over the epoch,
at most --concurrency at a time and --budget-per-unit bytes per unit, then
signs and submits one report for the epoch once it has ended.

The probe endpoint is served by the bridge on its S3 listener under the
reserved path /_flashback/probe/{unit}: the oracle finds it from the
provider's registered bridge_endpoint, whatever port the bridge's ops
listener is on. Override per provider with --probe-url PROVIDER=URL (the
base the probe path is appended to, e.g. http://HOST:PORT/_flashback, or a
bridge's ops listener http://HOST:OPSPORT, which serves /probe/{unit} too).

--once probes right away, waits for the current epoch to end, reports it and
exits (prints the measurements).`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return runOracle(g, &fl) },
	}
	f := cmd.Flags()
	f.StringVar(&fl.from, "from", "oracle", "keyring key of the oracle (signs probes and reports)")
	f.DurationVar(&fl.interval, "interval", time.Second, "how often to check the chain's time for the epoch's end")
	f.IntVar(&fl.concurrency, "concurrency", 4, "probes in flight at once, over all units")
	f.IntVar(&fl.pings, "pings", 10, "small reads per unit per epoch (latency p50/p95)")
	f.StringVar(&fl.probeBytes, "probe-bytes", "1MiB", "size of the write+read probe (throughput, integrity; at most 16MiB)")
	f.StringVar(&fl.budget, "budget-per-unit", "64MiB", "most bytes moved through a unit per epoch")
	f.Float64Var(&fl.spread, "spread", 0.8, "spread the probes over this fraction of the epoch")
	f.IntVar(&fl.portOffset, "probe-port-offset", 0, "deprecated: probe the ops listener at bridge_endpoint port + this instead of the endpoint's /_flashback path")
	_ = f.MarkDeprecated("probe-port-offset", "bridges serve the probe endpoint on their S3 port under /_flashback/probe/; use --probe-url PROVIDER=URL for a provider that needs another URL")
	f.StringArrayVar(&fl.probeURLs, "probe-url", nil, "PROVIDER=URL: the probe endpoint of a provider's bridge (repeatable)")
	f.StringVar(&fl.register, "register", "", "register the key as an oracle with this stake first if it is not one (e.g. 1000FLASH)")
	f.BoolVar(&fl.once, "once", false, "probe now, report the current epoch once it ends, and exit")
	f.StringVar(&fl.metricsListen, "metrics-listen", "", "serve /metrics (probes, failures, reports, report lag), /healthz and /readyz on this address (empty: off)")
	return cmd
}

// runOracle builds the oracle from the flags, makes sure it is registered,
// and probes: every epoch, or with --once one round whose result it prints.
func runOracle(g *globals, fl *oracleFlags) error {
	d, err := newOracleFromFlags(g, fl)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := ensureOracleRegistered(ctx, d, fl.register); err != nil {
		return err
	}
	if fl.metricsListen != "" {
		url, err := serveOracleOps(ctx, d, fl.metricsListen)
		if err != nil {
			return err
		}
		d.Log("metrics, health and readiness on %s", url)
	}
	if !fl.once {
		d.Log("oracle %s following %s", d.Address(), g.apiURL())
		if err := startOracleDisputes(ctx, g, d, fl.from); err != nil { // dispute.go
			return err
		}
		return d.Run(ctx)
	}
	res, err := d.Round(ctx, 0)
	if err != nil {
		return explain(err)
	}
	return g.print(res, func(w io.Writer) { printOracleRound(w, res) })
}

// newOracleFromFlags parses the probe sizes and --probe-url overrides and
// loads the signing key.
func newOracleFromFlags(g *globals, fl *oracleFlags) (*oracle.Daemon, error) {
	probeSize, err := parseSize("probe-bytes", fl.probeBytes)
	if err != nil {
		return nil, err
	}
	unitBudget, err := parseSize("budget-per-unit", fl.budget)
	if err != nil {
		return nil, err
	}
	overrides := map[string]string{}
	for _, s := range fl.probeURLs {
		prov, u, ok := strings.Cut(s, "=")
		if !ok || !address.Valid(prov) || !(strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://")) {
			return nil, fmt.Errorf("--probe-url %q: want PROVIDER_ADDRESS=http(s)://HOST:PORT", s)
		}
		overrides[prov] = u
	}
	priv, err := g.privKey(fl.from)
	if err != nil {
		return nil, err
	}
	d := oracle.New(g.apiURL(), priv, oracle.Options{
		Concurrency: fl.concurrency, Pings: fl.pings, ProbeBytes: int64(probeSize), BudgetPerUnit: int64(unitBudget),
	})
	d.Resolve = oracle.EndpointResolver(overrides)
	if fl.portOffset > 0 {
		d.Resolve = oracle.PortOffsetResolver(fl.portOffset, overrides)
	}
	d.Interval, d.SpreadFraction = fl.interval, fl.spread
	d.Metrics = oracle.NewMetrics()
	d.Log = func(format string, args ...any) { fmt.Fprintf(os.Stderr, "oracle: "+format+"\n", args...) }
	return d, nil
}

// ensureOracleRegistered registers the oracle with stake register if given;
// otherwise it refuses to run an oracle the chain does not know as active.
func ensureOracleRegistered(ctx context.Context, d *oracle.Daemon, register string) error {
	if register != "" {
		stake, err := parseAmountFlag("register", register)
		if err != nil {
			return err
		}
		did, err := d.EnsureRegistered(ctx, stake)
		if err != nil {
			return explain(err)
		}
		if did {
			d.Log("registered %s as an oracle with %s", d.Address(), register)
		}
	} else if ok, err := d.IsOracle(ctx, d.Address()); err == nil && !ok {
		return fmt.Errorf("%s is not an active oracle: register it first (--register 1000FLASH)", d.Address())
	}
	return nil
}

// printOracleRound prints one round's report and measurements as text.
func printOracleRound(w io.Writer, res *oracle.RoundResult) {
	fmt.Fprintf(w, "epoch %d, oracle %s", res.Epoch, res.Oracle)
	if res.TxHash != "" {
		fmt.Fprintf(w, ", report tx %s at height %d", res.TxHash, res.Height)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "UNIT\tPROBES\tOK\tP50 MS\tP95 MS\tDOWN MB/S\tUP MB/S\tINTEGRITY OK/FAIL\tERROR")
	for _, m := range res.Measurements {
		e := ""
		if len(m.Errors) > 0 {
			e = m.Errors[0]
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d/%d\t%s\n", m.Unit, m.Probes, m.Successes, m.P50Ms, m.P95Ms,
			m.DownMbps, m.UpMbps, m.IntegrityPassed, m.IntegrityFailed, e)
	}
	tw.Flush()
}

// serveOracleOps serves the daemon's /metrics, /healthz and /readyz on addr
// until ctx ends.
func serveOracleOps(ctx context.Context, d *oracle.Daemon, addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("--metrics-listen: %w", err)
	}
	srv := &http.Server{Handler: d.Handler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 16 << 10}
	go func() { _ = srv.Serve(netutil.LimitListener(ln, 64)) }()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	return "http://" + ln.Addr().String(), nil
}
