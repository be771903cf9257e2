package bridge

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flashback-network/flashback/storage"
	"github.com/google/btree"
)

// listCache remembers what the backend's listings said, per reservation
// ("<res>/", a space), so that a LIST of a range nobody wrote since it was
// last listed is answered from memory instead of the backend. It never
// invents an entry: every entry it serves is one the backend listed, so an
// answer from the cache is the answer the backend would give (same keys,
// sizes, ETags and LastModified). Writes through the bridge only mark
// their keys dirty; a LIST whose range holds a dirty key goes to the
// backend, and what that listing returns becomes the cache's view again.
//
// It relies on the bridge owning the backend bucket (as the usage
// accounting and the extras index already do): a write by anyone else is
// not seen. Config.ListCacheBytes < 0 turns it off.
//
// Consistency under concurrent writes: a listing's result is installed for
// a key only if no write of that key was in flight when the result came
// back, and none began or ended while the listing was running (the
// listing's touched set); then the backend's state of the key did not
// change between the listing's read and its installation. A write whose
// backend call failed may still commit later (a cancelled request the
// server finishes), so its key stays uncacheable for failedWriteGrace.
//
// Memory is bounded: entries count against budget bytes; past it whole
// spaces are dropped, least recently used first (a dropped space is simply
// re-learned from the next listings).
type listCache struct {
	budget int64
	total  atomic.Int64
	now    func() time.Time
	tick   atomic.Uint64 // use counter for LRU eviction

	mu     sync.Mutex
	spaces map[string]*listSpace
}

const (
	defaultListCacheBytes = 32 << 20
	// failedWriteGrace: how long a key whose write failed is not cached.
	failedWriteGrace = 15 * time.Minute
	// maxSuspects, maxKnownRanges bound the bookkeeping of one space; past
	// them the space is dropped (suspects: and not cached for the grace).
	maxSuspects    = 10000
	maxKnownRanges = 4096
	// itemOverhead approximates an entry's memory beyond its key and ETag.
	itemOverhead = 160
)

func newListCache(budget int64) *listCache {
	return &listCache{budget: budget, now: time.Now, spaces: make(map[string]*listSpace)}
}

// listSpace is the cache of one reservation. Everything is guarded by mu.
type listSpace struct {
	c     *listCache
	mu    sync.Mutex
	items *btree.BTreeG[*listItem]
	known []keyRange // disjoint, sorted: ranges whose items are the backend's view
	bytes atomic.Int64

	inflight map[string]*keyFlight // writes of a key in progress
	scans    map[*listScan]struct{}
	suspects map[string]time.Time // keys whose write failed, until when
	disabled time.Time            // no caching before this (too many suspects)
	lastUse  atomic.Uint64
}

// listItem is a key of a known range: present with the info the backend
// listed, or dirty (written since: unknown until listed again).
type listItem struct {
	key     string
	info    storage.ObjectInfo // Key, Size, ETag, LastModified as listed
	present bool
	dirty   bool
	// sizeKnown (dirty items): the last write was alone on the key and
	// succeeded, so present and info.Size are what the key holds (what a
	// new write replaces), though not its listed ETag and time.
	sizeKnown bool
}

func (it *listItem) cost() int64 { return int64(len(it.key)+len(it.info.ETag)) + itemOverhead }

// keyFlight counts the writes of one key in progress; overlapped says two
// of them overlapped, so none of their results is what the key holds.
type keyFlight struct {
	n          int
	overlapped bool
}

// listScan is a backend listing in progress: the keys whose writes began or
// ended while it ran.
type listScan struct{ touched map[string]struct{} }

// keyRange is the half-open key range [lo, hi) (hi unbounded when inf).
type keyRange struct {
	lo, hi string
	inf    bool
}

func (r keyRange) contains(k string) bool { return k >= r.lo && (r.inf || k < r.hi) }

// reaches says whether r extends to end (inf: to the end of all keys).
func (r keyRange) reaches(end string, inf bool) bool {
	if r.inf {
		return true
	}
	return !inf && r.hi >= end
}

// spaceName is the space of a backend key: up to its first "/".
func spaceName(key string) (string, bool) {
	i := strings.IndexByte(key, '/')
	if i < 0 {
		return "", false
	}
	return key[:i+1], true
}

func (c *listCache) space(name string) *listSpace {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.spaces[name]
	if s == nil {
		s = &listSpace{c: c, items: btree.NewG(16, func(a, b *listItem) bool { return a.key < b.key }),
			inflight: map[string]*keyFlight{}, scans: map[*listScan]struct{}{}, suspects: map[string]time.Time{}}
		c.spaces[name] = s
	}
	s.lastUse.Store(c.tick.Add(1))
	return s
}

// writeOutcome is what a finished write left at its key.
type writeOutcome struct {
	ok     bool // the backend call succeeded
	exists bool // the key holds an object (false: deleted)
	size   int64
}

