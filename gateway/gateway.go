// Package gateway is the consumer's S3 endpoint for repositories: it serves
// each repository as a bucket over several member reservations, each
// reached through its provider's bridge (memberClient).
//
// A mirror repository keeps every object on every member: a PUT streams
// the body once to all members at once with bounded memory (fanout.go)
// and succeeds at the write quorum; a GET reads from the best member and
// resumes from another at the byte where one failed (read.go); LIST is the
// union; DELETE goes to all. Members that missed a write or hold a bad copy
// are recorded in a durable repair queue (journal.go) for the repair loop.
// A normal repository shows each member as a top-level folder (normal.go).
//
// The S3 protocol (routing, SigV4, XML, errors) is versitygw's s3api, as in
// the bridge, built with its lower-level constructor so several gateways
// and bridges can share a process.
package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/flashback-network/flashback/receipt"
	"github.com/flashback-network/flashback/s3front"
	"github.com/gofiber/fiber/v3"
	"github.com/versity/versitygw/s3api"
	"github.com/versity/versitygw/s3api/middlewares"
)

// Config configures a Gateway.
type Config struct {
	Directory Directory
	// StateDir keeps the write intents, pending multipart uploads and the
	// repair queue (it must survive restarts).
	StateDir string
	Region   string // SigV4 region clients sign for; default us-east-1
	// MaxConnections caps open client connections (default 10000);
	// MaxInFlight caps requests handled at once, beyond which clients get
	// 503 SlowDown (default 2048).
	MaxConnections, MaxInFlight int
	// StallTimeout is how long a mirrored write waits on a member that
	// takes no data before dropping it (if the quorum allows); default 15s.
	StallTimeout time.Duration
	// VerifyBelow: full reads of objects up to this size are checked
	// against their stored SHA-256 before the first byte is sent; larger
	// ones are checked as they end (default 8 MiB).
	VerifyBelow int64
	// MaxUploadAge: multipart uploads started longer ago are aborted on
	// every member at startup (default 7 days).
	MaxUploadAge time.Duration
	// Logf logs operational events (never secrets); default log.Printf.
	Logf func(format string, args ...any)
	// OwnerSecret gives the owner secrets of encrypted repositories
	// (transform.go); nil: encrypted repositories are refused.
	OwnerSecret OwnerSecret
	// Repair, if set, runs the repair loop over the mirror repositories
	// (repair_loop.go) from New until Shutdown.
	Repair *RepairConfig
	// AdminListen, if set, is the address of the admin endpoints (repair
	// status as JSON, repair_status.go); a host-less ":port" binds
	// 127.0.0.1. Started by New, stopped by Shutdown.
	AdminListen string
}

// Gateway is the S3 endpoint over repositories.
type Gateway struct {
	cfg     Config
	dir     Directory
	clients *clients
	health  *health
	metrics *metrics
	repair  *RepairQueue
	intents intents
	uploads *uploads
	started time.Time
	app     *fiber.App
	loop    *repairLoop // nil: repair is off
	// partHashes: whole-object sums of multipart copies, for repair scans.
	partHashes partHashes
	admin      *adminServer // nil: no admin listener

	serving struct {
		sync.Mutex
		closed bool
		lns    []net.Listener
	}
	// live are the write ids in progress here (their intents are not
	// leftovers).
	live struct {
		sync.Mutex
		ids map[string]bool
	}
}

