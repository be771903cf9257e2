package oracle

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/params"
	"github.com/flashback-network/flashback/contract/qos"
	"github.com/flashback-network/flashback/probe"
)

// Daemon probes the units and reports every epoch.
type Daemon struct {
	Client *client.Client
	Signer *client.Signer
	Prober *Prober
	// IsOracle checks the oracle's own registration (default: the node's
	// GET /v1/oracles/{address}).
	IsOracle func(ctx context.Context, addr string) (bool, error)
	// Resolve finds a provider's probe URL from its bridge_endpoint
	// (default EndpointResolver(nil): the endpoint's reserved probe path).
	Resolve func(provider, bridgeEndpoint string) (string, error)
	// Interval is how often the chain's time is checked (default 1 s).
	Interval time.Duration
	// SpreadFraction of what is left of the epoch the probes are spread
	// over (default 0.8).
	SpreadFraction float64
	// Log receives progress lines (optional).
	Log func(format string, args ...any)
	// Metrics, when set, counts probes and reports (metrics.go).
	Metrics *Metrics
}

// New builds a daemon for the oracle key priv against the node at nodeURL.
func New(nodeURL string, priv ed25519.PrivateKey, opts Options) *Daemon {
	c := client.New(nodeURL)
	return &Daemon{
		Client:   c,
		Signer:   c.Signer(priv),
		Prober:   &Prober{Client: probe.NewClient(priv), Options: opts},
		IsOracle: probe.ChainIsOracle(nodeURL),
		Resolve:  EndpointResolver(nil),
	}
}

func (d *Daemon) logf(format string, args ...any) {
	if d.Log != nil {
		d.Log(format, args...)
	}
}

// Address is the oracle's account address.
func (d *Daemon) Address() string { return d.Signer.Address() }

// EnsureRegistered registers the oracle with stake unless it is already an
// active oracle. It reports whether it registered.
func (d *Daemon) EnsureRegistered(ctx context.Context, stake core.Amount) (bool, error) {
	ok, err := d.IsOracle(ctx, d.Address())
	if err != nil {
		return false, fmt.Errorf("check oracle registration: %w", err)
	}
	if ok {
		return false, nil
	}
	if _, err := d.Signer.RegisterOracle(ctx, stake); err != nil {
		return false, fmt.Errorf("register oracle: %w", err)
	}
	return true, nil
}

// chainClock is the chain's epoch length, its latest block time and the
// report size limit.
type chainClock struct {
	epochLen int64
	now      int64
	maxUnits int
}

func (c chainClock) epoch() int64 { return c.now / c.epochLen }

// endOf is when epoch e ends (unix seconds).
func (c chainClock) endOf(e int64) int64 { return (e + 1) * c.epochLen }

func (d *Daemon) clock(ctx context.Context) (chainClock, error) {
	p, err := d.Client.Params(ctx)
	if err != nil {
		return chainClock{}, err
	}
	st, err := d.Client.Status(ctx)
	if err != nil {
		return chainClock{}, err
	}
	def := params.Default()
	c := chainClock{epochLen: p.EpochSeconds, now: st.LatestBlockTime.Unix(), maxUnits: int(p.MaxUnitsPerReport)}
	if c.epochLen <= 0 {
		c.epochLen = def.EpochSeconds
	}
	if c.maxUnits <= 0 {
		c.maxUnits = int(def.MaxUnitsPerReport)
	}
	return c, nil
}

// Targets lists the available units that existed before the end of epoch
// e's block time `before` (a report may not name units created later), with
// their probe URLs.
func (d *Daemon) Targets(ctx context.Context, before int64) ([]Target, error) {
	var units []types.UnitView
	cursor := ""
	for {
		page, err := d.Client.Units(ctx, client.UnitFilter{Status: market.UnitAvailable, Page: client.Page{Limit: market.MaxPageSize, Cursor: cursor}})
		if err != nil {
			return nil, fmt.Errorf("list units: %w", err)
		}
		units = append(units, page.Units...)
		if page.NextCursor == "" || len(page.Units) == 0 {
			break
		}
		cursor = page.NextCursor
	}
	endpoints := map[string]string{}
	var out []Target
	for _, u := range units {
		if u.CreatedAt.Unix() >= before {
			continue
		}
		pu, ok := endpoints[u.Provider]
		if !ok {
			p, err := d.Client.Provider(ctx, u.Provider)
			if err != nil {
				return nil, fmt.Errorf("provider %s of %s: %w", u.Provider, u.ID, err)
			}
			if pu, err = d.Resolve(u.Provider, p.Endpoint); err != nil {
				d.logf("provider %s: %v (its units count as unreachable)", u.Provider, err)
				pu = ""
			}
			endpoints[u.Provider] = pu
		}
		out = append(out, Target{Unit: u.ID, Provider: u.Provider, ProbeURL: pu})
	}
	return out, nil
}

// RoundResult is one epoch's work.
type RoundResult struct {
	Epoch        int64         `json:"epoch"`
	Oracle       string        `json:"oracle"`
	Measurements []Measurement `json:"measurements"`
	TxHash       string        `json:"tx_hash,omitempty"`
	Height       int64         `json:"height,omitempty"`
}

