package oracle

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are an oracle daemon's Prometheus series, on a registry of its
// own: probes and their failures per unit, reports sent and refused, and
// how long after an epoch's end its report was committed.
type Metrics struct {
	Registry  *prometheus.Registry
	probes    *prometheus.CounterVec
	integrity *prometheus.CounterVec
	reports   *prometheus.CounterVec
	lag       prometheus.Histogram
	epoch     prometheus.Gauge

	mu         sync.Mutex
	lastReport time.Time
}

// NewMetrics makes an oracle's series.
func NewMetrics() *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry()}
	m.probes = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "flashback", Subsystem: "oracle", Name: "probes_total",
		Help: "Probes sent, by unit and result (ok, failed)."}, []string{"unit", "result"})
	m.integrity = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "flashback", Subsystem: "oracle", Name: "integrity_checks_total",
		Help: "Write-and-read-back checks, by unit and result (ok, failed)."}, []string{"unit", "result"})
	m.reports = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "flashback", Subsystem: "oracle", Name: "reports_total",
		Help: "Epoch reports submitted, by result (committed, failed)."}, []string{"result"})
	m.lag = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "flashback", Subsystem: "oracle", Name: "report_lag_seconds",
		Help: "From the moment the oracle saw its epoch end on chain to its report's commit.", Buckets: prometheus.ExponentialBuckets(0.05, 2, 12)})
	m.epoch = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "flashback", Subsystem: "oracle", Name: "last_reported_epoch",
		Help: "The last epoch whose report was committed."})
	m.Registry.MustRegister(m.probes, m.integrity, m.reports, m.lag, m.epoch)
	return m
}

func (m *Metrics) measured(ms []Measurement) {
	if m == nil {
		return
	}
	for _, x := range ms {
		m.probes.WithLabelValues(x.Unit, "ok").Add(float64(x.Successes))
		if x.Probes > x.Successes {
			m.probes.WithLabelValues(x.Unit, "failed").Add(float64(x.Probes - x.Successes))
		}
		m.integrity.WithLabelValues(x.Unit, "ok").Add(float64(x.IntegrityPassed))
		m.integrity.WithLabelValues(x.Unit, "failed").Add(float64(x.IntegrityFailed))
	}
}

func (m *Metrics) reported(epoch int64, since time.Duration, err error) {
	if m == nil {
		return
	}
	if err != nil {
		m.reports.WithLabelValues("failed").Inc()
		return
	}
	m.reports.WithLabelValues("committed").Inc()
	m.lag.Observe(since.Seconds())
	m.epoch.Set(float64(epoch))
	m.mu.Lock()
	m.lastReport = time.Now()
	m.mu.Unlock()
}

// Handler serves /metrics, /healthz (the process answers) and /readyz
// (the node answers and the key is an active oracle).
func (d *Daemon) Handler() http.Handler {
	mux := http.NewServeMux()
	if d.Metrics != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(d.Metrics.Registry, promhttp.HandlerOpts{MaxRequestsInFlight: 4, Timeout: 10 * time.Second}))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if err := d.ready(r.Context()); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_ = json.NewEncoder(w).Encode(map[string]string{"status": "not ready", "error": err.Error()})
			return
		}
		_, _ = w.Write([]byte(`{"status":"ready"}` + "\n"))
	})
	return mux
}

func (d *Daemon) ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := d.clock(ctx); err != nil {
		return errors.New("node: " + err.Error())
	}
	ok, err := d.IsOracle(ctx, d.Address())
	if err != nil {
		return errors.New("node: " + err.Error())
	}
	if !ok {
		return errors.New(d.Address() + " is not an active oracle")
	}
	return nil
}