// New builds a Gateway and resolves what a previous run left unfinished
// (write intents, stale multipart uploads); it serves nothing until Serve.
func New(ctx context.Context, cfg Config) (*Gateway, error) {
	if cfg.Directory == nil {
		return nil, errors.New("gateway: config needs a Directory")
	}
	if cfg.StateDir == "" {
		return nil, errors.New("gateway: config needs a StateDir")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = 10000
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 2048
	}
	if cfg.StallTimeout <= 0 {
		cfg.StallTimeout = 15 * time.Second
	}
	if cfg.VerifyBelow <= 0 {
		cfg.VerifyBelow = 8 << 20
	}
	if cfg.MaxUploadAge <= 0 {
		cfg.MaxUploadAge = 7 * 24 * time.Hour
	}
	if cfg.Logf == nil {
		cfg.Logf = log.Printf
	}
	for _, sub := range []string{"intents", "uploads"} {
		if err := os.MkdirAll(filepath.Join(cfg.StateDir, sub), 0o700); err != nil {
			return nil, fmt.Errorf("gateway: state dir: %w", err)
		}
	}
	rq, err := OpenRepairQueue(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	g := &Gateway{
		cfg: cfg, dir: cfg.Directory, clients: newClients(&receipt.Journal{Dir: filepath.Join(cfg.StateDir, "receipts")}, cfg.Logf), health: newHealth(), repair: rq,
		intents: intents{dir: filepath.Join(cfg.StateDir, "intents")},
		uploads: &uploads{dir: filepath.Join(cfg.StateDir, "uploads")},
		started: time.Now().UTC(),
	}
	g.metrics = newMetrics(g)
	g.health.onObserve = g.metrics.member
	if err := g.recover(ctx); err != nil {
		return nil, err
	}
	if err := g.buildServer(); err != nil {
		return nil, err
	}
	if cfg.AdminListen != "" {
		if err := g.startAdmin(cfg.AdminListen); err != nil {
			return nil, err
		}
	}
	if cfg.Repair != nil {
		g.startRepair(*cfg.Repair)
	}
	return g, nil
}

// RepairQueue is the gateway's repair queue.
func (g *Gateway) RepairQueue() *RepairQueue { return g.repair }

func (g *Gateway) buildServer() error {
	// versitygw's root account bypasses authorization; nobody gets it.
	root := middlewares.RootUserConfig{Access: "FBGWROOT" + randHex(12), Secret: randHex(32)}
	opts := []s3api.Option{
		s3api.WithQuiet(),
		s3api.WithKeepAlive(),
		s3api.WithDisableACL(),
		s3api.WithConcurrencyLimiter(g.cfg.MaxConnections, g.cfg.MaxInFlight),
	}
	srv, err := s3api.New(&backend{g: g}, root, g.cfg.Region, &iam{dir: g.dir}, nil, nil, nil, g.metrics, opts...)
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	app, err := s3front.FiberApp(srv)
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	if fs := app.Server(); fs != nil {
		fs.Handler = s3front.DrainBody(fs.Handler)
		fs.ReadTimeout = 10 * time.Minute // a whole request, body included: bounds a stalled client
		fs.WriteTimeout = 0               // responses stream as long as the client reads
		fs.IdleTimeout = 2 * time.Minute
	}
	g.app = app
	return nil
}

func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// Serve serves S3 on ln until Shutdown (then it returns nil).
func (g *Gateway) Serve(ln net.Listener) error {
	g.serving.Lock()
	if g.serving.closed {
		g.serving.Unlock()
		ln.Close()
		return nil
	}
	g.serving.lns = append(g.serving.lns, ln)
	g.serving.Unlock()
	err := g.app.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true})
	g.serving.Lock()
	closed := g.serving.closed
	g.serving.Unlock()
	if closed {
		return nil
	}
	return err
}

// Shutdown stops accepting connections and waits for requests in flight
// until ctx is done.
func (g *Gateway) Shutdown(ctx context.Context) error {
	g.serving.Lock()
	g.serving.closed = true
	lns := g.serving.lns
	g.serving.Unlock()
	err := g.app.ShutdownWithContext(ctx)
	for _, ln := range lns {
		ln.Close()
	}
	if g.loop != nil {
		g.loop.stop()
	}
	g.clients.hc.CloseIdleConnections() // bridges' shutdowns wait for idle connections
	if g.admin != nil {
		if aerr := g.admin.shutdown(ctx); err == nil {
			err = aerr
		}
	}
	return err
}

// MetricsHandler serves the gateway's Prometheus metrics (the admin
// listener mounts it at /metrics).
func (g *Gateway) MetricsHandler() http.Handler { return g.metrics.handler() }
