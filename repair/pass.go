package repair

import (
	"context"
	"sync"
	"time"
)

// PassResult sums up one pass (hints, then a full scan).
type PassResult struct {
	Started    time.Time `json:"started"`
	DurationMS int64     `json:"duration_ms"`
	Keys       int64     `json:"keys"`       // distinct keys scanned
	Repaired   int64     `json:"repaired"`   // copies written and verified
	Bytes      int64     `json:"bytes"`      // bytes of those copies
	Failed     int64     `json:"failed"`     // copies that failed
	Skipped    int64     `json:"skipped"`    // copies not tried (member paused or backed off)
	Deleted    int64     `json:"deleted"`    // deletes propagated
	Unresolved int64     `json:"unresolved"` // keys without an authoritative version
	// Behind is, per member, how many objects the scan found missing or
	// bad on it (before this pass repaired them); Listed says whether the
	// member was listed completely (else its Behind is partial).
	Behind map[string]int64 `json:"behind"`
	Listed map[string]bool  `json:"listed"`
}

// pool runs a pass's copies with bounded concurrency.
type pool struct {
	sem chan struct{}
	wg  sync.WaitGroup
	mu  sync.Mutex
	res *PassResult
	// repaired per member and reason, to deduct from what the scan found.
	fixed map[*member]map[Reason]int64
}

func (r *Repairer) newPool(res *PassResult) *pool {
	return &pool{sem: make(chan struct{}, r.cfg.Concurrency), res: res, fixed: map[*member]map[Reason]int64{}}
}

// submit runs j on a worker, waiting for a free one.
func (r *Repairer) submit(ctx context.Context, p *pool, j job) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return
	}
	p.wg.Add(1)
	go func() {
		defer func() { <-p.sem; p.wg.Done() }()
		out := r.runJob(ctx, j)
		if out != jobDone && j.hint != nil {
			r.requeue(*j.hint)
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		switch out {
		case jobDone:
			p.res.Repaired++
			p.res.Bytes += j.want.Size
			if j.hint != nil {
				break // the scan did not count it behind
			}
			if p.fixed[j.target] == nil {
				p.fixed[j.target] = map[Reason]int64{}
			}
			p.fixed[j.target][j.reason]++
		case jobSkipped:
			p.res.Skipped++
		default:
			p.res.Failed++
		}
	}()
}

// Once runs one pass: the queued hints, a full scan repairing what it
// finds, then the hints that came in meanwhile. It is what
// `flashback repo repair NAME` runs.
func (r *Repairer) Once(ctx context.Context) (PassResult, error) {
	r.passMu.Lock()
	defer r.passMu.Unlock()
	res := PassResult{Started: time.Now(), Behind: map[string]int64{}, Listed: map[string]bool{}}
	p := r.newPool(&res)
	r.runHints(ctx, p, false)
	r.scan(ctx, p)
	r.runHints(ctx, p, false)
	p.wg.Wait()
	res.DurationMS = time.Since(res.Started).Milliseconds()
	r.mu.Lock()
	r.passes++
	r.lastPass = res
	r.mu.Unlock()
	return res, ctx.Err()
}

// Run repairs until ctx is done: a pass every ScanInterval, and the hints
// as soon as they come.
func (r *Repairer) Run(ctx context.Context) error {
	r.mu.Lock()
	r.running = true
	r.mu.Unlock()
	defer func() { r.mu.Lock(); r.running = false; r.mu.Unlock() }()
	for {
		if _, err := r.Once(ctx); err != nil {
			return err
		}
		t := time.NewTimer(r.cfg.ScanInterval)
	wait:
		for {
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-r.wake:
				r.hintsOnly(ctx)
			case <-t.C:
				break wait
			}
		}
	}
}

// hintsOnly handles the queued hints between two scans.
func (r *Repairer) hintsOnly(ctx context.Context) {
	r.passMu.Lock()
	defer r.passMu.Unlock()
	res := PassResult{Behind: map[string]int64{}, Listed: map[string]bool{}}
	p := r.newPool(&res)
	r.runHints(ctx, p, false)
	p.wg.Wait()
}

// Fill runs passes until member id is level: a full scan listed it
// completely and found nothing missing or bad on it. It fails with
// ErrPaused if the member has no room. `repo replace` calls it on the
// joining member (in a repairer over the new member set) before retiring
// the old one. Passes are serialized, so a concurrent Run is safe.
func (r *Repairer) Fill(ctx context.Context, id string) error {
	m := r.byID[id]
	if m == nil {
		return errUnknown(id)
	}
	for {
		res, err := r.Once(ctx)
		if err != nil {
			return err
		}
		st := r.memberStatus(m)
		if st.Paused {
			return pausedErr(id, st.PausedReason)
		}
		if res.Listed[id] && res.Behind[id] == 0 {
			return nil
		}
		// Don't spin on a member that cannot be listed or written now.
		wait := time.Until(r.backoffUntil(m))
		if res.Repaired == 0 {
			wait = max(wait, r.cfg.BackoffBase)
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
	}
}
