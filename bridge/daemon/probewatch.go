package daemon

import (
	"context"
	"fmt"
	"time"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/probe"
)

// probeWatch follows the per-epoch QoS the chain records for the
// provider's units and logs a WARNING for each epoch in which the oracles'
// probes of a unit failed. A failing probe costs stake while everything
// else (S3 traffic, the bridge's own health) can look fine, so the bridge
// says so loudly, with what to check.
type probeWatch struct {
	c        *client.Client
	provider string // the provider's address
	listen   string // this bridge's S3 listen address
	served   map[string]bool
	logf     func(format string, args ...any)
	// last is the last epoch looked at, per unit (absent: not yet).
	last map[string]int64
}

func newProbeWatch(c *client.Client, provider string, cfg *Config, logf func(string, ...any)) *probeWatch {
	served := map[string]bool{}
	for u := range cfg.Units {
		served[u] = true
	}
	return &probeWatch{c: c, provider: provider, listen: cfg.Listen, served: served, logf: logf, last: map[string]int64{}}
}

// run checks about once an epoch (2 s to 1 min) until ctx ends.
func (w *probeWatch) run(ctx context.Context) {
	interval := 30 * time.Second
	if p, err := w.c.Params(ctx); err == nil && p.EpochSeconds > 0 {
		interval = min(max(time.Duration(p.EpochSeconds)*time.Second/2, 2*time.Second), time.Minute)
	}
	for {
		if err := w.check(ctx); err != nil && ctx.Err() == nil {
			w.logf("probe watch: %v", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// check looks at the epochs judged since the last check of each of the
// provider's units on chain (the first time, only the latest one).
func (w *probeWatch) check(ctx context.Context) error {
	units, err := w.units(ctx)
	if err != nil {
		return err
	}
	var endpoint string
	for _, u := range units {
		q, err := w.c.UnitQoS(ctx, u.ID, client.EpochRange{})
		if err != nil {
			return err
		}
		last, seen := w.last[u.ID]
		for i, h := range q.History {
			if (seen && h.Epoch <= last) || (!seen && i < len(q.History)-1) {
				continue
			}
			w.last[u.ID] = h.Epoch
			if h.Probes == 0 || h.Successes >= h.Probes {
				continue
			}
			if endpoint == "" {
				endpoint = w.endpoint(ctx)
			}
			w.logf("%s", w.warning(u.ID, h, endpoint))
		}
		if _, ok := w.last[u.ID]; !ok {
			w.last[u.ID] = -1 // no history yet: every epoch from now on counts
		}
	}
	return nil
}

// units lists the provider's units on chain (all pages).
func (w *probeWatch) units(ctx context.Context) ([]types.UnitView, error) {
	var out []types.UnitView
	cursor := ""
	for {
		page, err := w.c.Units(ctx, client.UnitFilter{Provider: w.provider, Page: client.Page{Limit: market.MaxPageSize, Cursor: cursor}})
		if err != nil {
			return nil, err
		}
		out = append(out, page.Units...)
		if page.NextCursor == "" || len(page.Units) == 0 {
			return out, nil
		}
		cursor = page.NextCursor
	}
}

// endpoint is the provider's registered bridge_endpoint ("?" if unknown).
func (w *probeWatch) endpoint(ctx context.Context) string {
	p, err := w.c.Provider(ctx, w.provider)
	if err != nil {
		return "?"
	}
	return p.Endpoint
}

// warning is the log line for an epoch of unit whose probes failed.
func (w *probeWatch) warning(unit string, h types.UnitEpochQoS, endpoint string) string {
	failed := h.Probes - h.Successes
	s := fmt.Sprintf("WARNING: unit %s epoch %d: %d of %d oracle probes FAILED (status %s, slashed %s)", unit, h.Epoch, failed, h.Probes, h.Status, h.Slashed)
	if !w.served[unit] {
		return s + fmt.Sprintf("; this bridge does not serve %s: add it to the bridge config (flashback bridge init --unit %s=...) or decommission the unit", unit, unit)
	}
	probeURL, err := probe.BaseURL(endpoint)
	if err != nil {
		return s + fmt.Sprintf("; the registered bridge_endpoint %q is not an http(s) URL: fix it with `flashback tx provider update --endpoint`", endpoint)
	}
	return s + fmt.Sprintf("; oracles probe %s/probe/%s (the registered bridge_endpoint + %s): check that it reaches this bridge's S3 listener (%s) and that the unit's backend works (flashback query qos %s)",
		probeURL, unit, probe.PathPrefix, w.listen, unit)
}
