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
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"time"
	"unicode/utf8"
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
// "<reservation>/") and the bridge's escapes. Services that cap names at
// 1,024 bytes themselves (S3, GCS, Azure) refuse longer ones (S3's
// KeyTooLongError is reported as ErrInvalidKey).
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
// (connections) implement io.Closer.
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
		return NewS3(context.Background(), *cfg.S3)
	case KindAzure:
		if cfg.Azure == nil {
			return nil, errors.New("backend: kind azure-blob needs an \"azure_blob\" section")
		}
		return NewAzure(*cfg.Azure)
	case KindGCS:
		if cfg.GCS == nil {
			return nil, errors.New("backend: kind gcs needs a \"gcs\" section")
		}
		return NewGCS(context.Background(), *cfg.GCS)
	case "":
		return nil, errors.New("backend: config has no kind (local, s3, azure-blob or gcs)")
	default:
		return nil, fmt.Errorf("backend: unknown kind %q (want local, s3, azure-blob or gcs)", cfg.Kind)
	}
}

// ValidateKey checks that key can be stored by every backend: non-empty, at
// most MaxStoredKeyLen bytes, valid UTF-8, no control characters (NUL, CR, LF...),
// not absolute, and no "." or ".." path segment.
func ValidateKey(key string) error {
	bad := func(why string) error { return fmt.Errorf("%w %q: %s", ErrInvalidKey, key, why) }
	switch {
	case key == "":
		return bad("empty")
	case len(key) > MaxStoredKeyLen:
		return bad(fmt.Sprintf("longer than %d bytes", MaxStoredKeyLen))
	case !utf8.ValidString(key):
		return bad("not valid UTF-8")
	case strings.HasPrefix(key, "/"):
		return bad("absolute (starts with /)")
	}
	for _, c := range key {
		if c < 0x20 || c == 0x7f {
			if c == 0 {
				return bad("contains NUL")
			}
			return bad("contains a control character")
		}
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "." || seg == ".." {
			return bad("contains a \".\" or \"..\" path segment")
		}
	}
	return nil
}

// validatePrefix checks a List prefix or startAfter: like a key, but may be
// empty and may end anywhere.
func validateListArg(s string) error {
	if s == "" {
		return nil
	}
	if len(s) > MaxStoredKeyLen || !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		return fmt.Errorf("%w: bad list prefix or start-after %q", ErrInvalidKey, s)
	}
	return nil
}

// MultipartETag is the S3 ETag of an object assembled from parts with the
// given (hex MD5) ETags: hex(md5(md5(part1) || ... || md5(partN))) + "-N".
func MultipartETag(partETags []string) (string, error) {
	h := md5.New()
	for _, e := range partETags {
		b, err := hex.DecodeString(strings.Trim(e, `"`))
		if err != nil || len(b) != md5.Size {
			return "", fmt.Errorf("backend: part ETag %q is not a hex MD5", e)
		}
		h.Write(b)
	}
	return fmt.Sprintf("%s-%d", hex.EncodeToString(h.Sum(nil)), len(partETags)), nil
}

// Compose concatenates parts into dst on b: natively when b implements
// Composer, else by streaming the parts through b.Put (constant memory,
// but the bytes travel through this process). The result's ETag is the S3
// multipart ETag of the parts on backends that store it natively; the
// fallback keeps the hex MD5 of the whole content.
func Compose(ctx context.Context, b Backend, dst string, parts []string, meta ObjectMeta) (ObjectInfo, error) {
	if c, ok := b.(Composer); ok {
		return c.Compose(ctx, dst, parts, meta)
	}
	return composeByStreaming(ctx, b, dst, parts, meta)
}

// composeByStreaming is Compose for backends without a native way: parts are
// read one after another into a single Put of known size.
func composeByStreaming(ctx context.Context, b Backend, dst string, parts []string, meta ObjectMeta) (ObjectInfo, error) {
	return streamCompose(ctx, b, dst, parts, func(r io.Reader, size int64, _ string) (ObjectInfo, error) {
		return b.Put(ctx, dst, r, size, meta)
	})
}

// streamCompose heads the parts, then calls put with a reader of their
// concatenation, its size and the multipart ETag.
func streamCompose(ctx context.Context, b Backend, dst string, parts []string,
	put func(r io.Reader, size int64, etag string) (ObjectInfo, error)) (ObjectInfo, error) {
	if len(parts) == 0 {
		return ObjectInfo{}, errors.New("backend: compose needs at least one part")
	}
	if err := ValidateKey(dst); err != nil {
		return ObjectInfo{}, err
	}
	var total int64
	etags := make([]string, len(parts))
	for i, p := range parts {
		info, err := b.Head(ctx, p)
		if err != nil {
			return ObjectInfo{}, fmt.Errorf("compose part %q: %w", p, err)
		}
		total += info.Size
		etags[i] = info.ETag
	}
	etag, err := MultipartETag(etags)
	if err != nil {
		return ObjectInfo{}, err
	}
	r := &partsReader{ctx: ctx, b: b, parts: parts}
	defer r.Close()
	return put(r, total, etag)
}

// partsReader reads the parts of a compose one after another.
type partsReader struct {
	ctx   context.Context
	b     Backend
	parts []string
	cur   io.ReadCloser
}

