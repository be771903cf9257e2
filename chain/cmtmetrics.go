package chain

import (
	"sync"

	"github.com/cometbft/cometbft/blocksync"
	cfg "github.com/cometbft/cometbft/config"
	cs "github.com/cometbft/cometbft/consensus"
	mempl "github.com/cometbft/cometbft/mempool"
	"github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/proxy"
	sm "github.com/cometbft/cometbft/state"
	"github.com/cometbft/cometbft/statesync"
)

// cometMetrics are CometBFT's Prometheus metrics, made once per process:
// they register on the default registry, where a second node started in
// the same process (a restart inside a test) would panic on the duplicate.
var cometMetrics struct {
	once sync.Once
	cs   *cs.Metrics
	p2p  *p2p.Metrics
	mem  *mempl.Metrics
	sm   *sm.Metrics
	prx  *proxy.Metrics
	bs   *blocksync.Metrics
	ss   *statesync.Metrics
}

// metricsProvider is node.DefaultMetricsProvider, with the Prometheus
// metrics shared by every node of the process.
func metricsProvider(c *cfg.InstrumentationConfig) node.MetricsProvider {
	if !c.Prometheus {
		return node.DefaultMetricsProvider(c)
	}
	return func(chainID string) (*cs.Metrics, *p2p.Metrics, *mempl.Metrics, *sm.Metrics, *proxy.Metrics, *blocksync.Metrics, *statesync.Metrics) {
		m := &cometMetrics
		m.once.Do(func() {
			m.cs, m.p2p, m.mem, m.sm, m.prx, m.bs, m.ss = node.DefaultMetricsProvider(c)(chainID)
		})
		return m.cs, m.p2p, m.mem, m.sm, m.prx, m.bs, m.ss
	}
}
