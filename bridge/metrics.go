package bridge

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the bridge's Prometheus metrics, on a registry of its own (so
// several bridges can live in one process).
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	in       *prometheus.CounterVec
	out      *prometheus.CounterVec
}

func newMetrics(b *Bridge) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "flashback", Subsystem: "bridge", Name: "requests_total",
			Help: "S3 requests by unit, operation and HTTP status.",
		}, []string{"unit", "op", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "flashback", Subsystem: "bridge", Name: "request_duration_seconds",
			Help:    "Time to handle an S3 request (to the first byte of a streamed response body).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 14),
		}, []string{"unit", "op"}),
		in: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "flashback", Subsystem: "bridge", Name: "bytes_in_total",
			Help: "Object bytes received from clients (PutObject, UploadPart bodies).",
		}, []string{"unit"}),
		out: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "flashback", Subsystem: "bridge", Name: "bytes_out_total",
			Help: "Object bytes sent to clients (GetObject bodies).",
		}, []string{"unit"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.in, m.out, &usageCollector{b: b})
	return m
}

func (m *metrics) bytesIn(unit string, n int) {
	if m != nil && n > 0 {
		m.in.WithLabelValues(unit).Add(float64(n))
	}
}

func (m *metrics) bytesOut(unit string, n int) {
	if m != nil && n > 0 {
		m.out.WithLabelValues(unit).Add(float64(n))
	}
}

// usageCollector exports Usage per reservation.
type usageCollector struct{ b *Bridge }

var (
	descStored  = prometheus.NewDesc("flashback_bridge_reservation_stored_bytes", "Bytes stored by a reservation.", []string{"reservation", "unit"}, nil)
	descIngress = prometheus.NewDesc("flashback_bridge_reservation_ingress_bytes_total", "Bytes written to a reservation.", []string{"reservation", "unit"}, nil)
	descEgress  = prometheus.NewDesc("flashback_bridge_reservation_egress_bytes_total", "Bytes read from a reservation.", []string{"reservation", "unit"}, nil)
	descRefused = prometheus.NewDesc("flashback_bridge_quota_rejections_total",
		"Requests refused for a reservation's limits: kind quota (storage) or egress (allowance).", []string{"reservation", "unit", "kind"}, nil)
)

func (c *usageCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descStored
	ch <- descIngress
	ch <- descEgress
	ch <- descRefused
}

func (c *usageCollector) Collect(ch chan<- prometheus.Metric) {
	for id, u := range c.b.Usage() {
		ch <- prometheus.MustNewConstMetric(descStored, prometheus.GaugeValue, float64(u.StoredBytes), id, u.Unit)
		ch <- prometheus.MustNewConstMetric(descIngress, prometheus.CounterValue, float64(u.Ingress), id, u.Unit)
		ch <- prometheus.MustNewConstMetric(descEgress, prometheus.CounterValue, float64(u.Egress), id, u.Unit)
	}
	for _, st := range c.b.resStates() {
		ch <- prometheus.MustNewConstMetric(descRefused, prometheus.CounterValue, float64(st.quotaRejections.Load()), st.id, st.unit, "quota")
		ch <- prometheus.MustNewConstMetric(descRefused, prometheus.CounterValue, float64(st.egressRejections.Load()), st.id, st.unit, "egress")
	}
}

// Locals keys set by the metrics manager for the request middleware.
const (
	localOp     = "flashback.op"
	localBucket = "flashback.bucket"
)

// opManager implements versitygw's metrics.Manager: versitygw calls Send
// once per request with the S3 action name; we note it for the middleware.
type opManager struct{}

func (opManager) Send(ctx fiber.Ctx, _ error, action string, _ int64, _ int) {
	ctx.Locals(localOp, strings.TrimPrefix(action, "s3_"))
	ctx.Locals(localBucket, ctx.Params("bucket"))
}

func (opManager) Close() {}

// middleware times every request and counts it by unit, op and status.
func (b *Bridge) middleware(ctx fiber.Ctx) error {
	start := time.Now()
	err := nextChecked(ctx)
	status := ctx.Response().StatusCode()
	if err != nil {
		if fe, ok := err.(*fiber.Error); ok {
			status = fe.Code
		} else {
			status = http.StatusInternalServerError
		}
	}
	op, _ := ctx.Locals(localOp).(string)
	if op == "" {
		op = "Unknown"
	}
	unit := ""
	if bucket, _ := ctx.Locals(localBucket).(string); bucket != "" {
		if res, _, ok := b.lookupRes(bucket); ok {
			unit = res.Unit
		}
	}
	b.metrics.requests.WithLabelValues(unit, op, strconv.Itoa(status)).Inc()
	b.metrics.latency.WithLabelValues(unit, op).Observe(time.Since(start).Seconds())
	return err
}

// RegisterMetrics adds collectors of the bridge's daemon (its chain view's
// sync lag) to the bridge's registry.
func (b *Bridge) RegisterMetrics(cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := b.metrics.reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// MetricsHandler serves the bridge's Prometheus metrics (mount it at
// /metrics on an operator-facing listener).
func (b *Bridge) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(b.metrics.reg, promhttp.HandlerOpts{})
}
