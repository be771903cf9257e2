package repair

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
)

// cursor walks one member's sorted listing page by page.
type cursor struct {
	m     *member
	page  []Object
	pos   int
	after string
	done  bool
	err   error
	n     int64 // objects seen
	b     int64 // bytes seen
}

// peek returns the member's next object, fetching a page when needed.
func (c *cursor) peek(ctx context.Context, pageSize int) (Object, bool) {
	if c.err != nil || c.done {
		return Object{}, false
	}
	if c.pos == len(c.page) {
		page, err := c.m.c.List(ctx, c.after, pageSize)
		if err != nil {
			c.err = fmt.Errorf("list after %q: %w", c.after, err)
			return Object{}, false
		}
		if len(page) == 0 {
			c.done = true
			return Object{}, false
		}
		prev := c.after
		for i, o := range page {
			// The merge relies on strictly increasing keys.
			if (i > 0 || prev != "") && o.Key <= prev {
				c.err = fmt.Errorf("list after %q: key %q out of order", c.after, o.Key)
				return Object{}, false
			}
			prev = o.Key
		}
		c.page, c.pos, c.after = page, 0, prev
	}
	return c.page[c.pos], true
}

// entry is one member's copy of the key being decided.
type entry struct {
	m       *member
	obj     Object
	corrupt bool // scrub found the bytes do not match the recorded sha256
}

// version names a (size, sha256) pair; "" for a copy that matches nothing.
func version(o Object) string {
	if len(o.SHA256) == 0 {
		return ""
	}
	return strconv.FormatInt(o.Size, 10) + "/" + hex.EncodeToString(o.SHA256)
}

// decision is what a scan concluded for one key.
type decision struct {
	good    Object    // the authoritative version
	sources []*member // members holding it
	fix     []job     // members to repair
	ok      bool      // an authoritative version exists
}

// decide applies the majority rule (package comment) to the entries of
// one key; live says which members listed completely so far (a member
// that could not be listed is not counted as missing). A copy a scrub
// found rotten still votes for the version its member recorded (that
// version was written there) but is no source, and is repaired.
func (r *Repairer) decide(key string, entries []entry, live map[*member]bool) decision {
	counts := map[string]int{}
	objs := map[string]Object{}
	for _, e := range entries {
		if v := version(e.obj); v != "" {
			counts[v]++
			objs[v] = e.obj
		}
	}
	best, bestN, tie := "", 0, false
	for v, n := range counts {
		switch {
		case n > bestN:
			best, bestN, tie = v, n, false
		case n == bestN:
			tie = true
		}
	}
	if bestN < r.cfg.Quorum || tie {
		return decision{}
	}
	d := decision{good: objs[best]}
	has := map[*member]entry{}
	for _, e := range entries {
		has[e.m] = e
		if !e.corrupt && version(e.obj) == best {
			d.sources = append(d.sources, e.m)
		}
	}
	if len(d.sources) == 0 {
		return decision{} // every copy of it is rotten: nothing to copy from
	}
	d.ok = true
	for _, m := range r.members {
		if !live[m] {
			continue
		}
		e, held := has[m]
		switch {
		case !held:
			d.fix = append(d.fix, job{key: key, target: m, reason: Missing})
		case e.corrupt || version(e.obj) != best:
			d.fix = append(d.fix, job{key: key, target: m, reason: Bad})
		}
	}
	for i := range d.fix {
		d.fix[i].want, d.fix[i].sources = d.good, d.sources
	}
	return d
}

// fillSHA completes an entry whose listing had no checksum (Head), and
// with Scrub hashes the copy's bytes.
func (r *Repairer) fillSHA(ctx context.Context, e *entry) error {
	if len(e.obj.SHA256) == 0 {
		o, err := e.m.c.Head(ctx, e.obj.Key)
		if err != nil {
			return fmt.Errorf("head %q: %w", e.obj.Key, err)
		}
		e.obj.SHA256 = o.SHA256
	}
	if !r.cfg.Scrub {
		return nil
	}
	sum, n, err := r.hashCopy(ctx, e.m, e.obj.Key)
	if err != nil {
		return fmt.Errorf("scrub %q: %w", e.obj.Key, err)
	}
	if n != e.obj.Size || (len(e.obj.SHA256) > 0 && !bytes.Equal(sum, e.obj.SHA256)) {
		e.corrupt = true
	} else if len(e.obj.SHA256) == 0 {
		e.obj.SHA256 = sum // no recorded checksum: the bytes' own
	}
	return nil
}
