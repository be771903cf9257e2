package gateway

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/versity/versitygw/s3err"
)

// metrics are the gateway's Prometheus series, on a registry of its own
// (several gateways can live in one process). S3 requests are counted from
// versitygw's metrics hook (Send, called once per request with its action,
// status and content length); member requests from the health tracker; the
// repair queue and members' standing are read at scrape time.
type metrics struct {
	reg        *prometheus.Registry
	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	bytes      *prometheus.CounterVec
	memberReqs *prometheus.CounterVec
	memberTime *prometheus.HistogramVec
}

func newMetrics(g *Gateway) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "flashback", Subsystem: "gateway", Name: "requests_total",
			Help: "S3 requests by repository (bucket), operation and HTTP status."}, []string{"repo", "op", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "flashback", Subsystem: "gateway", Name: "request_duration_seconds",
			Help: "Time to handle an S3 request (to the first byte of a streamed body).", Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 14)}, []string{"op"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "flashback", Subsystem: "gateway", Name: "bytes_total",
			Help: "Object bytes by direction: in (PutObject, UploadPart bodies) and out (GetObject bodies)."}, []string{"direction"}),
		memberReqs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "flashback", Subsystem: "gateway", Name: "member_requests_total",
			Help: "Requests the gateway made to members' bridges, by member reservation and result (ok, failed)."}, []string{"member", "result"}),
		memberTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "flashback", Subsystem: "gateway", Name: "member_first_byte_seconds",
			Help: "Time to first byte of members' answers.", Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 14)}, []string{"member"}),
	}
	queue := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "flashback", Subsystem: "gateway", Name: "repair_queue_records",
		Help: "Copies recorded as missing or bad on some member, waiting for repair."}, func() float64 {
		recs, err := g.repair.List()
		if err != nil {
			return -1
		}
		return float64(len(recs))
	})
	m.reg.MustRegister(m.requests, m.latency, m.bytes, m.memberReqs, m.memberTime, queue)
	return m
}

// Send is versitygw's per-request metrics hook.
func (m *metrics) Send(ctx fiber.Ctx, err error, action string, count int64, status int) {
	if err != nil {
		var s3e s3err.S3Error
		switch {
		case errors.As(err, &s3e):
			status = s3e.StatusCode()
		default:
			var fe *fiber.Error
			if errors.As(err, &fe) {
				status = fe.Code
			} else {
				status = http.StatusInternalServerError
			}
		}
	}
	if status == 0 {
		status = http.StatusOK
	}
	op := strings.TrimPrefix(action, "s3_")
	if op == "" {
		op = "Unknown"
	}
	m.requests.WithLabelValues(ctx.Params("bucket"), op, strconv.Itoa(status)).Inc()
	if start := ctx.RequestCtx().Time(); !start.IsZero() {
		m.latency.WithLabelValues(op).Observe(time.Since(start).Seconds())
	}
	if err == nil && count > 0 {
		switch op {
		case "PutObject", "UploadPart":
			m.bytes.WithLabelValues("in").Add(float64(count))
		case "GetObject":
			m.bytes.WithLabelValues("out").Add(float64(count))
		}
	}
}

// Close is part of versitygw's metrics interface.
func (m *metrics) Close() {}

// member records one request to a member's bridge.
func (m *metrics) member(id string, d time.Duration, failed bool) {
	if m == nil {
		return
	}
	res := "ok"
	if failed {
		res = "failed"
	}
	m.memberReqs.WithLabelValues(id, res).Inc()
	if !failed {
		m.memberTime.WithLabelValues(id).Observe(d.Seconds())
	}
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{MaxRequestsInFlight: 4, Timeout: 10 * time.Second})
}

// ready reports whether the gateway can serve: it listens for S3 and its
// directory (the chain, in chain mode) answers a lookup.
func (g *Gateway) ready(ctx context.Context) error {
	g.serving.Lock()
	listening, closed := len(g.serving.lns) > 0, g.serving.closed
	g.serving.Unlock()
	switch {
	case closed:
		return errors.New("shutting down")
	case !listening:
		return errors.New("not serving S3 yet")
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := g.dir.Repo(ctx, "readyz-probe.invalid"); err != nil && !errors.Is(err, ErrNotFound) {
		return errors.New("directory does not answer: " + err.Error())
	}
	return nil
}
