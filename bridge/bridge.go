// Package bridge is the S3 protocol front of the Flashback bridge: it serves
// every reservation as an S3 bucket named after it, stores its objects in
// the unit's storage backend under "<reservation>/", authenticates access
// keys (SigV4 headers, presigned URLs, aws-chunked payloads with trailing
// checksums; SigV2 headers and presigned URLs, see sigv2.go) and authorizes
// them against their reservation, enforces the reservation's quota and
// egress allowance, and meters usage. Besides objects it keeps their tags,
// checksums and parts (extras.go, checksum.go) and each reservation's CORS
// configuration (cors.go); it refuses server-side encryption (sse.go).
//
// The S3 protocol itself (routing, SigV4, chunked payloads, XML, errors) is
// versitygw's s3api (github.com/versity/versitygw), built with its
// lower-level constructor so that several bridges can run in one process;
// this package provides its storage backend (gateway.go) and its IAM
// (iam.go).
package bridge

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/flashback-network/flashback/s3front"
	"github.com/flashback-network/flashback/storage"
	"github.com/gofiber/fiber/v3"
	"github.com/valyala/fasthttp"
	"github.com/versity/versitygw/s3api"
	"github.com/versity/versitygw/s3api/middlewares"
)

// Config configures a Bridge.
type Config struct {
	Addr   string // listen address for ListenAndServe
	Region string // SigV4 region clients must sign for; default "us-east-1"
	// Backends maps unit ids to their storage backends; a reservation is
	// served only if its unit has one. Backend, when set, serves units not
	// in Backends.
	Backends     map[string]storage.Backend
	Backend      storage.Backend
	Keys         Keys
	Reservations Reservations
	// VirtualHostDomain enables virtual-host style addressing
	// (<bucket>.<domain>) besides path style.
	VirtualHostDomain string
	// MaxConnections caps open client connections (default 10000);
	// MaxInFlight caps requests being handled at once, beyond which clients
	// get 503 SlowDown (default 2048).
	MaxConnections, MaxInFlight int
	// ListCacheBytes is the memory of the listing cache in front of S3
	// backends (listcache.go; default 32 MiB). Negative turns it off: do
	// so when anything besides this bridge writes the backend's bucket.
	ListCacheBytes int64
	// ReceiptKey, when set, signs a receipt for every successful write and
	// delete (receipts.go): the provider's account key, whose address is
	// the provider's on chain. ChainID is the chain the receipts name
	// (required with a key).
	ReceiptKey ed25519.PrivateKey
	ChainID    string
	// Probe, when set, is the oracles' probe endpoint (package probe),
	// served on the S3 listener under probe.PathPrefix (probepath.go).
	Probe http.Handler
}

// Bridge is an S3 endpoint over the reservations of some units.
type Bridge struct {
	cfg     Config
	region  string
	started time.Time
	srv     *s3api.S3ApiServer
	app     *fiber.App
	metrics *metrics
	locks   keyLocks
	extras  extrasIndex // which objects have tags, parts or a checksum beside them
	cors    corsCache   // the reservations' CORS configurations, read through
	// receipts signs receipts (nil: none are sent).
	receipts *receiptSigner

	// serving guards the listeners handed to Serve, so that a Shutdown
	// that comes before the server has taken a listener still stops it.
	serving struct {
		sync.Mutex
		closed bool
		lns    []net.Listener
	}

	mu     sync.Mutex
	states map[string]*resState
}

// New builds a Bridge; it serves nothing until Serve.
func New(cfg Config) (*Bridge, error) {
	if cfg.Keys == nil || cfg.Reservations == nil {
		return nil, errors.New("bridge: config needs Keys and Reservations")
	}
	if cfg.Backend == nil && len(cfg.Backends) == 0 {
		return nil, errors.New("bridge: config needs a backend")
	}
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = 10000
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 2048
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	cfg.Backend, cfg.Backends = withListCaches(cfg.Backend, cfg.Backends, cfg.ListCacheBytes)
	signer, err := newReceiptSigner(cfg)
	if err != nil {
		return nil, err
	}
	b := &Bridge{cfg: cfg, region: cfg.Region, started: time.Now().UTC(), states: make(map[string]*resState), receipts: signer}
	b.metrics = newMetrics(b)

	// versitygw's root account bypasses all authorization; nobody gets it:
	// its credentials are random and never leave this process.
	root := middlewares.RootUserConfig{Access: "FBROOT" + randHex(12), Secret: randHex(32)}
	opts := []s3api.Option{
		s3api.WithQuiet(),
		s3api.WithKeepAlive(),
		s3api.WithDisableACL(),
		s3api.WithConcurrencyLimiter(cfg.MaxConnections, cfg.MaxInFlight),
		s3api.WithMiddleware("/", b.middleware),
		s3api.WithMiddleware("/", refuseSSE),
		s3api.WithMiddleware("/", b.sigV2),
	}
	if cfg.VirtualHostDomain != "" {
		opts = append(opts, s3api.WithHostStyle(cfg.VirtualHostDomain))
	}
	srv, err := s3api.New(&gateway{b: b}, root, cfg.Region, &iam{keys: cfg.Keys}, nil, nil, nil, opTracker, opts...)
	if err != nil {
		return nil, fmt.Errorf("bridge: %w", err)
	}
	app, err := s3front.FiberApp(srv)
	if err != nil {
		return nil, fmt.Errorf("bridge: %w", err)
	}
	b.srv, b.app = srv, app
	if fs := app.Server(); fs != nil {
		fs.ErrorHandler = connError
		fs.Handler = s3front.DrainBody(b.withProbe(fs.Handler))
		fs.ExpectHandler = expectAuthenticated(app, &iam{keys: cfg.Keys}, root, cfg.Region)
	}
	return b, nil
}

