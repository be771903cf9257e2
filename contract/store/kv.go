// Package store is the contract's state: the KV interface the chain backs
// with its merkle tree, the write Cache that makes a failing message drop
// its writes, an in-memory KV for tests, and key and record helpers.
package store

import (
	"bytes"

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

// MemKV is an ordered in-memory KV for tests and benchmarks.
type MemKV struct{ t *btree.BTreeG[kvItem] }

type kvItem struct{ k, v []byte }

// NewMemKV returns an empty MemKV.
func NewMemKV() *MemKV {
	return &MemKV{t: btree.NewG(32, func(a, b kvItem) bool { return bytes.Compare(a.k, b.k) < 0 })}
}

func (m *MemKV) Get(key []byte) []byte {
	it, ok := m.t.Get(kvItem{k: key})
	if !ok {
		return nil
	}
	return it.v
}

func (m *MemKV) Set(key, value []byte) {
	m.t.ReplaceOrInsert(kvItem{k: append([]byte{}, key...), v: append([]byte{}, value...)})
}

func (m *MemKV) Delete(key []byte) { m.t.Delete(kvItem{k: key}) }

func (m *MemKV) Iterate(start, end []byte, fn func(key, value []byte) bool) {
	visit := func(it kvItem) bool {
		if end != nil && bytes.Compare(it.k, end) >= 0 {
			return false
		}
		return fn(it.k, it.v)
	}
	if start == nil {
		m.t.Ascend(visit)
	} else {
		m.t.AscendGreaterOrEqual(kvItem{k: start}, visit)
	}
}

// Len is the number of keys stored.
func (m *MemKV) Len() int { return m.t.Len() }

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
