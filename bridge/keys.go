package bridge

import (
	"sync"
)

// Permissions an access key can carry.
const (
	PermRead  = "read"  // list, head and get objects
	PermWrite = "write" // read + put, copy, delete, multipart, object tagging; CreateBucket on its own bucket
	PermAdmin = "admin" // write + bucket configuration calls (CORS)
)

// Key is an S3 access key bound to one reservation (its bucket).
type Key struct {
	AccessKeyID string
	Secret      string
	Bucket      string // the reservation id, which is also the bucket name
	Perm        string // PermRead, PermWrite or PermAdmin
}

// Keys resolves access key ids. Lookups must be cheap and reflect creations
// and revocations immediately: the bridge calls Lookup on every request and
// caches nothing.
type Keys interface {
	Lookup(accessKeyID string) (Key, bool)
}

// StaticKeys is a map-backed Keys, safe for concurrent use; Set and Delete
// take effect for the next request.
type StaticKeys struct{ m staticMap[Key] }

// NewStaticKeys returns a StaticKeys holding keys.
func NewStaticKeys(keys ...Key) *StaticKeys {
	s := &StaticKeys{}
	for _, k := range keys {
		s.Set(k)
	}
	return s
}

// Lookup implements Keys.
func (s *StaticKeys) Lookup(id string) (Key, bool) { return s.m.get(id) }

// Set adds or replaces a key.
func (s *StaticKeys) Set(k Key) { s.m.set(k.AccessKeyID, k) }

// Delete revokes a key.
func (s *StaticKeys) Delete(accessKeyID string) { s.m.delete(accessKeyID) }

// Reservation is what the bridge needs to know about a reservation: its
// bucket (ID), the unit whose backend stores it, and its allowances.
type Reservation struct {
	ID string // bucket name; objects live under "<ID>/" in the unit's backend
	// QuotaBytes is the reserved size; a write that would make the stored
	// bytes exceed it fails with QuotaExceeded. Negative: unlimited.
	QuotaBytes int64
	// EgressBytes is the egress allowance; a GET that would make the egress
	// exceed it fails with AccessDenied (egress allowance exhausted).
	// Negative: unlimited.
	EgressBytes int64
	// EgressUsed is egress already consumed before this bridge started
	// counting (for example as reported on chain); it counts against
	// EgressBytes together with what this bridge has served.
	EgressUsed int64
	Unit       string // key of Config.Backends
}

// Reservations resolves reservation ids (bucket names).
type Reservations interface {
	Get(id string) (Reservation, bool)
}

// StaticReservations is a map-backed Reservations, safe for concurrent use.
type StaticReservations struct{ m staticMap[Reservation] }

// NewStaticReservations returns a StaticReservations holding rs.
func NewStaticReservations(rs ...Reservation) *StaticReservations {
	s := &StaticReservations{}
	for _, r := range rs {
		s.Set(r)
	}
	return s
}

// Get implements Reservations.
func (s *StaticReservations) Get(id string) (Reservation, bool) { return s.m.get(id) }

// Set adds or replaces a reservation.
func (s *StaticReservations) Set(r Reservation) { s.m.set(r.ID, r) }

// Delete forgets a reservation.
func (s *StaticReservations) Delete(id string) { s.m.delete(id) }

// staticMap is a string-keyed map safe for concurrent use; its zero value
// is ready.
type staticMap[V any] struct {
	mu sync.RWMutex
	m  map[string]V
}

func (s *staticMap[V]) get(k string) (V, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.m[k]
	return v, ok
}

func (s *staticMap[V]) set(k string, v V) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[string]V)
	}
	s.m[k] = v
}

func (s *staticMap[V]) delete(k string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, k)
}