// beginWrite records a write of key starting; call the returned function
// with its outcome once the backend call has returned.
func (c *listCache) beginWrite(key string) func(writeOutcome) {
	name, ok := spaceName(key)
	if !ok {
		return func(writeOutcome) {}
	}
	s := c.space(name)
	s.mu.Lock()
	s.begin(key)
	s.mu.Unlock()
	return func(o writeOutcome) { s.end(key, o) }
}

// beginReplace is beginWrite that also returns what the key holds now, when
// the cache knows it exactly (known is false otherwise).
func (c *listCache) beginReplace(key string) (end func(writeOutcome), old storage.Replaced, known bool) {
	name, ok := spaceName(key)
	if !ok {
		return func(writeOutcome) {}, storage.Replaced{}, false
	}
	s := c.space(name)
	s.mu.Lock()
	old, known = s.current(key)
	s.begin(key)
	s.mu.Unlock()
	return func(o writeOutcome) { s.end(key, o) }, old, known
}

// current is what key holds if the cache knows it: no write of it in
// flight or failed recently, in a known range, clean or written alone.
func (s *listSpace) current(key string) (storage.Replaced, bool) {
	if s.inflight[key] != nil || s.suspect(key) || !s.isKnown(key) {
		return storage.Replaced{}, false
	}
	it, ok := s.items.Get(&listItem{key: key})
	switch {
	case !ok:
		return storage.Replaced{}, true
	case it.dirty && !it.sizeKnown:
		return storage.Replaced{}, false
	case !it.present:
		return storage.Replaced{}, true
	}
	return storage.Replaced{Existed: true, Size: it.info.Size}, true
}

func (s *listSpace) begin(key string) {
	f := s.inflight[key]
	if f == nil {
		f = &keyFlight{}
		s.inflight[key] = f
	} else {
		f.overlapped = true
	}
	f.n++
	s.touch(key)
	s.markDirty(key, nil)
}

func (s *listSpace) end(key string, o writeOutcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.inflight[key]
	f.n--
	if f.n == 0 {
		delete(s.inflight, key)
	}
	s.touch(key)
	switch {
	case !o.ok:
		s.addSuspect(key)
		s.markDirty(key, nil)
	case f.overlapped:
		s.markDirty(key, nil)
	default:
		s.markDirty(key, &o)
	}
}

func (s *listSpace) touch(key string) {
	for sc := range s.scans {
		sc.touched[key] = struct{}{}
	}
}

// markDirty makes key's item dirty, with the write's outcome when it is
// known to be what the key holds. Only keys of known ranges keep items.
func (s *listSpace) markDirty(key string, o *writeOutcome) {
	if !s.isKnown(key) {
		return
	}
	it, ok := s.items.Get(&listItem{key: key})
	if !ok {
		it = &listItem{key: key}
		s.items.ReplaceOrInsert(it)
		s.grow(it.cost())
	}
	it.dirty, it.sizeKnown = true, o != nil
	if o != nil {
		it.present, it.info.Size = o.exists, o.size
	}
}

func (s *listSpace) addSuspect(key string) {
	now := s.c.now()
	if len(s.suspects) >= maxSuspects {
		for k, until := range s.suspects {
			if !now.Before(until) {
				delete(s.suspects, k)
			}
		}
	}
	if len(s.suspects) >= maxSuspects {
		s.disabled = now.Add(failedWriteGrace)
		s.resetLocked()
		return
	}
	s.suspects[key] = now.Add(failedWriteGrace)
}

func (s *listSpace) suspect(key string) bool {
	until, ok := s.suspects[key]
	if ok && !s.c.now().Before(until) {
		delete(s.suspects, key)
		return false
	}
	return ok
}

func (s *listSpace) isKnown(key string) bool {
	i := s.rangeAt(key)
	return i >= 0
}

// rangeAt is the index of the known range holding key, or -1.
func (s *listSpace) rangeAt(key string) int {
	lo, hi := 0, len(s.known)
	for lo < hi {
		m := (lo + hi) / 2
		if s.known[m].lo <= key {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo > 0 && s.known[lo-1].contains(key) {
		return lo - 1
	}
	return -1
}

func (s *listSpace) grow(n int64) {
	s.bytes.Add(n)
	s.c.total.Add(n)
}

func (s *listSpace) resetLocked() {
	s.items.Clear(false)
	s.known = nil
	s.c.total.Add(-s.bytes.Swap(0))
}

// addKnown adds r to the known ranges, merging the ranges it overlaps or
// touches.
func (s *listSpace) addKnown(r keyRange) {
	out := make([]keyRange, 0, len(s.known)+1)
	placed := false
	for _, k := range s.known {
		switch {
		case !k.inf && k.hi < r.lo: // entirely before r
			out = append(out, k)
		case !r.inf && r.hi < k.lo: // entirely after r
			if !placed {
				out, placed = append(out, r), true
			}
			out = append(out, k)
		default: // overlapping or adjacent: merge into r
			r.lo = min(r.lo, k.lo)
			if k.inf || r.inf {
				r.inf, r.hi = true, ""
			} else {
				r.hi = max(r.hi, k.hi)
			}
		}
	}
	if !placed {
		out = append(out, r)
	}
	s.known = out
	if len(s.known) > maxKnownRanges {
		s.resetLocked()
	}
}