func (p *partsReader) Read(buf []byte) (int, error) {
	for {
		if p.cur == nil {
			if len(p.parts) == 0 {
				return 0, io.EOF
			}
			rc, _, err := p.b.Get(p.ctx, p.parts[0], nil)
			if err != nil {
				return 0, fmt.Errorf("compose part %q: %w", p.parts[0], err)
			}
			p.cur, p.parts = rc, p.parts[1:]
		}
		n, err := p.cur.Read(buf)
		if err == io.EOF {
			p.cur.Close()
			p.cur = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

func (p *partsReader) Close() error {
	if p.cur != nil {
		return p.cur.Close()
	}
	return nil
}

// putReader wraps the body of a Put: it counts (and optionally hashes with
// MD5) what goes through, enforces the declared size, and fails once ctx is
// done. Its errors are sticky.
type putReader struct {
	ctx  context.Context
	r    io.Reader
	size int64 // -1: unknown
	n    int64
	md5  hash.Hash // nil: not hashing
	err  error
}

// newPutReader wraps r; the MD5 is only computed when hashMD5 (a backend
// whose service reports the content MD5 itself need not spend the CPU).
func newPutReader(ctx context.Context, r io.Reader, size int64, hashMD5 bool) *putReader {
	p := &putReader{ctx: ctx, r: r, size: size}
	if hashMD5 {
		p.md5 = md5.New()
	}
	return p
}

func (p *putReader) Read(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	if err := p.ctx.Err(); err != nil {
		p.err = err
		return 0, err
	}
	if p.size >= 0 {
		left := p.size - p.n
		if left == 0 {
			return 0, p.probeEOF()
		}
		if int64(len(b)) > left {
			b = b[:left]
		}
	}
	n, err := p.r.Read(b)
	if p.md5 != nil {
		p.md5.Write(b[:n])
	}
	p.n += int64(n)
	if p.size >= 0 {
		if err == nil && p.n == p.size {
			// Declared size reached: check the reader ends here before the
			// consumer sees the last bytes, so that a longer body fails the
			// upload instead of being silently cut.
			err = p.probeEOF()
		}
		if err == io.EOF && p.n < p.size {
			err = fmt.Errorf("%w: got %d of %d bytes", ErrSizeMismatch, p.n, p.size)
		}
	}
	if err != nil && err != io.EOF {
		p.err = err
	}
	return n, err
}

// probeEOF checks that the underlying reader has nothing more: io.EOF if
// so, ErrSizeMismatch if it has, or its error.
func (p *putReader) probeEOF() error {
	var one [1]byte
	for range 100 {
		n, err := p.r.Read(one[:])
		if n > 0 {
			p.err = fmt.Errorf("%w: more than %d bytes", ErrSizeMismatch, p.size)
			return p.err
		}
		if err == io.EOF {
			return io.EOF
		}
		if err != nil {
			p.err = err
			return err
		}
	}
	return io.EOF
}

// sum is the hex MD5 of what was read so far ("" when not hashing).
func (p *putReader) sum() string {
	if p.md5 == nil {
		return ""
	}
	return hex.EncodeToString(p.md5.Sum(nil))
}

// check is called after a backend consumed the body, before it commits the
// object: it reports a sticky error (reader failure), a cancelled context,
// and a short body for a declared size.
func (p *putReader) check() error {
	if p.err != nil {
		return p.err
	}
	if err := p.ctx.Err(); err != nil {
		return err
	}
	if p.size >= 0 && p.n != p.size {
		return fmt.Errorf("%w: got %d of %d bytes", ErrSizeMismatch, p.n, p.size)
	}
	return nil
}

// readFull reads into buf until it is full or the reader ends. It returns the
// bytes read and whether the reader ended (io.EOF seen), or the error.
func readFull(r io.Reader, buf []byte) (int, bool, error) {
	n, err := io.ReadFull(r, buf)
	switch err {
	case nil:
		return n, false, nil
	case io.EOF, io.ErrUnexpectedEOF:
		return n, true, nil
	default:
		return n, false, err
	}
}

// normMeta copies user metadata with lower-cased keys, dropping the keys
// reserved by this package (nil when empty).
func normMeta(m map[string]string) map[string]string {
	var out map[string]string
	for k, v := range m {
		lk := strings.ToLower(k)
		if lk == metaETag {
			continue
		}
		if out == nil {
			out = make(map[string]string, len(m))
		}
		out[lk] = v
	}
	return out
}

// checkRange validates rng against an object of the given size and returns
// the clamped range (nil rng: nil).
func checkRange(rng *Range, size int64) (*Range, error) {
	if rng == nil {
		return nil, nil
	}
	if rng.Start < 0 || rng.End < rng.Start || rng.Start >= size {
		return nil, fmt.Errorf("%w: bytes=%d-%d of an object of %d bytes", ErrInvalidRange, rng.Start, rng.End, size)
	}
	r := *rng
	if r.End >= size {
		r.End = size - 1
	}
	return &r, nil
}

// checkRangeArg rejects ranges malformed independently of the object size.
func checkRangeArg(rng *Range) error {
	if rng != nil && (rng.Start < 0 || rng.End < rng.Start) {
		return fmt.Errorf("%w: bytes=%d-%d", ErrInvalidRange, rng.Start, rng.End)
	}
	return nil
}

func listLimit(limit int) int {
	if limit <= 0 {
		return defaultListLimit
	}
	return limit
}

// Reserved user-metadata keys some backends use to carry what they cannot
// store natively; hidden from ObjectInfo.UserMeta.
const (
	metaETag = "flashback-etag"
)

// splitMeta removes the reserved keys from backend metadata, returning the
// user metadata and the stored ETag, if any.
func splitMeta(m map[string]string) (map[string]string, string) {
	var etag string
	var out map[string]string
	for k, v := range m {
		lk := strings.ToLower(k)
		if lk == metaETag {
			etag = v
			continue
		}
		if out == nil {
			out = make(map[string]string, len(m))
		}
		out[lk] = v
	}
	return out, etag
}
