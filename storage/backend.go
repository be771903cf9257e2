// Package storage holds the storage backends used by the bridge and the probe: the places where a
// unit's objects actually live (a local directory, an S3-compatible bucket, an
// Azure Blob container, a Google Cloud Storage bucket), behind one interface.
//
// The S3 front of the bridge speaks S3 to consumers and maps every request to
// a Backend call. Keys are opaque strings; the bridge prefixes them per
// reservation ("r42/photos/a.jpg"). All backends share the same contract,
// checked by one conformance suite against real servers (see
// conformance_test.go):
//
//   - Put streams: memory does not grow with object size. An interrupted or
//     failed Put (reader error, context cancelled, size mismatch) leaves no
//     visible object, and an existing object under the key is left intact.
//   - ETag is the hex MD5 of the content for objects written by Put or Copy,
//     whatever the backend's native ETag is; objects made by Compose carry the
//     S3 multipart ETag (see MultipartETag).
//   - User metadata keys are lower-cased (S3 semantics: they travel as HTTP
//     headers).
//   - Get and Head on a missing key fail with an error matching ErrNotFound.
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Backend stores objects under keys for one data unit.
type Backend interface {
	// Put stores the content of r under key. size is the exact content
	// length, or -1 when unknown. A reader that yields fewer or more bytes
	// than size fails the Put. The returned LastModified is the backend's
	// when it reports one cheaply, else the local clock.
	Put(ctx context.Context, key string, r io.Reader, size int64, meta ObjectMeta) (ObjectInfo, error)
	// Get opens the object (or the inclusive byte range rng of it). The
	// ObjectInfo describes the whole object (Size is the full size). A range
	// whose End is past the end is clamped; one whose Start is at or past the
	// end (or any range of an empty object) fails with ErrInvalidRange.
	Get(ctx context.Context, key string, rng *Range) (io.ReadCloser, ObjectInfo, error)
	Head(ctx context.Context, key string) (ObjectInfo, error)
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// List returns up to limit objects whose key starts with prefix and is
	// greater than startAfter, sorted by key. limit <= 0 means 1000.
	// Entries carry Key, Size, ETag and LastModified; ContentType and
	// UserMeta are filled where the backend lists them cheaply.
	List(ctx context.Context, prefix, startAfter string, limit int) ([]ObjectInfo, error)
	// Copy copies src (content, content type, user metadata) to dst.
	Copy(ctx context.Context, src, dst string) (ObjectInfo, error)
}

// Composer is implemented by backends that can concatenate objects natively
// (or at least without buffering): the S3 front builds multipart uploads on
// it. Use the package function Compose, which falls back to streaming.
type Composer interface {
	// Compose writes the concatenation of parts (existing keys, in order) to
	// dst with meta. The result's ETag is MultipartETag of the parts' ETags.
	// The parts are left in place.
	Compose(ctx context.Context, dst string, parts []string, meta ObjectMeta) (ObjectInfo, error)
}

// ObjectMeta is what a writer says about an object besides its content.
type ObjectMeta struct {
	ContentType string            `json:"content_type,omitempty"`
	UserMeta    map[string]string `json:"user_meta,omitempty"`
	// Trailer, when set, gives user metadata known only once the content
	// has been read in full (a checksum sent after the body). Backends that
	// write metadata after the content (Local) add it to UserMeta; others
	// ignore it, and the returned ObjectInfo.UserMeta says which happened.
	Trailer func() map[string]string `json:"-"`
}

// final is UserMeta with the Trailer's entries added.
func (m ObjectMeta) final() map[string]string {
	if m.Trailer == nil {
		return m.UserMeta
	}
	t := m.Trailer()
	if len(t) == 0 {
		return m.UserMeta
	}
	out := make(map[string]string, len(m.UserMeta)+len(t))
	for k, v := range m.UserMeta {
		out[k] = v
	}
	for k, v := range t {
		out[k] = v
	}
	return out
}

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Key          string
	Size         int64
	ETag         string // hex MD5 of the content for non-multipart objects, no quotes
	LastModified time.Time
	ContentType  string
	UserMeta     map[string]string
}

// Range is an inclusive byte range [Start, End].
type Range struct{ Start, End int64 }

var (
	// ErrNotFound: the key does not exist.
	ErrNotFound = errors.New("object not found")
	// ErrInvalidKey: the key cannot be stored (path traversal, NUL or other
	// control characters, invalid UTF-8, too long...).
	ErrInvalidKey = errors.New("invalid object key")
	// ErrInvalidRange: the range cannot be satisfied (S3 InvalidRange, 416).
	ErrInvalidRange = errors.New("invalid range")
	// ErrSizeMismatch: the reader gave more or fewer bytes than the size
	// passed to Put.
	ErrSizeMismatch = errors.New("content length does not match declared size")
)

// MaxKeyLen is the longest object key a client may use (S3's limit, in
// bytes).
const MaxKeyLen = 1024

// MaxStoredKeyLen is the longest key a backend accepts: a client key of
// MaxKeyLen bytes plus the prefix it is stored under (the bridge's
// "<reservation>/") and the bridge's escapes. The backends New makes on
// services that cap names at 1,024 bytes (S3, GCS, Azure) store longer
// keys under hidden names (longkeys.go).
const MaxStoredKeyLen = MaxKeyLen + 256

// defaultListLimit is used when List is called with limit <= 0.
const defaultListLimit = 1000

// Config names a backend and its settings; the bridge config file has one per
// unit. Exactly the section matching Kind is used.
type Config struct {
	Kind  string       `json:"kind"` // "local" | "s3" | "azure-blob" | "gcs"
	Local *LocalConfig `json:"local,omitempty"`
	S3    *S3Config    `json:"s3,omitempty"`
	Azure *AzureConfig `json:"azure_blob,omitempty"`
	GCS   *GCSConfig   `json:"gcs,omitempty"`
}

// Kinds of backends accepted by New.
const (
	KindLocal = "local"
	KindS3    = "s3"
	KindAzure = "azure-blob"
	KindGCS   = "gcs"
)

// New builds the backend described by cfg. Backends that hold resources
// (connections) implement io.Closer. Those on services that cap names at
// 1,024 bytes (S3, GCS, Azure) are wrapped so that every key up to
// MaxStoredKeyLen works (see longKeys).
func New(cfg Config) (Backend, error) {
	switch cfg.Kind {
	case KindLocal:
		if cfg.Local == nil {
			return nil, errors.New("backend: kind local needs a \"local\" section")
		}
		return NewLocal(*cfg.Local)
	case KindS3:
		if cfg.S3 == nil {
			return nil, errors.New("backend: kind s3 needs an \"s3\" section")
		}
		b, err := NewS3(context.Background(), *cfg.S3)
		return wrapCloud(b, err, cfg.S3.Prefix)
	case KindAzure:
		if cfg.Azure == nil {
			return nil, errors.New("backend: kind azure-blob needs an \"azure_blob\" section")
		}
		b, err := NewAzure(*cfg.Azure)
		return wrapCloud(b, err, cfg.Azure.Prefix)
	case KindGCS:
		if cfg.GCS == nil {
			return nil, errors.New("backend: kind gcs needs a \"gcs\" section")
		}
		b, err := NewGCS(context.Background(), *cfg.GCS)
		return wrapCloud(b, err, cfg.GCS.Prefix)
	case "":
		return nil, errors.New("backend: config has no kind (local, s3, azure-blob or gcs)")
	default:
		return nil, fmt.Errorf("backend: unknown kind %q (want local, s3, azure-blob or gcs)", cfg.Kind)
	}
}
