package repair

import (
	"context"
	"errors"
	"io"
	"strings"
)

// Object is one object as a member reports it.
type Object struct {
	Key  string `json:"key"`
	Size int64  `json:"size"`
	// SHA256 of the bytes as stored on the member (ciphertext for an
	// encrypted repository), as recorded in its metadata. May be nil in a
	// listing when the member cannot list it cheaply: the scanner then
	// asks Head.
	SHA256 []byte `json:"sha256,omitempty"`
}

// Copy is one member of a repository, as the repairer needs it. The
// gateway implements it over the member's bridge with the owner's
// reservation keys. Every method must be safe for concurrent use.
type Copy interface {
	// ID names the member (e.g. its reservation id); unique in a repairer.
	ID() string
	// List returns up to max objects with keys greater than after, sorted
	// by key (byte order). An empty result means the end.
	List(ctx context.Context, after string, max int) ([]Object, error)
	// Head describes key, failing with an error matching ErrNotFound when
	// the member does not hold it.
	Head(ctx context.Context, key string) (Object, error)
	// Open reads key's stored bytes from offset off to the end.
	Open(ctx context.Context, key string, off int64) (io.ReadCloser, error)
	// Put stores exactly size bytes read from r under key, recording
	// sha256 as its checksum. A failed Put (r failing included) must leave
	// no new visible object. A Put refused for lack of room should fail
	// with an error matching ErrNoRoom (S3 codes such as EntityTooLarge or
	// QuotaExceeded are recognized too, see IsNoRoom).
	Put(ctx context.Context, key string, r io.Reader, size int64, sha256 []byte) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

var (
	// ErrNotFound is what Copy.Head returns (wrapped) for a missing key.
	ErrNotFound = errors.New("repair: object not found on member")
	// ErrNoRoom is what Copy.Put returns (wrapped) when the member has no
	// room left (quota, full disk).
	ErrNoRoom = errors.New("repair: member has no room")
	// ErrPaused: Fill cannot finish because the member is paused.
	ErrPaused = errors.New("repair: member is paused")
	// ErrUnknownMember: no member has that ID.
	ErrUnknownMember = errors.New("repair: unknown member")
	// errSourceCorrupt: a source's bytes did not match the checksum.
	errSourceCorrupt = errors.New("repair: source bytes do not match the checksum")
)

// noRoomCodes are S3 (and MinIO) error codes meaning "no room".
var noRoomCodes = []string{"EntityTooLarge", "QuotaExceeded", "InsufficientStorage", "XMinioStorageFull", "StorageFull"}

// IsNoRoom reports whether a Put error means the member has no room: it
// matches ErrNoRoom, or carries one of the S3 codes above (through an
// ErrorCode() method, as smithy API errors do, or in its text).
func IsNoRoom(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrNoRoom) {
		return true
	}
	var coded interface{ ErrorCode() string }
	if errors.As(err, &coded) {
		for _, c := range noRoomCodes {
			if coded.ErrorCode() == c {
				return true
			}
		}
	}
	msg := err.Error()
	for _, c := range noRoomCodes {
		if strings.Contains(msg, c) {
			return true
		}
	}
	return strings.Contains(strings.ToLower(msg), "insufficient storage")
}

// Reason says why a hint was queued.
type Reason string

const (
	// Missing: the member missed a write (it was down, or slow).
	Missing Reason = "missing"
	// Bad: a read from the member returned bytes that do not match the
	// checksum.
	Bad Reason = "bad"
	// Delete: the member missed a DELETE (a tombstone).
	Delete Reason = "delete"
)

// Hint asks the repairer to look at one key, before its next scan.
type Hint struct {
	Key string `json:"key"`
	// Member is the ID of the member concerned ("" for Delete: all).
	Member string `json:"member,omitempty"`
	Reason Reason `json:"reason"`
	// SHA256, when set on Missing or Bad, is the checksum the gateway
	// wrote: sources must hold that version.
	SHA256 []byte `json:"sha256,omitempty"`
}
