package chain

import (
	"fmt"

	"github.com/cosmos/iavl"
	idb "github.com/cosmos/iavl/db"
	"github.com/flashback-network/flashback/contract/store"
)

// keepVersions is how many past state versions stay queryable; older ones
// are pruned so the database does not grow with every block.
const keepVersions = 100

// nodeCacheSize is how many tree nodes stay in memory (Cosmos SDK nodes
// default to 781,250). With 1,000,000 reservations the tree holds about 5
// million keys, 23 levels; at 100,000 nodes a block's writes missed the
// cache about 80 times (a goleveldb read and a node decode each), at
// 1,000,000 about 10 (BenchmarkBlockReservationsOnDisk). A node is a few
// hundred bytes, so this is a few hundred MB at most.
const nodeCacheSize = 1_000_000

// The tree keeps no "fast node" index (a second copy of every value by key,
// which speeds up reads from disk): it costs a write per changed key in every
// block, and with the node cache above, reads walk cached nodes instead.
// Old versions are pruned in IAVL's background goroutine, off Commit's path.
const skipFastStorage = true

// Store is the contract's state in an IAVL merkle tree on goleveldb: one tree
// version per block, whose root hash is the app hash.
type Store struct {
	db   idb.DB
	tree *iavl.MutableTree
}

// OpenStore opens (or creates) the state database in dir and loads the
// latest saved version.
func OpenStore(dir string) (*Store, error) {
	db, err := idb.NewGoLevelDB("app", dir)
	if err != nil {
		return nil, fmt.Errorf("open state db in %s: %w", dir, err)
	}
	return newStore(db)
}

// OpenMemStore returns a store kept in memory, for tests and benchmarks.
func OpenMemStore() (*Store, error) { return newStore(idb.NewMemDB()) }

func newStore(db idb.DB) (*Store, error) {
	tree := iavl.NewMutableTree(db, nodeCacheSize, skipFastStorage, iavl.NewNopLogger(), iavl.SyncOption(false), iavl.AsyncPruningOption(true))
	if _, err := tree.Load(); err != nil {
		db.Close()
		return nil, fmt.Errorf("load state tree: %w", err)
	}
	return &Store{db: db, tree: tree}, nil
}

// Version is the last saved version (= the last committed block height).
func (s *Store) Version() int64 { return s.tree.Version() }

// Hash is the root hash of the last saved version.
func (s *Store) Hash() []byte { return s.tree.Hash() }

// WorkingHash is the root hash including unsaved writes.
func (s *Store) WorkingHash() []byte { return s.tree.WorkingHash() }

// Working is the mutable tree as a KV; writes go to the next version.
func (s *Store) Working() store.KV { return treeKV{t: s.tree} }

// Committed returns a read-only view of the last saved version, safe to use
// while the working tree changes.
func (s *Store) Committed() (store.KV, error) {
	v := s.tree.Version()
	if v == 0 {
		return store.NewMemKV(), nil
	}
	it, err := s.tree.GetImmutable(v)
	if err != nil {
		return nil, fmt.Errorf("state version %d: %w", v, err)
	}
	return immKV{t: it}, nil
}

// Commit saves the working tree as a new version and prunes old ones.
func (s *Store) Commit() ([]byte, int64, error) {
	hash, v, err := s.tree.SaveVersion()
	if err != nil {
		return nil, 0, fmt.Errorf("save state version: %w", err)
	}
	if v > keepVersions {
		if err := s.tree.DeleteVersionsTo(v - keepVersions); err != nil {
			return nil, 0, fmt.Errorf("prune state versions: %w", err)
		}
	}
	return hash, v, nil
}

// Close closes the tree and its database.
func (s *Store) Close() error {
	err := s.tree.Close()
	if cerr := s.db.Close(); err == nil {
		err = cerr
	}
	return err
}

// treeKV adapts the mutable tree. IAVL only fails on a broken database, which
// the contract cannot recover from; those errors panic and the node stops
// rather than commit a wrong state.
type treeKV struct{ t *iavl.MutableTree }

func (k treeKV) Get(key []byte) []byte {
	v, err := k.t.Get(key)
	if err != nil {
		panic(fmt.Errorf("state get: %w", err))
	}
	return v
}

func (k treeKV) Set(key, value []byte) {
	if value == nil {
		value = []byte{}
	}
	if _, err := k.t.Set(key, value); err != nil {
		panic(fmt.Errorf("state set: %w", err))
	}
}

func (k treeKV) Delete(key []byte) {
	if _, _, err := k.t.Remove(key); err != nil {
		panic(fmt.Errorf("state delete: %w", err))
	}
}

func (k treeKV) Iterate(start, end []byte, fn func(key, value []byte) bool) {
	it, err := k.t.Iterator(start, end, true)
	if err != nil {
		panic(fmt.Errorf("state iterate: %w", err))
	}
	defer it.Close()
	for ; it.Valid(); it.Next() {
		if !fn(it.Key(), it.Value()) {
			return
		}
	}
}

type immKV struct{ t *iavl.ImmutableTree }

func (k immKV) Get(key []byte) []byte {
	v, err := k.t.Get(key)
	if err != nil {
		panic(fmt.Errorf("state get: %w", err))
	}
	return v
}

func (k immKV) Set(key, value []byte) { panic("chain: write to a committed state snapshot") }
func (k immKV) Delete(key []byte)     { panic("chain: write to a committed state snapshot") }

func (k immKV) Iterate(start, end []byte, fn func(key, value []byte) bool) {
	it, err := k.t.Iterator(start, end, true)
	if err != nil {
		panic(fmt.Errorf("state iterate: %w", err))
	}
	defer it.Close()
	for ; it.Valid(); it.Next() {
		if !fn(it.Key(), it.Value()) {
			return
		}
	}
}

// readMemo remembers the values a block reads from the tree, so that a key
// every tx reads (the params, a pool) walks the tree once per block rather
// than once per tx. Writes go through it and update it; it lives for one
// FinalizeBlock.
type readMemo struct {
	kv   store.KV
	seen map[string][]byte // a nil value was read as absent
}

func newReadMemo(kv store.KV) *readMemo {
	return &readMemo{kv: kv, seen: make(map[string][]byte)}
}

func (m *readMemo) Get(key []byte) []byte {
	if v, ok := m.seen[string(key)]; ok {
		return v
	}
	v := m.kv.Get(key)
	m.seen[string(key)] = v
	return v
}

func (m *readMemo) Set(key, value []byte) {
	m.kv.Set(key, value)
	m.seen[string(key)] = append([]byte{}, value...)
}

func (m *readMemo) Delete(key []byte) {
	m.kv.Delete(key)
	m.seen[string(key)] = nil
}

func (m *readMemo) Iterate(start, end []byte, fn func(key, value []byte) bool) {
	m.kv.Iterate(start, end, fn)
}
