// Package chain runs the contract as a CometBFT ABCI application: it turns
// ABCI calls into contract calls, keeps state in a merkle store, and wires the
// node. Like CometBFT's kvstore example, it stays thin: every rule lives in
// the contract.
package chain

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/flashback-network/flashback/contract"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/params"
	"github.com/flashback-network/flashback/contract/qos"
	"github.com/flashback-network/flashback/contract/store"
	"github.com/flashback-network/flashback/tx"
)

// Version is the application version reported to CometBFT.
const Version = "0.1.0"

var keyChainID = []byte("meta/chain_id")
var keyLastTime = []byte("meta/last_block_time")

// keyLastHash holds the hash of the last finalized block, the next block's
// core.Block.PrevHash. It is state (not memory) so a restarted node, and a
// replay, give the contract the same bytes as every other node.
var keyLastHash = []byte("meta/last_block_hash")

// App is the ABCI application.
type App struct {
	abci.BaseApplication

	// mu guards everything below. CometBFT's local client already serializes
	// ABCI calls; the lock also covers direct callers such as tests.
	mu      sync.Mutex
	store   *Store
	chainID string
	// check is the mempool's view: committed state plus the ante effects of
	// txs accepted since the last commit.
	check    *store.Cache
	lastTime time.Time
	lastHash []byte // hash of the last finalized block (keyLastHash)
	// sigVerified holds the hashes of txs that CheckTx accepted, whose
	// signatures therefore verified: a recheck of the same bytes skips the
	// verification. Bounded by maxSigVerified.
	sigVerified map[[32]byte]struct{}
	// recheckSkips counts rechecks that skipped verification (for tests).
	recheckSkips int
	// prepareWorkers is how many goroutines verify a block's signatures
	// (0: GOMAXPROCS). serialExec runs each tx with contract.ExecTx, as
	// before parallel verification; tests compare the two.
	prepareWorkers int
	serialExec     bool
	// keys keeps signers' public keys decompressed across blocks.
	keys *tx.KeyCache

	// archive, when set, keeps the QoS history that state prunes.
	archive *Archive

	// AfterBlock, when set, is called after each FinalizeBlock with the
	// block's state (tests use it to check invariants).
	AfterBlock func(kv store.KV, height int64)

	// metrics, when set (UseMetrics), observes every block and tx.
	metrics *Metrics
	// health keeps the first error that stopped block execution.
	health healthState
}

// UseMetrics makes the app observe its blocks and txs into m.
func (a *App) UseMetrics(m *Metrics) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.metrics = m
}

// Failure is the error that stopped this node's block execution (a
// FinalizeBlock or Commit that failed, a full disk for instance), or nil.
// CometBFT halts consensus on such an error; readiness checks read this.
func (a *App) Failure() error { return a.health.err() }

// NewApp wraps a store. The chain id is read from state when the chain has
// been initialized before.
func NewApp(store *Store) (*App, error) {
	a := &App{store: store, sigVerified: make(map[[32]byte]struct{}), keys: tx.NewKeyCache(maxCachedKeys)}
	kv, err := store.Committed()
	if err != nil {
		return nil, err
	}
	a.chainID = string(kv.Get(keyChainID))
	if a.chainID != "" {
		if err := contract.CheckStateVersion(kv); err != nil {
			return nil, err
		}
	}
	if b := kv.Get(keyLastTime); len(b) > 0 {
		_ = a.lastTime.UnmarshalBinary(b)
	}
	a.lastHash = append([]byte(nil), kv.Get(keyLastHash)...)
	if err := a.resetCheck(); err != nil {
		return nil, err
	}
	return a, nil
}

// UseArchive makes the app feed every block's QoS history writes to ar and
// serve history older than state keeps from it.
func (a *App) UseArchive(ar *Archive) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.archive = ar
}

func (a *App) resetCheck() error {
	kv, err := a.store.Committed()
	if err != nil {
		return err
	}
	a.check = store.NewCache(kv)
	return nil
}

// Info tells CometBFT where the app is, so it replays only missing blocks.
func (a *App) Info(context.Context, *abci.RequestInfo) (*abci.ResponseInfo, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return &abci.ResponseInfo{
		Data:             "flashback",
		Version:          Version,
		AppVersion:       contract.StateVersion,
		LastBlockHeight:  a.store.Version(),
		LastBlockAppHash: a.store.Hash(),
	}, nil
}

