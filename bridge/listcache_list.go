package bridge

import (
	"strings"
	"unicode/utf8"

	"github.com/flashback-network/flashback/storage"
)

// The listing side of listCache: answering a List from the known ranges,
// and learning from the Lists that go to the backend.

// listBounds is the key range a List(prefix, startAfter) covers: from the
// first key after startAfter with the prefix to the end of the prefix.
// Keys hold no NUL, so "after s" is "from s+NUL".
func listBounds(prefix, startAfter string) (lo, hi string, inf bool) {
	lo = prefix
	if startAfter != "" && startAfter+"\x00" > lo {
		lo = startAfter + "\x00"
	}
	hi, inf = prefixEnd(prefix)
	return lo, hi, inf
}

// prefixEnd is the first key after every key with prefix p (inf: none).
func prefixEnd(p string) (string, bool) {
	b := []byte(p)
	for len(b) > 0 && b[len(b)-1] == 0xff {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return "", true
	}
	b[len(b)-1]++
	return string(b), false
}

// cacheableList says whether a List's arguments are ones the backends
// accept (others go to the backend for its error) within one space.
func cacheableList(prefix, startAfter string) (string, bool) {
	name, ok := spaceName(prefix)
	if !ok {
		return "", false
	}
	for _, s := range []string{prefix, startAfter} {
		if len(s) > storage.MaxStoredKeyLen || !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
			return "", false
		}
	}
	return name, true
}

// serve answers List(prefix, startAfter, limit) from the known ranges, if
// they cover it and hold no dirty key in it.
func (s *listSpace) serve(prefix, startAfter string, limit int) ([]storage.ObjectInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c.now().Before(s.disabled) {
		return nil, false
	}
	lo, end, endInf := listBounds(prefix, startAfter)
	if !endInf && lo >= end {
		return []storage.ObjectInfo{}, true
	}
	i := s.rangeAt(lo)
	if i < 0 {
		return nil, false
	}
	r := s.known[i]
	out := make([]storage.ObjectInfo, 0, min(limit, 1024))
	full, fail := false, false
	s.items.AscendGreaterOrEqual(&listItem{key: lo}, func(it *listItem) bool {
		if !strings.HasPrefix(it.key, prefix) {
			return false // past the prefix
		}
		if !r.contains(it.key) {
			return false // past the known range
		}
		if it.dirty || s.suspect(it.key) {
			fail = true
			return false
		}
		if it.present {
			out = append(out, it.info)
			full = len(out) == limit
		}
		return !full
	})
	if fail || (!full && !r.reaches(end, endInf)) {
		return nil, false
	}
	return out, true
}

// startScan registers a backend listing about to be sent.
func (s *listSpace) startScan() *listScan {
	sc := &listScan{touched: map[string]struct{}{}}
	s.mu.Lock()
	s.scans[sc] = struct{}{}
	s.mu.Unlock()
	return sc
}

// finishScan ends sc and, when the listing succeeded, installs what it
// returned (objs, for List(prefix, startAfter, limit)) for every key of its
// range whose state cannot have changed since the backend read it.
func (s *listSpace) finishScan(sc *listScan, prefix, startAfter string, limit int, objs []storage.ObjectInfo, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.scans, sc)
	if err != nil || s.c.now().Before(s.disabled) {
		return
	}
	lo, hi, inf := listBounds(prefix, startAfter)
	if len(objs) >= limit && len(objs) > 0 {
		hi, inf = objs[len(objs)-1].Key+"\x00", false
	}
	if !inf && lo >= hi {
		return
	}
	learned := keyRange{lo: lo, hi: hi, inf: inf}
	prev := ""
	for _, o := range objs {
		if o.Key <= prev || !learned.contains(o.Key) || !strings.HasPrefix(o.Key, prefix) {
			return // not a listing of this range: learn nothing
		}
		prev = o.Key
	}
	stable := func(k string) bool {
		_, touched := sc.touched[k]
		return !touched && s.inflight[k] == nil && !s.suspect(k)
	}
	var drop []*listItem
	s.items.AscendGreaterOrEqual(&listItem{key: lo}, func(it *listItem) bool {
		if !learned.contains(it.key) {
			return false
		}
		if stable(it.key) {
			drop = append(drop, it)
		}
		return true
	})
	for _, it := range drop {
		s.items.Delete(it)
		s.grow(-it.cost())
	}
	s.addKnown(learned)
	for _, o := range objs {
		if !stable(o.Key) {
			if _, ok := s.items.Get(&listItem{key: o.Key}); !ok {
				s.markDirty(o.Key, nil)
			}
			continue
		}
		it := &listItem{key: o.Key, present: true,
			info: storage.ObjectInfo{Key: o.Key, Size: o.Size, ETag: o.ETag, LastModified: o.LastModified}}
		s.items.ReplaceOrInsert(it)
		s.grow(it.cost())
	}
	// Keys of the range written meanwhile but not listed: unknown too.
	for k := range sc.touched {
		if learned.contains(k) {
			if _, ok := s.items.Get(&listItem{key: k}); !ok {
				s.markDirty(k, nil)
			}
		}
	}
	for k := range s.inflight {
		if learned.contains(k) {
			if _, ok := s.items.Get(&listItem{key: k}); !ok {
				s.markDirty(k, nil)
			}
		}
	}
	for k := range s.suspects {
		if learned.contains(k) && s.suspect(k) {
			if _, ok := s.items.Get(&listItem{key: k}); !ok {
				s.markDirty(k, nil)
			}
		}
	}
}

// evict drops least recently used spaces until the cache fits its budget;
// first grown itself, when it holds more than half the budget (one huge
// reservation does not push every other one out).
func (c *listCache) evict(grown *listSpace) {
	if c.total.Load() > c.budget && grown.bytes.Load() > c.budget/2 {
		grown.mu.Lock()
		grown.resetLocked()
		grown.mu.Unlock()
	}
	for c.total.Load() > c.budget {
		c.mu.Lock()
		var victim *listSpace
		for _, s := range c.spaces {
			if s.bytes.Load() > 0 && (victim == nil || s.lastUse.Load() < victim.lastUse.Load()) {
				victim = s
			}
		}
		c.mu.Unlock()
		if victim == nil {
			return
		}
		victim.mu.Lock()
		victim.resetLocked()
		victim.mu.Unlock()
	}
}
