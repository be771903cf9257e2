package daemon

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/flashback-network/flashback/bridge"
	"github.com/flashback-network/flashback/bridge/chainview"
)

// maxViewAge is how long the chain view may go without matching the chain
// before the bridge says it is not ready: it would serve revoked keys or
// ended reservations, or refuse new ones, for that long.
const maxViewAge = 30 * time.Second

// viewReady reports whether the bridge's view of the chain is current.
func viewReady(view *chainview.View) error {
	synced, at := view.Freshness()
	switch {
	case !synced:
		return fmt.Errorf("the chain view is not synced (the node is unreachable or a sync failed)")
	case time.Since(at) > maxViewAge:
		return fmt.Errorf("the chain view last matched the chain %s ago (more than %s)", time.Since(at).Round(time.Second), maxViewAge)
	}
	return nil
}

// registerViewMetrics exports the chain view's sync lag and height.
func registerViewMetrics(b *bridge.Bridge, view *chainview.View) error {
	age := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "flashback", Subsystem: "bridge", Name: "chain_view_age_seconds",
		Help: "Seconds since the bridge's view of its reservations and keys last matched the chain (sync lag)."}, func() float64 {
		_, at := view.Freshness()
		if at.IsZero() {
			return -1
		}
		return time.Since(at).Seconds()
	})
	height := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "flashback", Subsystem: "bridge", Name: "chain_view_height",
		Help: "The block height the bridge's chain view reflects."}, func() float64 { return float64(view.Height()) })
	return b.RegisterMetrics(age, height)
}