// InitChain writes genesis into the working tree; it is saved with block 1.
func (a *App) InitChain(_ context.Context, req *abci.RequestInitChain) (*abci.ResponseInitChain, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	// Params absent from genesis keep their defaults.
	g := contract.Genesis{Params: params.Default()}
	if err := json.Unmarshal(req.AppStateBytes, &g); err != nil {
		return nil, fmt.Errorf("genesis app_state: %w", err)
	}
	kv := a.store.Working()
	if err := contract.InitGenesis(kv, g); err != nil {
		return nil, fmt.Errorf("genesis: %w", err)
	}
	kv.Set(keyChainID, []byte(req.ChainId))
	contract.WriteStateVersion(kv)
	a.chainID = req.ChainId
	// Until block 1 commits, the mempool must see genesis, not empty state.
	a.check = store.NewCache(kv)
	return &abci.ResponseInitChain{AppHash: a.store.WorkingHash()}, nil
}

func (a *App) nextBlock() core.Block {
	return core.Block{ChainID: a.chainID, Height: a.store.Version() + 1, Time: a.lastTime, PrevHash: a.lastHash}
}

// maxSigVerified bounds the recheck cache. CometBFT's mempool holds 5,000
// txs by default; txs it drops without a recheck leave stale entries, so
// the cache starts over when it reaches this size.
const maxSigVerified = 50_000

// maxCachedKeys bounds the decompressed public keys kept for batch
// verification (a few hundred bytes each).
const maxCachedKeys = 20_000

// CheckTx runs the ante checks against the mempool view. A recheck (after a
// block, of a tx already in the mempool) skips the signature check that
// CheckTx did when the tx arrived; sequence, fee and balance are checked
// again against the new state.
func (a *App) CheckTx(_ context.Context, req *abci.RequestCheckTx) (*abci.ResponseCheckTx, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	sig := contract.VerifySig
	var hash [32]byte
	hashed := len(req.Tx) <= tx.MaxTxBytes
	if hashed {
		hash = tx.Hash(req.Tx)
	}
	if _, seen := a.sigVerified[hash]; hashed && seen && req.Type == abci.CheckTxType_Recheck {
		sig = contract.SigAlreadyVerified
		a.recheckSkips++
	}
	res := contract.ExecPrepared(a.check, a.nextBlock(), contract.PrepareTx(req.Tx, sig), contract.Check)
	switch {
	case !hashed:
	case res.Code == core.CodeOK:
		if len(a.sigVerified) >= maxSigVerified {
			clear(a.sigVerified)
		}
		a.sigVerified[hash] = struct{}{}
	default:
		// A rejected tx leaves the mempool.
		delete(a.sigVerified, hash)
	}
	return &abci.ResponseCheckTx{Code: uint32(res.Code), Codespace: codespace(res.Code), Log: res.Log}, nil
}

// FinalizeBlock executes a decided block and returns the new app hash.
func (a *App) FinalizeBlock(_ context.Context, req *abci.RequestFinalizeBlock) (*abci.ResponseFinalizeBlock, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	resp, err := a.finalizeBlock(req)
	if err != nil {
		return nil, a.health.fail("finalize block", req.Height, err)
	}
	return resp, nil
}

func (a *App) finalizeBlock(req *abci.RequestFinalizeBlock) (*abci.ResponseFinalizeBlock, error) {
	start := time.Now() // metrics only: never reaches state
	blk := core.Block{ChainID: a.chainID, Height: req.Height, Time: req.Time, PrevHash: a.lastHash}
	if want := a.store.Version() + 1; req.Height != want {
		return nil, fmt.Errorf("finalize block %d: state is at %d", req.Height, want-1)
	}
	cache := store.NewCache(newReadMemo(a.store.Working()))
	resp := &abci.ResponseFinalizeBlock{}
	resp.Events = append(resp.Events, toABCI(contract.BeginBlock(cache, blk))...)
	resp.TxResults = a.execTxs(cache, blk, req.Txs)
	endStart := time.Now()
	resp.Events = append(resp.Events, toABCI(contract.EndBlock(cache, blk))...)
	if a.metrics != nil {
		a.metrics.observeBlock(req.Height, time.Since(start), time.Since(endStart), closesEpoch(params.Get(cache), a.lastTime, req.Time))
		a.metrics.observeMarket(qos.GetStats(cache).LiveReservations, bank.PoolBalance(cache, bank.PoolEscrow))
	}
	tb, _ := req.Time.MarshalBinary()
	cache.Set(keyLastTime, tb)
	if len(req.Hash) > 0 {
		cache.Set(keyLastHash, req.Hash)
	}
	if a.archive != nil {
		if err := a.archive.add(cache); err != nil {
			return nil, fmt.Errorf("finalize block %d: %w", req.Height, err)
		}
	}
	cache.Write()
	if a.AfterBlock != nil {
		a.AfterBlock(a.store.Working(), req.Height)
	}
	a.lastTime = req.Time
	if len(req.Hash) > 0 {
		a.lastHash = append([]byte(nil), req.Hash...)
	}
	resp.AppHash = a.store.WorkingHash()
	return resp, nil
}

