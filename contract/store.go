package contract

import (
	"bytes"
	"sort"

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

// Cache buffers writes over a parent KV so that a message which fails can be
// dropped whole: nothing it wrote reaches the parent unless Write is called.
type Cache struct {
	parent KV
	writes map[string]*[]byte // nil pointer = deleted
}

// NewCache returns an empty write buffer over parent.
func NewCache(parent KV) *Cache {
	return &Cache{parent: parent, writes: make(map[string]*[]byte)}
}

func (c *Cache) Get(key []byte) []byte {
	if v, ok := c.writes[string(key)]; ok {
		if v == nil {
			return nil
		}
		return *v
	}
	return c.parent.Get(key)
}

func (c *Cache) Set(key, value []byte) {
	v := append([]byte(nil), value...)
	c.writes[string(key)] = &v
}

func (c *Cache) Delete(key []byte) { c.writes[string(key)] = nil }

// Iterate merges the buffered writes with the parent's keys in order.
func (c *Cache) Iterate(start, end []byte, fn func(key, value []byte) bool) {
	var keys []string
	for k := range c.writes {
		if inRange([]byte(k), start, end) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	i := 0
	stopped := false
	// emit pending cache keys below limit (all of them when all is set; a
	// nil limit can be the empty key, so it cannot mean "no bound").
	flush := func(limit []byte, all bool) bool {
		for i < len(keys) && (all || keys[i] < string(limit)) {
			k := keys[i]
			i++
			if v := c.writes[k]; v != nil {
				if !fn([]byte(k), *v) {
					return false
				}
			}
		}
		return true
	}
	c.parent.Iterate(start, end, func(k, v []byte) bool {
		if !flush(k, false) {
			stopped = true
			return false
		}
		if _, over := c.writes[string(k)]; over {
			if i < len(keys) && keys[i] == string(k) {
				i++
				if w := c.writes[string(k)]; w != nil {
					if !fn(k, *w) {
						stopped = true
						return false
					}
				}
			}
			return true
		}
		if !fn(k, v) {
			stopped = true
			return false
		}
		return true
	})
	if !stopped {
		flush(nil, true)
	}
}

// Write applies the buffered writes to the parent in key order (so the
// parent sees a deterministic sequence) and empties the buffer.
func (c *Cache) Write() {
	keys := make([]string, 0, len(c.writes))
	for k := range c.writes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v := c.writes[k]; v == nil {
			c.parent.Delete([]byte(k))
		} else {
			c.parent.Set([]byte(k), *v)
		}
	}
	c.writes = make(map[string]*[]byte)
}

// Discard drops the buffered writes.
func (c *Cache) Discard() { c.writes = make(map[string]*[]byte) }

func inRange(k, start, end []byte) bool {
	if start != nil && bytes.Compare(k, start) < 0 {
		return false
	}
	if end != nil && bytes.Compare(k, end) >= 0 {
		return false
	}
	return true
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
