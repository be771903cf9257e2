package repair

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// Repairer keeps a fixed set of members level. For another member set
// (repo add/remove/replace) make a new Repairer.
type Repairer struct {
	cfg     Config
	members []*member
	byID    map[string]*member
	bytes   *bucket
	objs    *bucket
	passMu  sync.Mutex // one pass at a time (Run, Once, Fill)
	// hintEvery: keys a scan walks between two looks at the hints.
	hintEvery int
	wake      chan struct{}

	mu        sync.Mutex // guards everything below and members' state
	hints     []Hint
	hintSet   map[string]bool
	dropped   int64
	stale     int64
	totals    counters
	busy      time.Duration // wall time with at least one copy in flight
	busySince time.Time
	inFlight  int
	passes    int64
	lastPass  PassResult
	running   bool
}

type counters struct {
	repairedObjects, repairedBytes, deleted, failed int64
}

// member is a Copy and what the repairer knows of it (guarded by r.mu).
type member struct {
	c  Copy
	id string

	objects, bytes int64 // from the last scan
	missing, bad   int64 // behind-by of the last scan, minus repairs since
	scanned        bool  // the last scan listed it completely
	lastScan       time.Time
	lastErr        string
	lastErrAt      time.Time
	failures       int
	backoffUntil   time.Time
	pausedReason   string
	pausedAt       time.Time
	repaired, repB int64
}

// New makes a repairer over members (at least one, distinct IDs).
func New(members []Copy, cfg Config) (*Repairer, error) {
	if len(members) == 0 {
		return nil, errors.New("repair: no members")
	}
	cfg, err := cfg.withDefaults(len(members))
	if err != nil {
		return nil, err
	}
	r := &Repairer{cfg: cfg, byID: map[string]*member{}, hintSet: map[string]bool{},
		wake: make(chan struct{}, 1), hintEvery: defaultHintEvery,
		bytes: newBucket(cfg.BytesPerSec, cfg.BurstBytes),
		objs:  newBucket(cfg.ObjectsPerSec, max(1, int64(cfg.ObjectsPerSec)))}
	for _, c := range members {
		id := c.ID()
		if id == "" || r.byID[id] != nil {
			return nil, fmt.Errorf("repair: member id %q empty or repeated", id)
		}
		m := &member{c: c, id: id}
		r.members = append(r.members, m)
		r.byID[id] = m
	}
	return r, nil
}

// Hint queues a key to look at before the next scan (the gateway calls it
// when a write missed a member, a read found a bad copy, or a DELETE
// missed a member). It never blocks; a full queue drops the hint.
func (r *Repairer) Hint(h Hint) error {
	switch h.Reason {
	case Missing, Bad:
		if r.byID[h.Member] == nil {
			return fmt.Errorf("%w %q in hint for %q", ErrUnknownMember, h.Member, h.Key)
		}
	case Delete:
		if h.Member != "" && r.byID[h.Member] == nil {
			return fmt.Errorf("%w %q in hint for %q", ErrUnknownMember, h.Member, h.Key)
		}
	default:
		return fmt.Errorf("repair: hint reason %q (want missing, bad or delete)", h.Reason)
	}
	if h.Key == "" {
		return errors.New("repair: hint without a key")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.queueLocked(h) {
		return nil
	}
	select {
	case r.wake <- struct{}{}:
	default:
	}
	return nil
}

// queueLocked adds h unless queued already or the queue is full.
func (r *Repairer) queueLocked(h Hint) bool {
	hk := string(h.Reason) + "\x00" + h.Member + "\x00" + h.Key
	if r.hintSet[hk] {
		return false
	}
	if len(r.hints) >= r.cfg.MaxHints {
		r.dropped++
		return false
	}
	r.hintSet[hk] = true
	r.hints = append(r.hints, h)
	return true
}

// requeue puts hints back for the next pass without waking Run.
func (r *Repairer) requeue(hs ...Hint) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, h := range hs {
		r.queueLocked(h)
	}
}

// takeHints empties the queue.
func (r *Repairer) takeHints() []Hint {
	r.mu.Lock()
	defer r.mu.Unlock()
	hs := r.hints
	r.hints = nil
	clear(r.hintSet)
	return hs
}

// Resume lifts a member's pause (no room) and backoff at once.
func (r *Repairer) Resume(id string) error {
	m := r.byID[id]
	if m == nil {
		return fmt.Errorf("%w %q", ErrUnknownMember, id)
	}
	r.mu.Lock()
	m.pausedReason, m.pausedAt, m.backoffUntil, m.failures = "", time.Time{}, time.Time{}, 0
	r.mu.Unlock()
	return nil
}

// ClearBackoff ends a member's backoff (not a pause for lack of room):
// what a caller does when it sees the member answer again, so repair
// resumes at once instead of when the backoff would have run out.
func (r *Repairer) ClearBackoff(id string) error {
	m := r.byID[id]
	if m == nil {
		return fmt.Errorf("%w %q", ErrUnknownMember, id)
	}
	r.mu.Lock()
	m.backoffUntil, m.failures = time.Time{}, 0
	r.mu.Unlock()
	return nil
}

// fail records a failed call on m and backs it off.
func (r *Repairer) fail(m *member, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	m.lastErr, m.lastErrAt = err.Error(), now
	m.failures++
	d := r.cfg.BackoffBase << min(m.failures-1, 30)
	if d <= 0 || d > r.cfg.BackoffMax {
		d = r.cfg.BackoffMax
	}
	m.backoffUntil = now.Add(d)
}

// pause stops writes to m for lack of room.
func (r *Repairer) pause(m *member, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	m.lastErr, m.lastErrAt = err.Error(), now
	m.pausedReason, m.pausedAt = "no room: "+err.Error(), now
}

// succeeded clears m's backoff, and its pause (a write went through).
func (r *Repairer) succeeded(m *member) {
	r.mu.Lock()
	m.failures, m.backoffUntil = 0, time.Time{}
	m.pausedReason, m.pausedAt = "", time.Time{}
	r.mu.Unlock()
}

// writable says whether m may be written now (not paused, not backed off).
// A pause expires after NoRoomRetry: the next write is the probe.
func (r *Repairer) writable(m *member) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if m.pausedReason != "" && now.Sub(m.pausedAt) < r.cfg.NoRoomRetry {
		return false
	}
	return !now.Before(m.backoffUntil)
}

func (r *Repairer) readable(m *member) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !time.Now().Before(m.backoffUntil)
}

// copyStarted and copyDone keep the busy time behind the throughput.
func (r *Repairer) copyStarted() {
	r.mu.Lock()
	if r.inFlight == 0 {
		r.busySince = time.Now()
	}
	r.inFlight++
	r.mu.Unlock()
}

func (r *Repairer) copyDone(m *member, size int64, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inFlight--
	if r.inFlight == 0 {
		r.busy += time.Since(r.busySince)
	}
	if !ok {
		r.totals.failed++
		return
	}
	r.totals.repairedObjects++
	r.totals.repairedBytes += size
	m.repaired++
	m.repB += size
}
