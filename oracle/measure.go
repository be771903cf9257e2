// Package oracle is the QoS oracle daemon: each epoch it probes every
// available unit through its provider bridge's probe endpoint (package
// probe), and once the epoch is over it signs and submits one qos/report
// with a measurement per unit.
//
// Finding the probe endpoint. The chain records one URL per provider, its
// bridge_endpoint (the S3 endpoint consumers use). The bridge serves the
// probe endpoint on that same listener under the reserved path
// /_flashback/probe/{unit} (probe.PathPrefix; "_" cannot start a bucket
// name), so the oracle uses what is registered, with no port rule:
// EndpointResolver. A provider behind something that does not pass that
// path on tells the oracles its URL out of band and they pass --probe-url
// PROVIDER=URL (e.g. the bridge's ops listener, which serves /probe/{unit}
// too).
//
// Per unit and epoch the oracle makes Pings small reads (latency p50/p95 from
// the round trips it saw) and Transfers writes of ProbeBytes random bytes
// that the bridge writes through the unit's backend, reads back and streams
// back (upload and download throughput, integrity by SHA-256), never
// spending more than BudgetPerUnit bytes. The probes are spread at random
// over the epoch with bounded concurrency. A probe that fails (unreachable,
// error status, timeout, wrong bytes) counts as a probe without success.
package oracle

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/flashback-network/flashback/contract/qos"
	"github.com/flashback-network/flashback/probe"
)

// Target is a unit to probe and where its probe endpoint is.
type Target struct {
	Unit     string
	Provider string
	// ProbeURL is the base URL of the probe endpoint (".../probe/{unit}" is
	// appended); "" when it could not be found: every probe fails.
	ProbeURL string
}

// Measurement is what the oracle reports for one unit, plus what it cost.
type Measurement struct {
	qos.UnitMeasurement
	// BytesUsed is what the probes moved through the unit's backend.
	BytesUsed int64 `json:"bytes_used"`
	// Errors holds the first few probe errors, for the log.
	Errors []string `json:"errors,omitempty"`
}

// Options tune a round of probes. Zero values take the defaults.
type Options struct {
	// Concurrency bounds the probes in flight over all units (default 4).
	Concurrency int
	// Pings is the number of small reads per unit (default 10).
	Pings int
	// Transfers is the number of write+read probes per unit (default 1).
	Transfers int
	// ProbeBytes is the size of a transfer (default 1 MiB, at most
	// probe.DefaultMaxBytes).
	ProbeBytes int64
	// BudgetPerUnit bounds the bytes moved per unit per round (default 64
	// MiB): a ping costs probe.PingSize, a transfer twice its size. Transfers
	// shrink to fit; below 64 KiB they are dropped.
	BudgetPerUnit int64
	// Spread spreads the probes at random over this long (0: all at once).
	Spread time.Duration
	// Timeout bounds one probe (default 60 s).
	Timeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.Pings <= 0 {
		o.Pings = 10
	}
	if o.Transfers <= 0 {
		o.Transfers = 1
	}
	if o.ProbeBytes <= 0 {
		o.ProbeBytes = 1 << 20
	}
	o.ProbeBytes = min(o.ProbeBytes, probe.DefaultMaxBytes)
	if o.BudgetPerUnit <= 0 {
		o.BudgetPerUnit = 64 << 20
	}
	if o.Timeout <= 0 {
		o.Timeout = 60 * time.Second
	}
	return o
}

// minTransfer is the smallest transfer worth timing.
const minTransfer = 64 << 10

// plan is what a round does to one unit within its budget.
func (o Options) plan() (pings, transfers int, size int64) {
	pings = o.Pings
	if int64(pings)*probe.PingSize > o.BudgetPerUnit {
		pings = max(1, int(o.BudgetPerUnit/probe.PingSize)) // a unit is always probed
	}
	left := o.BudgetPerUnit - int64(pings)*probe.PingSize
	transfers, size = o.Transfers, o.ProbeBytes
	if 2*size*int64(transfers) > left {
		size = left / (2 * int64(transfers))
	}
	if size < minTransfer {
		return pings, 0, 0
	}
	return pings, transfers, size
}

