package repair

import (
	"fmt"
	"time"
)

// Status is a snapshot of the repairer, served by the gateway on REST and
// printed by `flashback repo status`.
type Status struct {
	Members []MemberStatus `json:"members"`
	// Totals since the repairer started.
	RepairedObjects int64 `json:"repaired_objects"`
	RepairedBytes   int64 `json:"repaired_bytes"`
	FailedCopies    int64 `json:"failed_copies"`
	DeletedObjects  int64 `json:"deleted_objects"`
	// ThroughputMBps is repaired bytes over the time copies were in flight
	// (MB = 10^6 bytes).
	ThroughputMBps float64 `json:"throughput_mbps"`
	PendingHints   int     `json:"pending_hints"`
	DroppedHints   int64   `json:"dropped_hints"`
	// StaleDeletes counts delete hints dropped because a quorum still held
	// the key.
	StaleDeletes int64      `json:"stale_deletes"`
	Passes       int64      `json:"passes"`
	LastPass     PassResult `json:"last_pass"`
	Running      bool       `json:"running"`
	Quorum       int        `json:"quorum"`
}

// MemberStatus is one member's line of the status.
type MemberStatus struct {
	ID      string `json:"id"`
	Objects int64  `json:"objects"` // as of its last complete listing
	Bytes   int64  `json:"bytes"`
	// BehindBy = Missing + Bad: objects the last scan found it lacks or
	// holds wrong, minus those repaired since.
	BehindBy int64 `json:"behind_by"`
	Missing  int64 `json:"missing"`
	Bad      int64 `json:"bad"`
	// Level: the last scan listed it completely and it is behind by 0.
	Level        bool       `json:"level"`
	LastFullScan *time.Time `json:"last_full_scan,omitempty"`
	LastError    string     `json:"last_error,omitempty"`
	LastErrorAt  *time.Time `json:"last_error_at,omitempty"`
	BackoffUntil *time.Time `json:"backoff_until,omitempty"`
	// Paused: writes to it are stopped (no room); PausedReason says why.
	Paused          bool       `json:"paused"`
	PausedReason    string     `json:"paused_reason,omitempty"`
	PausedAt        *time.Time `json:"paused_at,omitempty"`
	RepairedObjects int64      `json:"repaired_objects"`
	RepairedBytes   int64      `json:"repaired_bytes"`
}

// Status returns a snapshot.
func (r *Repairer) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := Status{
		RepairedObjects: r.totals.repairedObjects, RepairedBytes: r.totals.repairedBytes,
		FailedCopies: r.totals.failed, DeletedObjects: r.totals.deleted,
		PendingHints: len(r.hints), DroppedHints: r.dropped, StaleDeletes: r.stale,
		Passes: r.passes, LastPass: r.lastPass, Running: r.running, Quorum: r.cfg.Quorum,
	}
	busy := r.busy
	if r.inFlight > 0 {
		busy += time.Since(r.busySince)
	}
	if busy > 0 {
		st.ThroughputMBps = float64(r.totals.repairedBytes) / busy.Seconds() / 1e6
	}
	for _, m := range r.members {
		st.Members = append(st.Members, r.memberStatusLocked(m))
	}
	return st
}

func (r *Repairer) memberStatus(m *member) MemberStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.memberStatusLocked(m)
}

func tptr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func (r *Repairer) memberStatusLocked(m *member) MemberStatus {
	ms := MemberStatus{
		ID: m.id, Objects: m.objects, Bytes: m.bytes,
		Missing: m.missing, Bad: m.bad, BehindBy: m.missing + m.bad,
		LastFullScan: tptr(m.lastScan), LastError: m.lastErr, LastErrorAt: tptr(m.lastErrAt),
		Paused: m.pausedReason != "", PausedReason: m.pausedReason, PausedAt: tptr(m.pausedAt),
		RepairedObjects: m.repaired, RepairedBytes: m.repB,
	}
	ms.Level = m.scanned && ms.BehindBy == 0
	if time.Now().Before(m.backoffUntil) {
		ms.BackoffUntil = tptr(m.backoffUntil)
	}
	return ms
}

func (r *Repairer) backoffUntil(m *member) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return m.backoffUntil
}

func errUnknown(id string) error { return fmt.Errorf("%w %q", ErrUnknownMember, id) }

func pausedErr(id, why string) error { return fmt.Errorf("%w: %s: %s", ErrPaused, id, why) }
