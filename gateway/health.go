package gateway

import (
	"sort"
	"sync"
	"time"
)

// health keeps what the gateway saw of each member recently: an EWMA of
// its time to first byte (failures count as a slow sample), and copies
// found bad, which are avoided until repaired (or the gateway restarts:
// the repair queue keeps them durably).
type health struct {
	mu         sync.Mutex
	ewma       map[string]sample // member id → seconds
	quarantine map[string]bool   // member id + "\x00" + repo + "\x00" + key
	// failing are the members whose last request failed; recovered those
	// that answered again since, until the repair loop takes them (it
	// clears their repair backoff: repair resumes when a member is back).
	failing, recovered map[string]bool
	// onObserve, when set, sees every observation (the gateway's metrics).
	onObserve func(member string, d time.Duration, failed bool)
}

// sample is a member's EWMA and when it was last updated.
type sample struct {
	v  float64
	at time.Time
}

const (
	// A figure older than this is forgotten, so a member that failed (and
	// so went to the end of the order) is tried again once in a while.
	ewmaMaxAge  = 30 * time.Second
	ewmaAlpha   = 0.3
	failPenalty = 5.0 // seconds: a failure counts as a very slow answer
)

func newHealth() *health {
	return &health{ewma: map[string]sample{}, quarantine: map[string]bool{}, failing: map[string]bool{}, recovered: map[string]bool{}}
}

func (h *health) observe(member string, d time.Duration, failed bool) {
	if h.onObserve != nil {
		h.onObserve(member, d, failed)
	}
	s := d.Seconds()
	if failed {
		s = failPenalty
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.noteAnswerLocked(member, !failed)
	now := time.Now()
	old, ok := h.ewma[member]
	if !ok || now.Sub(old.at) > ewmaMaxAge {
		h.ewma[member] = sample{v: s, at: now}
		return
	}
	h.ewma[member] = sample{v: old.v*(1-ewmaAlpha) + s*ewmaAlpha, at: now}
}

func qkey(member, repo, key string) string { return member + "\x00" + repo + "\x00" + key }

func (h *health) setBad(member, repo, key string, bad bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if bad {
		h.quarantine[qkey(member, repo, key)] = true
	} else {
		delete(h.quarantine, qkey(member, repo, key))
	}
}

func (h *health) isBad(member, repo, key string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.quarantine[qkey(member, repo, key)]
}

// order sorts members best first for reading key: copies known bad last,
// then the lowest latency EWMA (unmeasured members count as fast, so they
// get measured), then the highest score, then id.
func (h *health) order(ms []Member, repo, key string) []Member {
	out := append([]Member(nil), ms...)
	h.mu.Lock()
	lat := make(map[string]float64, len(out))
	bad := make(map[string]bool, len(out))
	now := time.Now()
	for _, m := range out {
		if e, ok := h.ewma[m.ID]; ok && now.Sub(e.at) <= ewmaMaxAge {
			lat[m.ID] = e.v
		}
		bad[m.ID] = h.quarantine[qkey(m.ID, repo, key)]
	}
	h.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if bad[a.ID] != bad[b.ID] {
			return !bad[a.ID]
		}
		// Latencies within 20% of each other are a tie, so scores decide
		// between members equally near.
		la, lb := lat[a.ID], lat[b.ID]
		if la < lb*0.8 || lb < la*0.8 {
			return la < lb
		}
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		return a.ID < b.ID
	})
	return out
}

// takeRecovered returns (and forgets) the members that answered again
// after a failure, sorted.
func (h *health) takeRecovered() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]string, 0, len(h.recovered))
	for m := range h.recovered {
		out = append(out, m)
	}
	clear(h.recovered)
	sort.Strings(out)
	return out
}

// answered notes that member answered a request (a write, whose timing
// says nothing about read latency and so leaves the EWMA alone).
func (h *health) answered(member string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.noteAnswerLocked(member, true)
}

func (h *health) noteAnswerLocked(member string, ok bool) {
	switch {
	case !ok:
		h.failing[member] = true
	case h.failing[member]:
		delete(h.failing, member)
		h.recovered[member] = true
	}
}
