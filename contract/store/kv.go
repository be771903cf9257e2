// Package store is the contract's state: the KV interface the chain backs
// with its merkle tree, the write Cache that makes a failing message drop
// its writes, an in-memory KV for tests, and key and record helpers.
package store

import (
	"unsafe"

	"github.com/google/btree"
)

// KV is the key-value state the contract reads and writes. The chain backs it
// with a merkle tree; tests back it with MemKV. Keys and values handed out
// must not be modified by the receiver.
type KV interface {
	Get(key []byte) []byte
	Set(key, value []byte)
	Delete(key []byte)
	// Iterate calls fn for each key in [start, end) in ascending order until
	// fn returns false. A nil end means no upper bound.
	Iterate(start, end []byte, fn func(key, value []byte) bool)
}

// MemKV is an ordered in-memory KV for tests and benchmarks. Values live in
// a hash map, so a Get or an overwrite costs the same at 10 keys and at
// millions (a btree walk at millions of keys is a few dozen cache misses);
// the btree holds the keys only, for Iterate, and changes only when a key is
// added or removed. Map and btree share each key's bytes.
type MemKV struct {
	values map[string][]byte
	keys   *btree.BTreeG[string]
}

// NewMemKV returns an empty MemKV.
func NewMemKV() *MemKV {
	return &MemKV{values: map[string][]byte{}, keys: btree.NewG(32, func(a, b string) bool { return a < b })}
}

func (m *MemKV) Get(key []byte) []byte { return m.values[string(key)] }

func (m *MemKV) Set(key, value []byte) {
	v := append([]byte{}, value...)
	if _, ok := m.values[string(key)]; ok {
		m.values[string(key)] = v
		return
	}
	k := string(key)
	m.values[k] = v
	m.keys.ReplaceOrInsert(k)
}

func (m *MemKV) Delete(key []byte) {
	if _, ok := m.values[string(key)]; !ok {
		return
	}
	delete(m.values, string(key))
	m.keys.Delete(string(key))
}

func (m *MemKV) Iterate(start, end []byte, fn func(key, value []byte) bool) {
	visit := func(k string) bool {
		if end != nil && k >= string(end) {
			return false
		}
		// The key's bytes are handed out without a copy: receivers must
		// not modify keys (see KV).
		return fn(unsafe.Slice(unsafe.StringData(k), len(k)), m.values[k])
	}
	if start == nil {
		m.keys.Ascend(visit)
	} else {
		m.keys.AscendGreaterOrEqual(string(start), visit)
	}
}

// Len is the number of keys stored.
func (m *MemKV) Len() int { return len(m.values) }

// PrefixEnd returns the smallest key greater than every key with prefix p,
// or nil when there is none (p is all 0xff).
func PrefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
