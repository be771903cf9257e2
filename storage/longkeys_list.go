package storage

import (
	"context"
	"slices"
	"strings"
)

// List merges two listings, both in true key order: the keys stored as
// themselves (hidden names left out) and the long keys (from their hidden
// names). Each gives its first limit matches, so the merge's first limit
// are exact, and a page may end on a key of either kind. The two are
// listed at once: an empty long-key listing costs no added latency.
func (w *longKeys) List(ctx context.Context, prefix, startAfter string, limit int) ([]ObjectInfo, error) {
	if err := validateListArg(prefix); err != nil {
		return nil, err
	}
	if err := validateListArg(startAfter); err != nil {
		return nil, err
	}
	limit = listLimit(limit)
	if strings.HasPrefix(prefix, longKeyDir) {
		return nil, nil // no key starts with it
	}
	type result struct {
		l   []ObjectInfo
		err error
	}
	longs := make(chan result, 1)
	go func() {
		l, err := w.listLong(ctx, prefix, startAfter, limit)
		longs <- result{l, err}
	}()
	short, err := w.listShort(ctx, prefix, startAfter, limit)
	lr := <-longs
	if err != nil {
		return nil, err
	}
	if lr.err != nil {
		return nil, lr.err
	}
	return mergeByKey(short, lr.l, limit), nil
}

// listShort lists the keys stored as themselves.
func (w *longKeys) listShort(ctx context.Context, prefix, startAfter string, limit int) ([]ObjectInfo, error) {
	if len(prefix) > w.maxLen {
		return nil, nil // no such key is stored as itself
	}
	// A start-after longer than the service takes is cut: a lower bound,
	// the few keys between it and startAfter are dropped here.
	after := startAfter[:runeCut(startAfter, w.maxLen)]
	var out []ObjectInfo
	for len(out) < limit {
		want := limit - len(out)
		page, err := w.inner.List(ctx, prefix, after, want)
		if err != nil {
			return nil, err
		}
		for _, o := range page {
			if !strings.HasPrefix(o.Key, longKeyDir) && o.Key > startAfter {
				out = append(out, clean(o, o.Key))
			}
		}
		if len(page) < want {
			break
		}
		after = page[len(page)-1].Key
		if strings.HasPrefix(after, longKeyDir) {
			// The listing ran into the hidden names: skip them all at once.
			after = max(after, w.pastLongKeyDir())
		}
	}
	return out, nil
}

// pastLongKeyDir is a name that sorts after every hidden name but that of
// a key made of as many U+10FFFF as fit (which the listing then skips one
// by one).
func (w *longKeys) pastLongKeyDir() string {
	return longKeyDir + strings.Repeat("\U0010FFFF", (w.maxLen-len(longKeyDir))/4)
}

// listLong lists the long keys. The hidden names hold their keys' first
// groupLen bytes at least, so they sort like those, and prefix and
// startAfter, cut to groupLen, bound the listing. Keys that share their
// first groupLen bytes (a group) are listed together but not in key
// order: the listing stops only at the end of a group, then sorts.
func (w *longKeys) listLong(ctx context.Context, prefix, startAfter string, limit int) ([]ObjectInfo, error) {
	dirPrefix := longKeyDir + prefix[:runeCut(prefix, w.groupLen)]
	after := ""
	if startAfter != "" {
		after = longKeyDir + startAfter[:runeCut(startAfter, w.groupLen)]
	}
	var out []ObjectInfo
	lastGroup := ""
	for {
		page, err := w.inner.List(ctx, dirPrefix, after, limit)
		if err != nil {
			return nil, err
		}
		for _, o := range page {
			key, ok := w.resolve(ctx, o)
			if !ok {
				continue
			}
			group := key[:w.groupLen]
			if len(out) >= limit && group != lastGroup {
				return sortedFirst(out, limit), nil
			}
			if strings.HasPrefix(key, prefix) && key > startAfter {
				out = append(out, clean(o, key))
				lastGroup = group
			}
		}
		if len(page) < limit {
			return sortedFirst(out, limit), nil
		}
		after = page[len(page)-1].Key
	}
}

func sortedFirst(l []ObjectInfo, limit int) []ObjectInfo {
	slices.SortFunc(l, func(a, b ObjectInfo) int { return strings.Compare(a.Key, b.Key) })
	return l[:min(len(l), limit)]
}

// mergeByKey merges two key-sorted lists of distinct keys, up to limit.
func mergeByKey(a, b []ObjectInfo, limit int) []ObjectInfo {
	if len(b) == 0 {
		return a[:min(len(a), limit)]
	}
	out := make([]ObjectInfo, 0, min(len(a)+len(b), limit))
	for len(out) < limit && (len(a) > 0 || len(b) > 0) {
		if len(b) == 0 || len(a) > 0 && a[0].Key < b[0].Key {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return out
}