// Round probes every available unit during the chain's current epoch
// (spread over that much of what is left of it, 0 for all at once), waits
// for the epoch to end and submits the report.
func (d *Daemon) Round(ctx context.Context, spreadFraction float64) (*RoundResult, error) {
	clk, err := d.clock(ctx)
	if err != nil {
		return nil, err
	}
	e := clk.epoch()
	end := clk.endOf(e)
	targets, err := d.Targets(ctx, end)
	if err != nil {
		return nil, err
	}
	// Only the units the chain assigned to this oracle for e are probed
	// and reported (the chain refuses the others with not_assigned).
	units, fixed, err := d.Client.AllOracleAssignments(ctx, d.Address(), e)
	if err != nil {
		return nil, fmt.Errorf("assignments for epoch %d: %w", e, err)
	}
	targets = keepAssigned(targets, units, fixed)
	res := &RoundResult{Epoch: e, Oracle: d.Address()}
	if len(targets) == 0 {
		d.logf("epoch %d: no available units assigned to probe", e)
		return res, d.waitEpochEnd(ctx, e)
	}
	left := time.Duration(end-clk.now) * time.Second
	pr := *d.Prober
	pr.Spread = time.Duration(float64(left) * spreadFraction)
	// Probes still running well after the epoch's end would make the
	// report late: stop at the end plus half an epoch, keeping what was
	// measured.
	mctx, cancel := context.WithTimeout(ctx, left+time.Duration(clk.epochLen)*time.Second/2)
	ms, err := pr.Measure(mctx, targets)
	cancel()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		d.logf("epoch %d: probing cut short: %v", e, err)
	}
	for _, m := range ms {
		if m.Probes == 0 {
			continue
		}
		res.Measurements = append(res.Measurements, m)
		if len(m.Errors) > 0 {
			d.logf("epoch %d: %s: %d/%d probes ok; %s", e, m.Unit, m.Successes, m.Probes, m.Errors[0])
		}
	}
	d.Metrics.measured(res.Measurements)
	if err := d.waitEpochEnd(ctx, e); err != nil {
		return nil, err
	}
	ended := time.Now()
	if len(res.Measurements) == 0 {
		return res, nil
	}
	if len(res.Measurements) > clk.maxUnits {
		d.logf("epoch %d: %d units measured, max_units_per_report is %d: reporting the first %d", e, len(res.Measurements), clk.maxUnits, clk.maxUnits)
		res.Measurements = res.Measurements[:clk.maxUnits]
	}
	tx, err := d.Submit(ctx, e, res.Measurements)
	d.Metrics.reported(e, time.Since(ended), err)
	if err != nil {
		return res, err
	}
	res.TxHash, res.Height = tx.Hash, tx.Height
	d.logf("epoch %d: reported %d units in tx %s at height %d", e, len(res.Measurements), tx.Hash, tx.Height)
	return res, nil
}

// waitEpochEnd waits until the chain's block time is past epoch e.
func (d *Daemon) waitEpochEnd(ctx context.Context, e int64) error {
	interval := d.Interval
	if interval <= 0 {
		interval = time.Second
	}
	for {
		clk, err := d.clock(ctx)
		if err == nil && clk.epoch() > e {
			return nil
		}
		if err != nil {
			d.logf("chain: %v", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}

// Submit signs and sends the report for epoch e. If a unit is refused (it
// was deleted or went away meanwhile, or is not assigned to this oracle)
// it retries once without the units that are no longer there or not
// assigned.
func (d *Daemon) Submit(ctx context.Context, e int64, ms []Measurement) (*types.TxResult, error) {
	msg := qos.MsgReport{Epoch: e}
	for _, m := range ms {
		msg.Units = append(msg.Units, m.UnitMeasurement)
	}
	sort.Slice(msg.Units, func(i, j int) bool { return unitLess(msg.Units[i].Unit, msg.Units[j].Unit) })
	tx, err := d.Signer.Report(ctx, msg)
	if !client.IsCode(err, core.CodeNotFound) && !client.IsCode(err, core.CodeWrongState) && !client.IsCode(err, core.CodeNotAssigned) {
		return tx, err
	}
	assigned, fixed, aerr := d.Client.AllOracleAssignments(ctx, d.Address(), e)
	if aerr != nil {
		return tx, err
	}
	mine := map[string]bool{}
	for _, u := range assigned {
		mine[u] = true
	}
	kept := msg.Units[:0]
	for _, u := range msg.Units {
		uv, uerr := d.Client.Unit(ctx, u.Unit)
		if uerr == nil && uv.Status != market.UnitDeleted && (!fixed || mine[u.Unit]) {
			kept = append(kept, u)
		}
	}
	if len(kept) == 0 {
		return tx, err
	}
	d.logf("epoch %d: report refused (%v); retrying with %d units", e, err, len(kept))
	msg.Units = kept
	return d.Signer.Report(ctx, msg)
}

// keepAssigned keeps the targets among units, the units assigned to the
// oracle; all of them when the epoch assigns none (fixed false: any
// oracle may report, the chain still refuses a provider's own units).
func keepAssigned(targets []Target, units []string, fixed bool) []Target {
	if !fixed {
		return targets
	}
	mine := make(map[string]bool, len(units))
	for _, u := range units {
		mine[u] = true
	}
	var out []Target
	for _, t := range targets {
		if mine[t.Unit] {
			out = append(out, t)
		}
	}
	return out
}

// unitLess orders "unit-2" before "unit-10".
func unitLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// Run reports every epoch until ctx ends. Errors of one round are logged
// and the next round goes on.
func (d *Daemon) Run(ctx context.Context) error {
	frac := d.SpreadFraction
	if frac <= 0 || frac > 1 {
		frac = 0.8
	}
	for {
		_, err := d.Round(ctx, frac)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			d.logf("round: %v", err)
			if errors.Is(err, context.DeadlineExceeded) || client.CodeOf(err) == "" {
				// The node may be down: do not spin.
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(5 * time.Second):
				}
			}
		}
	}
}
