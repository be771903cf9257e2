package repair

import (
	"bytes"
	"context"
	"errors"
	"fmt"
)

// runHints handles the queued hints; those that cannot be settled now (a
// member unreachable) are queued again for the next pass, without waking
// Run (no hot loop on a member that is down). midScan: copies of the scan
// may still be in flight, so applied deletes are queued again to be
// checked once more after them (see "Deletes racing a scan").
func (r *Repairer) runHints(ctx context.Context, p *pool, midScan bool) {
	var again []Hint
	for _, h := range r.takeHints() {
		if ctx.Err() != nil || !r.runHint(ctx, p, h) || (midScan && h.Reason == Delete) {
			again = append(again, h)
		}
	}
	r.requeue(again...)
}

// heads asks every member about key: found copies, and the members that
// could not answer.
func (r *Repairer) heads(ctx context.Context, key string) (found []entry, unknown map[*member]bool) {
	unknown = map[*member]bool{}
	for _, m := range r.members {
		if !r.readable(m) {
			unknown[m] = true
			continue
		}
		o, err := m.c.Head(ctx, key)
		switch {
		case err == nil:
			o.Key = key
			found = append(found, entry{m: m, obj: o})
		case errors.Is(err, ErrNotFound):
		default:
			r.fail(m, fmt.Errorf("head %q: %w", key, err))
			unknown[m] = true
		}
	}
	return found, unknown
}

// runHint settles one hint; false means "try again next pass".
func (r *Repairer) runHint(ctx context.Context, p *pool, h Hint) bool {
	found, unknown := r.heads(ctx, h.Key)
	if h.Reason == Delete {
		return r.runDelete(ctx, p, h, found, unknown)
	}
	target := r.byID[h.Member]
	if unknown[target] {
		return false
	}
	live := map[*member]bool{}
	for _, m := range r.members {
		live[m] = !unknown[m]
	}
	var j job
	if len(h.SHA256) > 0 {
		// The gateway says which version it wrote: any holder of it is a source.
		for _, e := range found {
			if bytes.Equal(e.obj.SHA256, h.SHA256) {
				if e.m == target && h.Reason == Missing {
					return true // already there
				}
				if e.m != target {
					j.want, j.sources = e.obj, append(j.sources, e.m)
				}
			}
		}
		if len(j.sources) == 0 {
			return true // no copy of that version (overwritten since?): the scan decides
		}
	} else {
		entries := found
		if h.Reason == Bad { // the target's copy is reported bad: it does not vote
			for i, e := range entries {
				if e.m == target {
					entries = append(entries[:i:i], entries[i+1:]...)
					break
				}
			}
		}
		d := r.decide(h.Key, entries, live)
		if !d.ok {
			return true // no authoritative version: nothing to copy
		}
		held := false
		for _, e := range found {
			held = held || (e.m == target && version(e.obj) == version(d.good))
		}
		if held && h.Reason == Missing {
			return true
		}
		j.want, j.sources = d.good, d.sources
	}
	j.key, j.target, j.reason, j.hint = h.Key, target, h.Reason, &h
	r.submit(ctx, p, j)
	return true
}

// runDelete applies a tombstone only if fewer than Quorum members hold the
// key (members that cannot answer count as holders): data a quorum holds
// is never deleted.
func (r *Repairer) runDelete(ctx context.Context, p *pool, h Hint, found []entry, unknown map[*member]bool) bool {
	if len(found)+len(unknown) >= r.cfg.Quorum {
		if len(found) >= r.cfg.Quorum {
			r.mu.Lock()
			r.stale++
			r.mu.Unlock()
			return true // a quorum holds it: stale tombstone, dropped
		}
		return false // can't tell yet
	}
	done := true
	for _, e := range found {
		if !r.writable(e.m) {
			done = false
			continue
		}
		if err := r.objs.take(ctx, 1); err != nil {
			return false
		}
		if err := e.m.c.Delete(ctx, h.Key); err != nil {
			r.fail(e.m, fmt.Errorf("delete %q: %w", h.Key, err))
			done = false
			continue
		}
		r.mu.Lock()
		r.totals.deleted++
		r.mu.Unlock()
		p.mu.Lock()
		p.res.Deleted++
		p.mu.Unlock()
	}
	return done && len(unknown) == 0
}