// execTxs runs a block's txs in order. Their signatures are verified in
// parallel, ahead of execution; a tx waits only if it is not verified yet.
func (a *App) execTxs(cache *store.Cache, blk core.Block, raws [][]byte) []*abci.ExecTxResult {
	out := make([]*abci.ExecTxResult, len(raws))
	var pb *preparedBlock
	if !a.serialExec {
		pb = prepareBlock(raws, a.prepareWorkers, a.keys)
		defer pb.wait()
	}
	for i, raw := range raws {
		var res contract.Result
		if pb == nil {
			res = contract.ExecTx(cache, blk, raw, contract.Deliver)
			delete(a.sigVerified, tx.Hash(raw))
			a.metrics.observeTx(raw, res.Code)
		} else {
			p := pb.get(i)
			res = contract.ExecPrepared(cache, blk, p, contract.Deliver)
			// The tx leaves the mempool with this block.
			typ := ""
			if d := p.Decoded(); d != nil {
				delete(a.sigVerified, d.Hash)
				if len(d.Body.Msgs) > 0 {
					typ = d.Body.Msgs[0].Type
				}
			}
			a.metrics.observeTxType(typ, res.Code)
		}
		out[i] = &abci.ExecTxResult{
			Code:      uint32(res.Code),
			Codespace: codespace(res.Code),
			Log:       res.Log,
			Events:    toABCI(res.Events),
		}
	}
	return out
}

// Commit persists the finalized block's state.
func (a *App) Commit(context.Context, *abci.RequestCommit) (*abci.ResponseCommit, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, _, err := a.store.Commit(); err != nil {
		return nil, a.health.fail("commit", a.store.Version()+1, err)
	}
	if err := a.resetCheck(); err != nil {
		return nil, a.health.fail("commit", a.store.Version(), err)
	}
	return &abci.ResponseCommit{}, nil
}

// Query answers reads from the last committed state. The path is a contract
// query path such as "/account/fb1…", or SimulatePath.
func (a *App) Query(_ context.Context, req *abci.RequestQuery) (resp *abci.ResponseQuery, _ error) {
	if isSimulate(req.Path) {
		return a.simulateQuery(req), nil // simulate.go
	}
	a.mu.Lock()
	kv, err := a.store.Committed()
	height := a.store.Version()
	var archive store.KV
	if a.archive != nil {
		archive = a.archive.KV()
	}
	a.mu.Unlock()
	if err != nil {
		return &abci.ResponseQuery{Code: uint32(core.CodeInternal), Log: err.Error()}, nil
	}
	// A broken database panics in the KV adapters; a query reports it
	// rather than take the node down.
	defer func() {
		if v := recover(); v != nil {
			resp = &abci.ResponseQuery{Code: uint32(core.CodeInternal), Codespace: core.Codespace, Log: fmt.Sprint("query: ", v), Height: height}
		}
	}()
	// The committed snapshot is immutable, so the query runs unlocked. The
	// archive may already hold the writes of the block being finalized:
	// they are the values that block commits.
	out, err := contract.QueryArchived(kv, archive, req.Path)
	if err != nil {
		code := core.CodeOf(err)
		return &abci.ResponseQuery{Code: uint32(code), Codespace: codespace(code), Log: err.Error(), Height: height}, nil
	}
	return &abci.ResponseQuery{Value: out, Height: height}, nil
}

// ChainID is the chain this app runs.
func (a *App) ChainID() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.chainID
}

func codespace(c core.Code) string {
	if c == core.CodeOK {
		return ""
	}
	return core.Codespace
}

func toABCI(evs []core.Event) []abci.Event {
	out := make([]abci.Event, 0, len(evs))
	for _, e := range evs {
		ae := abci.Event{Type: e.Type}
		if len(e.Attrs) > 0 {
			ae.Attributes = make([]abci.EventAttribute, 0, len(e.Attrs))
		}
		for _, at := range e.Attrs {
			ae.Attributes = append(ae.Attributes, abci.EventAttribute{Key: at.Key, Value: at.Value, Index: true})
		}
		out = append(out, ae)
	}
	return out
}