// Prober measures units through their probe endpoints.
type Prober struct {
	Client *probe.Client
	Options
}

type sample struct {
	ping     bool
	ok       bool
	rtt      time.Duration
	transfer *probe.Transfer
	err      error
}

type task struct {
	at     time.Duration
	target int
	ping   bool
	size   int64
}

// Measure probes every target once (one round) and returns a measurement per
// target, in order. If ctx ends first it stops, waits for the probes in
// flight and returns what was measured (units not probed yet have Probes 0)
// with ctx's error.
func (p *Prober) Measure(ctx context.Context, targets []Target) ([]Measurement, error) {
	o := p.Options.withDefaults()
	pings, transfers, size := o.plan()
	var tasks []task
	for i := range targets {
		for range pings {
			tasks = append(tasks, task{target: i, ping: true})
		}
		for range transfers {
			tasks = append(tasks, task{target: i, size: size})
		}
	}
	// Random order (and times, when spread) so that no unit's probes come
	// in a burst and a slow unit does not hold up the others.
	rand.Shuffle(len(tasks), func(i, j int) { tasks[i], tasks[j] = tasks[j], tasks[i] })
	if o.Spread > 0 {
		for i := range tasks {
			tasks[i].at = rand.N(o.Spread)
		}
		sort.SliceStable(tasks, func(i, j int) bool { return tasks[i].at < tasks[j].at })
	}

	var mu sync.Mutex
	samples := make([][]sample, len(targets))
	sem := make(chan struct{}, o.Concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	var err error
dispatch:
	for _, tk := range tasks {
		if d := time.Until(start.Add(tk.at)); d > 0 {
			select {
			case <-ctx.Done():
				err = ctx.Err()
				break dispatch
			case <-time.After(d):
			}
		}
		select {
		case <-ctx.Done():
			err = ctx.Err()
			break dispatch
		case sem <- struct{}{}:
		}
		wg.Add(1)
		go func(tk task) {
			defer func() { <-sem; wg.Done() }()
			s := p.run(ctx, o, targets[tk.target], tk)
			if s.err != nil && ctx.Err() != nil {
				return // cut short by the round's end: not the unit's fault
			}
			mu.Lock()
			samples[tk.target] = append(samples[tk.target], s)
			mu.Unlock()
		}(tk)
	}
	wg.Wait()
	out := make([]Measurement, len(targets))
	for i, t := range targets {
		out[i] = aggregate(t.Unit, samples[i])
	}
	return out, err
}

func (p *Prober) run(ctx context.Context, o Options, t Target, tk task) sample {
	if t.ProbeURL == "" {
		return sample{ping: tk.ping, err: errors.New("no probe endpoint known for the unit's provider")}
	}
	for try := 0; ; try++ {
		s := p.try(ctx, o, t, tk)
		// 429 is the bridge limiting this oracle, not the unit failing.
		var pe *probe.Error
		if try == 4 || !errors.As(s.err, &pe) || pe.Status != http.StatusTooManyRequests {
			return s
		}
		select {
		case <-ctx.Done():
			return s
		case <-time.After(time.Second):
		}
	}
}

func (p *Prober) try(ctx context.Context, o Options, t Target, tk task) sample {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	if tk.ping {
		r, err := p.Client.Ping(ctx, t.ProbeURL, t.Unit)
		if err != nil {
			return sample{ping: true, err: err}
		}
		return sample{ping: true, ok: true, rtt: r.RTT}
	}
	tr, err := p.Client.Transfer(ctx, t.ProbeURL, t.Unit, tk.size)
	if err != nil {
		return sample{err: err}
	}
	s := sample{ok: tr.SHA256OK, transfer: tr}
	if !tr.SHA256OK {
		s.err = errors.New("integrity: the object read back differs from the one written")
	}
	return s
}

const maxErrors = 3

func aggregate(unit string, ss []sample) Measurement {
	m := Measurement{UnitMeasurement: qos.UnitMeasurement{Unit: unit}}
	var rtts []time.Duration
	var up, down []float64
	for _, s := range ss {
		m.Probes++
		if s.ok {
			m.Successes++
		}
		if s.err != nil && len(m.Errors) < maxErrors {
			m.Errors = append(m.Errors, s.err.Error())
		}
		if s.ping {
			if s.ok {
				rtts = append(rtts, s.rtt)
				m.BytesUsed += probe.PingSize
			}
			continue
		}
		if tr := s.transfer; tr != nil {
			m.BytesUsed += 2 * tr.Bytes
			if tr.SHA256OK {
				m.IntegrityPassed++
				up = append(up, mbps(tr.Bytes, tr.Upload))
				down = append(down, mbps(tr.Bytes, tr.Download))
			} else {
				m.IntegrityFailed++
			}
		}
	}
	m.P50Ms = percentileMs(rtts, 50)
	m.P95Ms = percentileMs(rtts, 95)
	m.UpMbps = median(up)
	m.DownMbps = median(down)
	return m
}

// mbps is throughput in MB/s (10^6 bytes per second).
func mbps(n int64, d time.Duration) float64 {
	if d <= 0 {
		d = time.Microsecond
	}
	return float64(n) / 1e6 / d.Seconds()
}

// percentileMs is the nearest-rank percentile of ds in whole milliseconds,
// rounded up (a 0.3 ms read is 1 ms); 0 without samples.
func percentileMs(ds []time.Duration, pct int) uint32 {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := (pct*len(s) + 99) / 100
	d := s[max(rank, 1)-1]
	return uint32(min(math.Ceil(float64(d)/float64(time.Millisecond)), math.MaxUint32))
}

// median of xs rounded to a whole MB/s; 0 without samples.
func median(xs []float64) uint32 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	v := s[len(s)/2]
	if len(s)%2 == 0 {
		v = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return uint32(min(math.Round(v), math.MaxUint32))
}

// EndpointResolver derives a provider's probe URL from its bridge_endpoint:
// the endpoint plus probe.PathPrefix, where the bridge serves the probe
// endpoint on its S3 listener. Overrides (keyed by provider address) win.
func EndpointResolver(overrides map[string]string) func(provider, bridgeEndpoint string) (string, error) {
	return func(provider, bridgeEndpoint string) (string, error) {
		if u, ok := overrides[provider]; ok {
			return u, nil
		}
		return probe.BaseURL(bridgeEndpoint)
	}
}

// PortOffset is the old convention's distance from a bridge's S3 port to
// its ops port (deprecated: see EndpointResolver).
const PortOffset = 100

// PortOffsetResolver derives a provider's probe URL from its bridge_endpoint
// by the deprecated port rule: same scheme and host, port plus offset,
// path dropped (the bridge's ops listener). Overrides win. Only
// `flashback oracle --probe-port-offset` still uses it.
func PortOffsetResolver(offset int, overrides map[string]string) func(provider, bridgeEndpoint string) (string, error) {
	return func(provider, bridgeEndpoint string) (string, error) {
		if u, ok := overrides[provider]; ok {
			return u, nil
		}
		u, err := url.Parse(bridgeEndpoint)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return "", fmt.Errorf("bridge_endpoint %q is not an http(s) URL", bridgeEndpoint)
		}
		port := u.Port()
		if port == "" {
			port = "80"
			if u.Scheme == "https" {
				port = "443"
			}
		}
		n, err := strconv.Atoi(port)
		if err != nil || n+offset > 65535 || n+offset <= 0 {
			return "", fmt.Errorf("bridge_endpoint %q: port %s plus %d is not a port", bridgeEndpoint, port, offset)
		}
		return (&url.URL{Scheme: u.Scheme, Host: net.JoinHostPort(u.Hostname(), strconv.Itoa(n+offset))}).String(), nil
	}
}