// connError answers requests fasthttp could not parse (a garbled request
// line, oversized headers, a body cut short of its Content-Length). Fiber
// would hand these to versitygw's error handler, which calls every non-S3
// error a 500 InternalError; they are the client's fault, so they get the
// 4xx S3 error that says so.
func connError(ctx *fasthttp.RequestCtx, err error) {
	status, code, msg := http.StatusBadRequest, "BadRequest", "The request could not be parsed as HTTP."
	var small *fasthttp.ErrSmallBuffer
	var netErr net.Error
	switch {
	case errors.As(err, &small):
		status, code, msg = http.StatusRequestHeaderFieldsTooLarge, "RequestHeaderSectionTooLarge", "Your request header section exceeds the maximum allowed size."
	case errors.As(err, &netErr) && netErr.Timeout():
		status, code, msg = http.StatusRequestTimeout, "RequestTimeout", "Your socket connection to the server was not read from or written to within the timeout period."
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		status, code, msg = http.StatusRequestEntityTooLarge, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size."
	case errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "unexpected EOF"):
		status, code, msg = http.StatusBadRequest, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header."
	case strings.Contains(err.Error(), "unsupported http request method"):
		status, code, msg = http.StatusNotImplemented, "NotImplemented", "A header you provided implies functionality that is not implemented."
	}
	ctx.Response.Reset()
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/xml")
	ctx.SetBodyString(fmt.Sprintf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message></Error>", code, msg))
}

var opTracker opManager

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// Serve serves S3 on ln until Shutdown (then it returns nil).
func (b *Bridge) Serve(ln net.Listener) error {
	b.serving.Lock()
	if b.serving.closed {
		b.serving.Unlock()
		ln.Close()
		return nil
	}
	b.serving.lns = append(b.serving.lns, ln)
	b.serving.Unlock()
	err := b.app.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true})
	if b.isShutDown() {
		return nil // the listener was closed by Shutdown
	}
	return err
}

func (b *Bridge) isShutDown() bool {
	b.serving.Lock()
	defer b.serving.Unlock()
	return b.serving.closed
}

// ListenAndServe listens on Config.Addr and serves.
func (b *Bridge) ListenAndServe() error {
	ln, err := net.Listen("tcp", b.cfg.Addr)
	if err != nil {
		return err
	}
	return b.Serve(ln)
}

// Shutdown stops accepting connections and waits for requests in flight
// until ctx is done.
// A Serve that has not started serving yet returns too: its listener is
// closed here.
func (b *Bridge) Shutdown(ctx context.Context) error {
	b.serving.Lock()
	b.serving.closed = true
	lns := b.serving.lns
	b.serving.Unlock()
	err := b.app.ShutdownWithContext(ctx)
	for _, ln := range lns {
		ln.Close() // fiber closed those it had taken; this catches the rest
	}
	return err
}

// lookupRes resolves a bucket name to a reservation served by this bridge.
func (b *Bridge) lookupRes(bucket string) (Reservation, storage.Backend, bool) {
	if bucket == "" {
		return Reservation{}, nil, false
	}
	res, ok := b.cfg.Reservations.Get(bucket)
	if !ok || res.ID != bucket {
		return Reservation{}, nil, false
	}
	be, ok := b.cfg.Backends[res.Unit]
	if !ok {
		be = b.cfg.Backend
	}
	if be == nil {
		return Reservation{}, nil, false
	}
	return res, be, true
}

func (b *Bridge) state(res Reservation) *resState {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.states[res.ID]
	if st == nil {
		st = &resState{id: res.ID, unit: res.Unit}
		b.states[res.ID] = st
	}
	return st
}

// Usage returns what was metered per reservation (those used since the
// bridge started), keyed by reservation id.
func (b *Bridge) Usage() map[string]Usage {
	states := b.resStates()
	out := make(map[string]Usage, len(states))
	for _, st := range states {
		out[st.id] = st.usage()
	}
	return out
}

// resStates are the reservations' states, by id.
func (b *Bridge) resStates() []*resState {
	b.mu.Lock()
	states := make([]*resState, 0, len(b.states))
	for _, st := range b.states {
		states = append(states, st)
	}
	b.mu.Unlock()
	sort.Slice(states, func(i, j int) bool { return states[i].id < states[j].id })
	return states
}
