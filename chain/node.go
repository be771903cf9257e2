package chain

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	dbm "github.com/cometbft/cometbft-db"
	cfg "github.com/cometbft/cometbft/config"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	rpclocal "github.com/cometbft/cometbft/rpc/client/local"
	"github.com/flashback-network/flashback/contract/store"
)

// NodeOptions override parts of the home's configuration at start.
type NodeOptions struct {
	// BlockTime, when non-zero, overrides timeout_commit.
	BlockTime time.Duration
	// LogLevel is CometBFT's level filter: "error" (default), "info", "debug".
	LogLevel string
	// Logger output; stderr when nil.
	LogOutput *os.File
	// AfterBlock, when set, runs after every block with its state (tests
	// check invariants here).
	AfterBlock func(kv store.KV, height int64)
	// Metrics turns on CometBFT's Prometheus metrics (on the default
	// registry, so at most one such node per process) and the app's
	// (Node.Metrics). The caller serves Node.Metrics.Handler().
	Metrics bool
}

// Node is a running CometBFT node with the contract as its app.
type Node struct {
	Home string
	App  *App
	RPC  *rpclocal.Local
	// Metrics is set when the node runs with NodeOptions.Metrics.
	Metrics *Metrics
	cmt     *node.Node
	store   *Store
	// archive keeps the QoS history state prunes (see Archive).
	archive *Archive
	dbs     *dbTracker
	// stopping is set by Stop, so the consensus watcher tells a stop
	// from a failure; consensus keeps a consensus failure.
	stopping  atomic.Bool
	consensus healthState
}

// Failure is the error that stopped this node from committing blocks, or
// nil: the app's block execution failing (App.Failure), or CometBFT's
// consensus routine ending while the node was not being stopped (it logs
// CONSENSUS FAILURE, a full disk for instance, and halts for good).
func (n *Node) Failure() error {
	if err := n.App.Failure(); err != nil {
		return err
	}
	return n.consensus.err()
}

// failureLogger passes CometBFT's log through and records its consensus
// failure: the consensus routine recovers the panic (a WAL or block store
// write on a full disk), logs CONSENSUS FAILURE and ends, and nothing else
// tells the process that this node will never commit again.
type failureLogger struct {
	cmtlog.Logger
	onFailure func(msg string, keyvals []any)
}

func (l failureLogger) Error(msg string, keyvals ...any) {
	if msg == "CONSENSUS FAILURE!!!" {
		l.onFailure(msg, keyvals)
	}
	l.Logger.Error(msg, keyvals...)
}

func (l failureLogger) With(keyvals ...any) cmtlog.Logger {
	return failureLogger{Logger: l.Logger.With(keyvals...), onFailure: l.onFailure}
}

// dbTracker remembers the databases CometBFT opens: CometBFT v0.38 leaves
// the tx index open at Stop, which would keep its file lock and prevent a
// restart in the same process.
type dbTracker struct {
	mu  sync.Mutex
	dbs []dbm.DB
}

func (t *dbTracker) provide(ctx *cfg.DBContext) (dbm.DB, error) {
	db, err := cfg.DefaultDBProvider(ctx)
	if err == nil {
		t.mu.Lock()
		t.dbs = append(t.dbs, db)
		t.mu.Unlock()
	}
	return db, err
}

func (t *dbTracker) closeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, db := range t.dbs {
		_ = db.Close() // already-closed ones report an error; nothing to do
	}
	t.dbs = nil
}

// StartNode opens the home's state and starts consensus, p2p and the mempool.
func StartNode(home string, o NodeOptions) (*Node, error) {
	c, err := LoadCometConfig(home)
	if err != nil {
		return nil, err
	}
	if o.BlockTime > 0 {
		setBlockTime(c, o.BlockTime)
	}
	out := o.LogOutput
	if out == nil {
		out = os.Stderr
	}
	logger := cmtlog.NewTMLogger(cmtlog.NewSyncWriter(out))
	level := o.LogLevel
	if level == "" {
		level = "error"
	}
	opt, err := cmtlog.AllowLevel(level)
	if err != nil {
		return nil, fmt.Errorf("log level: %w", err)
	}
	logger = cmtlog.NewFilter(logger, opt)
	nd := &Node{}
	logger = failureLogger{Logger: logger, onFailure: func(_ string, keyvals []any) {
		if nd.stopping.Load() {
			return
		}
		cause := "see the log"
		for i := 0; i+1 < len(keyvals); i += 2 {
			if k, _ := keyvals[i].(string); k == "err" {
				cause = fmt.Sprint(keyvals[i+1])
			}
		}
		_ = nd.consensus.fail("consensus", -1, fmt.Errorf("CometBFT's consensus stopped (CONSENSUS FAILURE): %s", cause))
	}}

	if err := reindexRecent(c); err != nil {
		return nil, fmt.Errorf("re-index recent blocks: %w", err)
	}
	store, err := OpenStore(filepath.Join(home, "data"))
	if err != nil {
		return nil, err
	}
	app, err := NewApp(store)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("home %s: %w", home, err)
	}
	archive, err := OpenArchive(filepath.Join(home, "data"))
	if err != nil {
		store.Close()
		return nil, err
	}
	app.UseArchive(archive)
	app.AfterBlock = o.AfterBlock
	var metrics *Metrics
	if o.Metrics {
		metrics = NewMetrics(filepath.Join(home, "data"))
		app.UseMetrics(metrics)
		c.Instrumentation.Prometheus = true
		c.Instrumentation.PrometheusListenAddr = "" // served on the API address, not a listener of CometBFT's own
	}
	closeStores := func() {
		store.Close()
		archive.Close()
	}
	nodeKey, err := p2p.LoadNodeKey(c.NodeKeyFile())
	if err != nil {
		closeStores()
		return nil, fmt.Errorf("node key: %w", err)
	}
	pv := privval.LoadFilePV(c.PrivValidatorKeyFile(), c.PrivValidatorStateFile())
	dbs := &dbTracker{}
	n, err := node.NewNode(c, pv, nodeKey,
		proxy.NewLocalClientCreator(app),
		node.DefaultGenesisDocProviderFunc(c),
		dbs.provide,
		metricsProvider(c.Instrumentation),
		logger,
	)
	if err != nil {
		closeStores()
		return nil, fmt.Errorf("create node: %w", err)
	}
	if err := n.Start(); err != nil {
		dbs.closeAll()
		closeStores()
		return nil, fmt.Errorf("start node: %w", err)
	}
	nd.Home, nd.App, nd.RPC, nd.Metrics, nd.cmt, nd.store, nd.archive, nd.dbs = home, app, rpclocal.New(n), metrics, n, store, archive, dbs
	return nd, nil
}

// Stop stops consensus and closes the state database.
func (n *Node) Stop() error {
	n.stopping.Store(true)
	var err error
	if n.cmt.IsRunning() {
		err = n.cmt.Stop()
		n.cmt.Wait()
	}
	n.dbs.closeAll()
	if cerr := n.store.Close(); err == nil {
		err = cerr
	}
	if cerr := n.archive.Close(); err == nil {
		err = cerr
	}
	return err
}
