package chain

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
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
}

// Node is a running CometBFT node with the contract as its app.
type Node struct {
	Home  string
	App   *App
	RPC   *rpclocal.Local
	cmt   *node.Node
	store *Store
	// archive keeps the QoS history state prunes (see Archive).
	archive *Archive
	dbs     *dbTracker
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
		node.DefaultMetricsProvider(c.Instrumentation),
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
	return &Node{Home: home, App: app, RPC: rpclocal.New(n), cmt: n, store: store, archive: archive, dbs: dbs}, nil
}

// Stop stops consensus and closes the state database.
func (n *Node) Stop() error {
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
