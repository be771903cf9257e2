package store

import (
	"bytes"

	"github.com/google/btree"
)

// Cache buffers writes over a parent KV so that a message which fails can be
// dropped whole: nothing it wrote reaches the parent unless Write is called.
// The writes are kept in key order (a btree), so Iterate merges them with
// the parent without sorting, and Write hands them on in key order.
type Cache struct {
	parent KV
	writes *btree.BTreeG[cacheEntry]
	// memo holds values decoded from keys this cache has not written
	// (see Memo); a write to the key drops its entry.
	memo map[string]any
}

// cacheEntry is one buffered write; deleted marks a delete.
type cacheEntry struct {
	key, value []byte
	deleted    bool
}

func lessEntry(a, b cacheEntry) bool { return bytes.Compare(a.key, b.key) < 0 }

// NewCache returns an empty write buffer over parent.
func NewCache(parent KV) *Cache {
	return &Cache{parent: parent, writes: btree.NewG(16, lessEntry)}
}

func (c *Cache) Get(key []byte) []byte {
	if e, ok := c.writes.Get(cacheEntry{key: key}); ok {
		if e.deleted {
			return nil
		}
		return e.value
	}
	return c.parent.Get(key)
}

func (c *Cache) Set(key, value []byte) {
	delete(c.memo, string(key))
	c.writes.ReplaceOrInsert(cacheEntry{key: append([]byte(nil), key...), value: append([]byte(nil), value...)})
}

func (c *Cache) Delete(key []byte) {
	delete(c.memo, string(key))
	c.writes.ReplaceOrInsert(cacheEntry{key: append([]byte(nil), key...), deleted: true})
}

// ascend visits the buffered writes in [start, end) in key order.
func (c *Cache) ascend(start, end []byte, fn func(e cacheEntry) bool) {
	visit := func(e cacheEntry) bool {
		if end != nil && bytes.Compare(e.key, end) >= 0 {
			return false
		}
		return fn(e)
	}
	if start == nil {
		c.writes.Ascend(visit)
	} else {
		c.writes.AscendGreaterOrEqual(cacheEntry{key: start}, visit)
	}
}

// Iterate merges the buffered writes with the parent's keys in order. The
// buffered writes of the range are collected first (a block's cache holds
// few of them in any one range); the parent is streamed.
func (c *Cache) Iterate(start, end []byte, fn func(key, value []byte) bool) {
	var pending []cacheEntry
	c.ascend(start, end, func(e cacheEntry) bool {
		pending = append(pending, e)
		return true
	})
	i := 0
	stopped := false
	// emit pending writes below limit (all of them when all is set; a nil
	// limit can be the empty key, so it cannot mean "no bound").
	flush := func(limit []byte, all bool) bool {
		for i < len(pending) && (all || bytes.Compare(pending[i].key, limit) < 0) {
			e := c.current(pending[i])
			i++
			if !e.deleted && !fn(e.key, e.value) {
				return false
			}
		}
		return true
	}
	c.parent.Iterate(start, end, func(k, v []byte) bool {
		if !flush(k, false) {
			stopped = true
			return false
		}
		if i < len(pending) && bytes.Equal(pending[i].key, k) {
			e := c.current(pending[i])
			i++
			if !e.deleted && !fn(e.key, e.value) {
				stopped = true
				return false
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

// current is e as it is buffered now: fn may have written since the range
// was collected.
func (c *Cache) current(e cacheEntry) cacheEntry {
	if cur, ok := c.writes.Get(e); ok {
		return cur
	}
	return cacheEntry{key: e.key, deleted: true}
}

// Write applies the buffered writes to the parent in key order (so the
// parent sees a deterministic sequence) and empties the buffer.
func (c *Cache) Write() {
	c.writes.Ascend(func(e cacheEntry) bool {
		if e.deleted {
			c.parent.Delete(e.key)
		} else {
			c.parent.Set(e.key, e.value)
		}
		return true
	})
	c.writes.Clear(false)
	c.memo = nil
}

// Discard drops the buffered writes.
func (c *Cache) Discard() {
	c.writes.Clear(false)
	c.memo = nil
}

// Memo returns decode(kv.Get(key)), decoding at most once for as long as
// the outermost Cache that has not written key lives: a block's cache
// decodes a record such as the params once, and every tx cache over it
// reuses that. decode must not keep or change its input, and callers must
// not change what it returns.
func Memo[T any](kv KV, key []byte, decode func([]byte) T) T {
	c, ok := kv.(*Cache)
	if !ok {
		return decode(kv.Get(key))
	}
	if v, ok := c.memo[string(key)]; ok {
		return v.(T)
	}
	var v T
	if _, written := c.writes.Get(cacheEntry{key: key}); written {
		v = decode(c.Get(key))
	} else {
		v = Memo(c.parent, key, decode)
	}
	if c.memo == nil {
		c.memo = map[string]any{}
	}
	c.memo[string(key)] = v
	return v
}

// EachSet calls fn, in key order, for every value set (not deleted) under
// prefix.
func (c *Cache) EachSet(prefix []byte, fn func(key, value []byte)) {
	c.ascend(prefix, PrefixEnd(prefix), func(e cacheEntry) bool {
		if !e.deleted {
			fn(e.key, e.value)
		}
		return true
	})
}
