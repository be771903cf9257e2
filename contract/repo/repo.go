// Package repo is the repository module: a consumer's S3 bucket spread over
// several of its reservations (members), served by the consumer's gateway.
// In mode "mirror" every object is on every member and a write succeeds
// once the write quorum of members has it; in mode "normal" each member is
// a top-level folder of the bucket. The module keeps only the placement
// (members, quorum, keys); the gateway moves the bytes and the repair loop
// keeps the copies level.
//
// A member's health is not stored: it is computed at query time from the
// market (the reservation's status, its unit's QoS suspension), so a
// reservation that ends changes nothing here and shows as degraded at once.
package repo

// The records are stored in the binary codec (codec_*.go, generated).
//go:generate go run ../store/recordgen -out codec.go -addr Repo.Owner,Member.Provider,RepoKey.Owner -id Member.Reservation=res-,Member.Unit=unit-,Member.Replaces=res- Repo Member RepoKey

import (
	"strings"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/store"
)

// Modes of a repository.
const (
	ModeNormal = "normal"
	ModeMirror = "mirror"
)

// Member states. A joining member is being filled by the repair loop and
// does not count toward the write quorum; a retiring one is still served
// (it holds the data) until the member replacing it is synced.
const (
	StateActive   = "active"
	StateJoining  = "joining"
	StateRetiring = "retiring"
)

// Bounds of the state one owner can create (and of the work of one query
// or delete).
const (
	MaxMembers       = 16
	MaxKeysPerRepo   = 32
	MaxReposPerOwner = 64
)

// maxSealedSecret is generous for an anonymous box of a 40-byte secret
// (32 ephemeral key + 16 tag + 40 = 88 bytes), as for access keys.
const (
	minSealedSecret = 48
	maxSealedSecret = 256
)

var (
	keyRepo     = []byte("rp/r/") // + owner raw + name -> Repo
	keyRepoGW   = []byte("rp/g/") // + gateway key (32) + owner raw + name -> ""
	keyRepoRes  = []byte("rp/m/") // + reservation number -> owner raw + name
	keyRepoKey  = []byte("rp/k/") // + key id -> RepoKey
	keyRepoKeys = []byte("rp/q/") // + owner raw + name + 0x00 + key id -> ""
)

// Repo is the on-chain record of a repository.
type Repo struct {
	Owner  string `json:"owner"`
	Name   string `json:"name"`
	Mode   string `json:"mode"`
	Quorum uint32 `json:"write_quorum"` // mirror only; 0 in normal mode
	// Encrypted says the gateway encrypts objects before they reach a
	// member (the default; off for data meant to be public).
	Encrypted     bool      `json:"encrypted"`
	GatewayPubKey []byte    `json:"gateway_pub_key"`
	Members       []Member  `json:"members"`
	CreatedAt     core.Time `json:"created_at"`
	UpdatedAt     core.Time `json:"updated_at"`
}

// Member is one reservation of a repository with the credential the gateway
// uses on that reservation's bridge: an access key of the reservation
// (contract/accesskey) whose secret is also sealed here, to the gateway key.
type Member struct {
	Reservation  string    `json:"reservation"`
	Unit         string    `json:"unit"`
	Provider     string    `json:"provider"`
	State        string    `json:"state"`
	AccessKeyID  string    `json:"access_key_id"`
	SealedSecret []byte    `json:"sealed_secret"`
	JoinedAt     core.Time `json:"joined_at"`
	// Replaces is the retiring member a joining one takes over from.
	Replaces string `json:"replaces,omitempty"`
}

// RepoKey is an S3 credential of the gateway's bucket for one repository.
// Bridges never see it: they know only access key records.
type RepoKey struct {
	ID           string    `json:"id"`
	Owner        string    `json:"owner"`
	Repo         string    `json:"repo"`
	Perm         string    `json:"perm"`
	SealedSecret []byte    `json:"sealed_secret"`
	CreatedAt    core.Time `json:"created_at"`
}

// serving reports whether m holds the repository's data (counts toward the
// write quorum).
func (m *Member) serving() bool { return m.State == StateActive || m.State == StateRetiring }

// servingCount is the number of members that count toward the quorum.
func (r *Repo) servingCount() int {
	n := 0
	for i := range r.Members {
		if r.Members[i].serving() {
			n++
		}
	}
	return n
}

// member returns the index of reservation res among r's members (-1: none).
func (r *Repo) member(res string) int {
	for i := range r.Members {
		if r.Members[i].Reservation == res {
			return i
		}
	}
	return -1
}

// DefaultQuorum is a majority of n members.
func DefaultQuorum(n int) uint32 { return uint32(n/2 + 1) }

// ValidName reports why s is not a valid S3 bucket name ("" when it is):
// the rules of AWS general purpose buckets.
func ValidName(s string) string {
	if len(s) < 3 || len(s) > 63 {
		return "must be 3 to 63 characters"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return "may hold only lowercase letters, digits, hyphens and dots"
		}
	}
	if !alnum(s[0]) || !alnum(s[len(s)-1]) {
		return "must begin and end with a letter or digit"
	}
	if strings.Contains(s, "..") {
		return "must not hold two adjacent dots"
	}
	if looksLikeIPv4(s) {
		return "must not be formatted as an IP address"
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(s, p) {
			return "must not begin with " + p
		}
	}
	for _, p := range []string{"-s3alias", "--ol-s3", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(s, p) {
			return "must not end with " + p
		}
	}
	return ""
}

func alnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

func looksLikeIPv4(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 3 {
			return false
		}
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return false
			}
		}
	}
	return true
}

// ---- storage ----

func ownerRaw(owner string) []byte {
	raw, _ := address.Parse(owner)
	return raw
}

// RecordKey is where owner's repository name is stored.
func RecordKey(owner []byte, name string) []byte { return store.Key(keyRepo, owner, []byte(name)) }

// KeyRecordKey is where repo key id is stored.
func KeyRecordKey(id string) []byte { return store.Key(keyRepoKey, []byte(id)) }

func resIndexKey(resN uint64) []byte { return store.Key(keyRepoRes, store.EncodeUint64(resN)) }

func gatewayIndexKey(gw, owner []byte, name string) []byte {
	return store.Key(keyRepoGW, gw, owner, []byte(name))
}

func keysPrefix(owner []byte, name string) []byte {
	return store.Key(keyRepoKeys, owner, []byte(name), []byte{0})
}

// Get reads owner's repository name.
func Get(kv store.KV, owner []byte, name string) (*Repo, bool) {
	var r Repo
	if !store.Get(kv, RecordKey(owner, name), &r) {
		return nil, false
	}
	return &r, true
}

// GetKey reads repo key id.
func GetKey(kv store.KV, id string) (*RepoKey, bool) {
	var k RepoKey
	if !store.Get(kv, KeyRecordKey(id), &k) {
		return nil, false
	}
	return &k, true
}

// put writes r; the gateway index and the per-reservation index of its
// members are maintained by the handlers that change them.
func put(kv store.KV, r *Repo) { store.Set(kv, RecordKey(ownerRaw(r.Owner), r.Name), r) }
