package gateway

import (
	"context"
	"errors"
	"sort"
	"sync"
)

// Repository modes.
const (
	ModeNormal = "normal" // each member is a top-level folder of the bucket
	ModeMirror = "mirror" // every object on every member
)

// Key permissions (the same words as bridge keys').
const (
	PermRead  = "read"
	PermWrite = "write"
	PermAdmin = "admin"
)

// Member states.
const (
	MemberActive   = "active"   // serves reads and takes writes
	MemberJoining  = "joining"  // takes writes (repair fills it), serves no reads yet
	MemberRetiring = "retiring" // serves reads, takes no writes (being replaced)
)

// ErrNotFound is what a Directory returns for an unknown bucket or key.
var ErrNotFound = errors.New("gateway: not found")

// Directory is the gateway's whole view of the world: which repositories
// exist and how to reach their members, and which repository keys exist.
// The gateway calls it on every request and caches nothing, so an
// implementation must be cheap (cache and follow changes itself) and
// reflect revocations promptly. StaticDirectory serves tests and config
// files; a chain-backed one reads the repo module through the SDK and opens
// the sealed secrets with the gateway's X25519 key.
type Directory interface {
	// Repo returns the repository served as bucket, or ErrNotFound.
	Repo(ctx context.Context, bucket string) (Repo, error)
	// Key returns a repository access key, or ErrNotFound.
	Key(ctx context.Context, accessKeyID string) (Key, error)
}

// Repo is a repository as the gateway needs it.
type Repo struct {
	Name  string // the bucket name
	Mode  string // ModeNormal or ModeMirror
	Owner string // owner address (informational)
	// WriteQuorum is how many members must acknowledge a mirrored write;
	// 0 means a majority of the members that take writes.
	WriteQuorum int
	// Encrypted says objects are encrypted end to end (objcrypt; the
	// gateway applies Config.Transform to such repositories).
	Encrypted bool
	Members   []Member
}

// Member is one reservation of the repository, reached through its
// provider's bridge with a key of that reservation.
type Member struct {
	ID          string // the reservation id: the bucket on the bridge, and the folder in normal mode
	Endpoint    string // the bridge's S3 URL, e.g. https://s3.acme.example
	Region      string // SigV4 region of the bridge; default us-east-1
	AccessKeyID string // a write (or admin) key of the reservation on that bridge
	Secret      string
	State       string  // MemberActive, MemberJoining or MemberRetiring ("" = active)
	Score       float64 // the unit's score (0–100): the tie-break between equally fast members
}

// Key is a repository access key.
type Key struct {
	AccessKeyID string
	Secret      string
	Repo        string // the repository (bucket) the key is for
	Perm        string // PermRead, PermWrite or PermAdmin
}

func (m Member) state() string {
	if m.State == "" {
		return MemberActive
	}
	return m.State
}

// readable says whether the member serves reads.
func (m Member) readable() bool { return m.state() != MemberJoining }

// writable says whether the member takes writes.
func (m Member) writable() bool { return m.state() != MemberRetiring }

// writers returns the members that take writes.
func (r Repo) writers() []Member {
	var out []Member
	for _, m := range r.Members {
		if m.writable() {
			out = append(out, m)
		}
	}
	return out
}

// readers returns the members that serve reads.
func (r Repo) readers() []Member {
	var out []Member
	for _, m := range r.Members {
		if m.readable() {
			out = append(out, m)
		}
	}
	return out
}

// quorum is the write quorum over n writing members.
func (r Repo) quorum(n int) int {
	q := r.WriteQuorum
	if q <= 0 {
		q = n/2 + 1
	}
	if q > n {
		q = n
	}
	return q
}

// member returns the member with id.
func (r Repo) member(id string) (Member, bool) {
	for _, m := range r.Members {
		if m.ID == id {
			return m, true
		}
	}
	return Member{}, false
}

// StaticDirectory is an in-memory Directory, safe for concurrent use; Set
// and Delete take effect for the next request.
type StaticDirectory struct {
	mu    sync.RWMutex
	repos map[string]Repo
	keys  map[string]Key
}

// NewStaticDirectory returns a directory of repos and keys.
func NewStaticDirectory(repos []Repo, keys []Key) *StaticDirectory {
	d := &StaticDirectory{repos: map[string]Repo{}, keys: map[string]Key{}}
	for _, r := range repos {
		d.SetRepo(r)
	}
	for _, k := range keys {
		d.SetKey(k)
	}
	return d
}

// Repo implements Directory.
func (d *StaticDirectory) Repo(_ context.Context, bucket string) (Repo, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	r, ok := d.repos[bucket]
	if !ok {
		return Repo{}, ErrNotFound
	}
	r.Members = append([]Member(nil), r.Members...)
	return r, nil
}

// Key implements Directory.
func (d *StaticDirectory) Key(_ context.Context, id string) (Key, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	k, ok := d.keys[id]
	if !ok {
		return Key{}, ErrNotFound
	}
	return k, nil
}

// SetRepo adds or replaces a repository (members are kept sorted by id).
func (d *StaticDirectory) SetRepo(r Repo) {
	r.Members = append([]Member(nil), r.Members...)
	sort.Slice(r.Members, func(i, j int) bool { return r.Members[i].ID < r.Members[j].ID })
	d.mu.Lock()
	defer d.mu.Unlock()
	d.repos[r.Name] = r
}

// SetKey adds or replaces a key.
func (d *StaticDirectory) SetKey(k Key) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.keys[k.AccessKeyID] = k
}

// DeleteKey revokes a key.
func (d *StaticDirectory) DeleteKey(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.keys, id)
}
