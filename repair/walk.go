package repair

import (
	"context"
	"time"
)

// defaultHintEvery is how many keys a scan walks between two looks at the hint
// queue, so hints never wait for the end of a long scan.
const defaultHintEvery = 1000

// scan merge-walks the members' sorted listings, deciding every key and
// submitting the repairs; at the end it records per member what it saw.
func (r *Repairer) scan(ctx context.Context, p *pool) {
	var curs []*cursor
	for _, m := range r.members {
		c := &cursor{m: m}
		if !r.readable(m) {
			c.err = errBackedOff
		}
		curs = append(curs, c)
	}
	found := map[*member]map[Reason]int64{}
	for ctx.Err() == nil {
		if p.res.Keys > 0 && p.res.Keys%int64(r.hintEvery) == 0 {
			r.runHints(ctx, p, true)
		}
		key, ok := "", false
		for _, c := range curs {
			if o, has := c.peek(ctx, r.cfg.PageSize); has && (!ok || o.Key < key) {
				key, ok = o.Key, true
			}
		}
		if !ok {
			break
		}
		r.scanKey(ctx, p, curs, key, found)
	}
	p.wg.Wait()
	r.endScan(curs, found, p)
}

var errBackedOff = backedOff{}

type backedOff struct{}

func (backedOff) Error() string { return "backed off after errors" }

// scanKey decides one key from the cursors positioned on it.
func (r *Repairer) scanKey(ctx context.Context, p *pool, curs []*cursor, key string, found map[*member]map[Reason]int64) {
	var entries []entry
	live := map[*member]bool{}
	for _, c := range curs {
		o, has := c.peek(ctx, r.cfg.PageSize)
		if c.err != nil {
			continue
		}
		live[c.m] = true
		if !has || o.Key != key {
			continue
		}
		c.pos++
		c.n++
		c.b += o.Size
		e := entry{m: c.m, obj: o}
		if err := r.fillSHA(ctx, &e); err != nil {
			if ctx.Err() == nil {
				r.fail(c.m, err)
			}
			live[c.m] = false // unknown for this key, not missing
			continue
		}
		entries = append(entries, e)
	}
	p.mu.Lock()
	p.res.Keys++
	p.mu.Unlock()
	d := r.decide(key, entries, live)
	if !d.ok {
		p.mu.Lock()
		p.res.Unresolved++
		p.mu.Unlock()
		if r.cfg.OnUnresolved != nil && len(entries) > 0 {
			ids := make([]string, len(entries))
			for i, e := range entries {
				ids[i] = e.m.id
			}
			r.cfg.OnUnresolved(key, ids)
		}
		return
	}
	for _, j := range d.fix {
		if found[j.target] == nil {
			found[j.target] = map[Reason]int64{}
		}
		found[j.target][j.reason]++
		r.submit(ctx, p, j)
	}
}

// endScan records, for every member listed to the end, its objects, bytes
// and behind-by (found by the scan minus repaired since).
func (r *Repairer) endScan(curs []*cursor, found map[*member]map[Reason]int64, p *pool) {
	now := time.Now()
	for _, c := range curs {
		complete := c.err == nil && c.done
		p.res.Listed[c.m.id] = complete
		p.res.Behind[c.m.id] = found[c.m][Missing] + found[c.m][Bad]
		if c.err != nil && c.err != errBackedOff {
			r.fail(c.m, c.err)
		}
		if !complete {
			r.mu.Lock()
			c.m.scanned = false
			r.mu.Unlock()
			continue
		}
		r.mu.Lock()
		fixed := p.fixed[c.m]
		c.m.objects, c.m.bytes = c.n, c.b
		c.m.missing = max(0, found[c.m][Missing]-fixed[Missing])
		c.m.bad = max(0, found[c.m][Bad]-fixed[Bad])
		c.m.scanned, c.m.lastScan = true, now
		r.mu.Unlock()
	}
}
