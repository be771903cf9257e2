package chain

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/params"
	"github.com/flashback-network/flashback/tx"
)

// Metrics are the app's Prometheus series (CometBFT's own are on the
// default registry when NodeOptions.Metrics is set). They are observed by
// FinalizeBlock and read nothing at scrape time but the state size.
type Metrics struct {
	Registry     *prometheus.Registry
	txs          *prometheus.CounterVec
	blockExec    prometheus.Histogram
	epochEnd     prometheus.Histogram
	height       prometheus.Gauge
	activeRes    prometheus.Gauge
	escrow       prometheus.Gauge
	lastBlockAge prometheus.GaugeFunc
	lastBlock    struct {
		sync.Mutex
		at time.Time
	}
}

// NewMetrics makes the app's series on a registry of their own, with the
// state size of dataDir read (by walking it) at scrape time.
func NewMetrics(dataDir string) *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry()}
	m.txs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "flashback_txs_total",
		Help: "Transactions executed in blocks, by the type of their first message and result code name."}, []string{"type", "code"})
	m.blockExec = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "flashback_block_execution_seconds",
		Help: "Time FinalizeBlock took to execute a block (begin block, txs, end block).", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)})
	m.epochEnd = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "flashback_epoch_end_seconds",
		Help: "Time the end-block work took in blocks that closed an epoch (settlement, QoS, scores).", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)})
	m.height = prometheus.NewGauge(prometheus.GaugeOpts{Name: "flashback_block_height", Help: "Height of the last executed block."})
	m.activeRes = prometheus.NewGauge(prometheus.GaugeOpts{Name: "flashback_active_reservations", Help: "Active reservations after the last block."})
	m.escrow = prometheus.NewGauge(prometheus.GaugeOpts{Name: "flashback_escrow_uflash", Help: "Tokens held in reservation escrow after the last block (uflash)."})
	m.lastBlockAge = prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "flashback_last_block_age_seconds",
		Help: "Seconds since this node last executed a block (grows when consensus stalls)."}, func() float64 {
		m.lastBlock.Lock()
		defer m.lastBlock.Unlock()
		if m.lastBlock.at.IsZero() {
			return 0
		}
		return time.Since(m.lastBlock.at).Seconds()
	})
	stateBytes := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "flashback_state_bytes",
		Help: "Bytes on disk of the node's data directory (state, blocks, archive)."}, func() float64 { return float64(dirBytes(dataDir)) })
	m.Registry.MustRegister(m.txs, m.blockExec, m.epochEnd, m.height, m.activeRes, m.escrow, m.lastBlockAge, stateBytes)
	return m
}

// Handler serves the app's series, CometBFT's (consensus, mempool, p2p:
// registered on the default registry when the node runs with metrics) and
// the Go runtime's and process's, as Prometheus text.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(prometheus.Gatherers{prometheus.DefaultGatherer, m.Registry}, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError, MaxRequestsInFlight: 4, Timeout: 10 * time.Second})
}

// observeTx counts one executed tx.
func (m *Metrics) observeTx(raw []byte, code core.Code) {
	if m == nil {
		return
	}
	typ := "undecodable"
	if d, err := tx.Decode(raw); err == nil && len(d.Body.Msgs) > 0 {
		typ = d.Body.Msgs[0].Type
	}
	m.txs.WithLabelValues(typ, code.Name()).Inc()
}

// observeTxType counts one executed tx whose message type is known.
func (m *Metrics) observeTxType(typ string, code core.Code) {
	if m == nil {
		return
	}
	if typ == "" {
		typ = "undecodable"
	}
	m.txs.WithLabelValues(typ, code.Name()).Inc()
}

// observeBlock records a block's execution time and, when it closed an
// epoch, its end-block time.
func (m *Metrics) observeBlock(height int64, exec, endBlock time.Duration, closedEpoch bool) {
	if m == nil {
		return
	}
	m.blockExec.Observe(exec.Seconds())
	if closedEpoch {
		m.epochEnd.Observe(endBlock.Seconds())
	}
	m.height.Set(float64(height))
	m.lastBlock.Lock()
	m.lastBlock.at = time.Now()
	m.lastBlock.Unlock()
}

// observeMarket sets the market gauges from the stats the block left.
func (m *Metrics) observeMarket(active uint64, escrow core.Amount) {
	if m == nil {
		return
	}
	m.activeRes.Set(float64(active))
	m.escrow.Set(float64(escrow))
}

// closesEpoch reports whether a block at t, after one at prev, is the first
// of a new epoch (the block whose end-block work settles the last one).
func closesEpoch(p params.Params, prev, t time.Time) bool {
	if p.EpochSeconds <= 0 || prev.IsZero() {
		return false
	}
	return prev.Unix()/p.EpochSeconds != t.Unix()/p.EpochSeconds
}

// dirBytes sums the sizes of the files under dir (0 if it cannot be read).
func dirBytes(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// healthState is what the node knows of its own failure: the first error
// FinalizeBlock or Commit returned. CometBFT stops consensus on it, so a
// node that has one never commits another block.
type healthState struct {
	mu     sync.Mutex
	failed error
}

func (h *healthState) fail(what string, height int64, err error) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failed == nil {
		if height < 0 {
			h.failed = fmt.Errorf("%s: %w", what, err)
		} else {
			h.failed = fmt.Errorf("%s at height %s: %w", what, strconv.FormatInt(height, 10), err)
		}
	}
	return err
}

func (h *healthState) err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.failed
}
