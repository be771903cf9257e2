package chainview_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/bridge"
	"github.com/flashback-network/flashback/bridge/chainview"
)

// meter is the bridge's usage counters as the reporter reads them.
type meter struct {
	mu sync.Mutex
	u  map[string]bridge.Usage
}

func (m *meter) Usage() map[string]bridge.Usage {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]bridge.Usage, len(m.u))
	for k, v := range m.u {
		out[k] = v
	}
	return out
}

func (m *meter) set(id string, u bridge.Usage) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.u[id] = u
}

// reportNextEpoch waits for the chain to enter a new epoch and reports it.
func reportNextEpoch(t *testing.T, w *world, rep *chainview.Reporter) []*types.TxResult {
	t.Helper()
	for deadline := time.Now().Add(40 * time.Second); time.Now().Before(deadline); {
		res, err := rep.ReportDue(context.Background())
		must(t, "report", err)
		if len(res) > 0 {
			return res
		}
		waitBlock(t, w.c)
	}
	t.Fatal("no epoch ended within 40 s")
	return nil
}

// TestReporterBoundsUsage: a bridge whose counters run past what the
// reservation allows (more stored than reserved, egress past the allowance,
// as when the view lags a resize or a report) reports the bounded figures,
// which the chain accepts, instead of a report the chain refuses whole.
func TestReporterBoundsUsage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	w := startWorld(t)
	ctx := context.Background()
	v := chainview.New(w.viewClient, w.prov.Address(), w.pub, w.priv)
	id := w.reserve(t, w.auto, 86400) // 1 GiB, 1 GiB of egress
	update(t, w, v)
	m := &meter{u: map[string]bridge.Usage{}}
	rep := &chainview.Reporter{View: v, Bridge: m, Signer: w.prov}
	if res, err := rep.ReportDue(ctx); err != nil || res != nil {
		t.Fatalf("first call starts metering: %v %v", res, err)
	}
	m.set(id, bridge.Usage{Unit: w.auto, StoredBytes: 2 << 30, Ingress: 100, Egress: 3 << 29})
	for _, r := range reportNextEpoch(t, w, rep) {
		if r.Code != 0 {
			t.Fatalf("report refused: %s", r.Log)
		}
	}
	r, err := w.c.Reservation(ctx, id)
	must(t, "reservation", err)
	if r.StoredBytes != 1<<30 || r.EgressUsed != 1<<30 || r.IngressBytes != 100 {
		t.Fatalf("on chain: stored %d egress %d ingress %d, want 1 GiB, 1 GiB, 100", r.StoredBytes, r.EgressUsed, r.IngressBytes)
	}
	// The allowance is spent: more egress reports as none, and the report
	// still lands (the view has not re-read the reservation yet).
	m.set(id, bridge.Usage{Unit: w.auto, StoredBytes: 5, Ingress: 150, Egress: 4 << 29})
	reportNextEpoch(t, w, rep)
	r, err = w.c.Reservation(ctx, id)
	must(t, "reservation", err)
	if r.StoredBytes != 5 || r.EgressUsed != 1<<30 || r.IngressBytes != 150 {
		t.Fatalf("second report on chain: stored %d egress %d ingress %d, want 5, 1 GiB, 150", r.StoredBytes, r.EgressUsed, r.IngressBytes)
	}
}
