package bridge

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/flashback-network/flashback/storage"
	"github.com/versity/versitygw/s3err"
)

// Usage is what the bridge metered for one reservation since it started.
type Usage struct {
	Unit        string
	StoredBytes int64 // bytes stored now: objects plus parts of pending multipart uploads
	Ingress     int64 // bytes of successful writes (PutObject, UploadPart)
	Egress      int64 // bytes read by GetObject
}

// resState is the bridge's accounting of one reservation. The stored bytes
// are loaded lazily from a List of the reservation's prefix the first time
// the reservation is used; from then on every write and delete through this
// bridge adjusts them.
type resState struct {
	id   string
	unit string

	loadMu sync.Mutex
	loaded atomic.Bool

	mu             sync.Mutex
	stored         int64 // committed bytes
	pending        int64 // bytes reserved by writes in flight
	egressReserved int64 // bytes reserved by GETs in flight

	ingress atomic.Int64
	egress  atomic.Int64
	// Refused writes over the quota and reads over the egress allowance
	// (metrics: a consumer hitting either wants to resize or top up).
	quotaRejections, egressRejections atomic.Int64
}

// load sums the sizes of everything under the reservation's prefix (hidden
// multipart parts included) once.
func (r *resState) load(ctx context.Context, be storage.Backend) error {
	if r.loaded.Load() {
		return nil
	}
	r.loadMu.Lock()
	defer r.loadMu.Unlock()
	if r.loaded.Load() {
		return nil
	}
	if err := sweepUploads(ctx, be, r.id); err != nil {
		return err
	}
	var total int64
	after := ""
	prefix := r.id + "/"
	for {
		objs, err := be.List(ctx, prefix, after, 1000)
		if err != nil {
			return fmt.Errorf("load usage of %s: %w", r.id, err)
		}
		for _, o := range objs {
			if !uncharged(o.Key) && !strings.HasPrefix(o.Key[len(prefix):], metaDir) { // bookkeeping is not stored bytes
				total += o.Size
			}
		}
		if len(objs) < 1000 {
			break
		}
		after = objs[len(objs)-1].Key
	}
	pending, err := pendingNativeBytes(ctx, be, r.id)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.stored += total + pending
	r.mu.Unlock()
	r.loaded.Store(true)
	return nil
}

func quotaErr(res string, quota int64) error {
	return s3err.APIError{
		Code:           "QuotaExceeded",
		Description:    fmt.Sprintf("The write would exceed the storage quota of reservation %s (%d bytes).", res, quota),
		HTTPStatusCode: 403,
	}
}

func egressErr(res string, allowance int64) error {
	return s3err.APIError{
		Code:           "AccessDenied",
		Description:    fmt.Sprintf("The egress allowance of reservation %s (%d bytes) is exhausted.", res, allowance),
		HTTPStatusCode: 403,
	}
}

// reserve claims n more bytes of the quota (n may be negative, for an
// overwrite by a smaller object). It must be matched by commit or release.
func (r *resState) reserve(res Reservation, n int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n > 0 && res.QuotaBytes >= 0 && r.stored+r.pending+n > res.QuotaBytes {
		r.quotaRejections.Add(1)
		return quotaErr(res.ID, res.QuotaBytes)
	}
	if n > 0 {
		r.pending += n
	}
	return nil
}

// commit turns a reservation of n bytes into a stored delta.
func (r *resState) commit(reserved, delta int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if reserved > 0 {
		r.pending -= reserved
	}
	r.stored += delta
}

func (r *resState) release(reserved int64) { r.commit(reserved, 0) }

// adjust changes the stored bytes (deletes).
func (r *resState) adjust(delta int64) { r.commit(0, delta) }

// reserveEgress claims n bytes of the egress allowance for a GET.
func (r *resState) reserveEgress(res Reservation, n int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if res.EgressBytes >= 0 && res.EgressUsed+r.egress.Load()+r.egressReserved+n > res.EgressBytes {
		r.egressRejections.Add(1)
		return egressErr(res.ID, res.EgressBytes)
	}
	r.egressReserved += n
	return nil
}

func (r *resState) usage() Usage {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Usage{Unit: r.unit, StoredBytes: r.stored, Ingress: r.ingress.Load(), Egress: r.egress.Load()}
}

// egressReader counts what a GET reads and gives back its egress
// reservation when closed.
type egressReader struct {
	rc       io.ReadCloser
	r        *resState
	m        *metrics
	reserved int64
	limit    int64 // never yield more than this
	n        int64
	once     sync.Once
}

func (e *egressReader) Read(p []byte) (int, error) {
	if e.n >= e.limit {
		return 0, io.EOF
	}
	if int64(len(p)) > e.limit-e.n {
		p = p[:e.limit-e.n]
	}
	n, err := e.rc.Read(p)
	e.n += int64(n)
	e.r.egress.Add(int64(n))
	e.m.bytesOut(e.r.unit, n)
	return n, err
}

func (e *egressReader) Close() error {
	err := e.rc.Close()
	e.once.Do(func() {
		e.r.mu.Lock()
		e.r.egressReserved -= e.reserved
		e.r.mu.Unlock()
	})
	return err
}

// limitedBody yields at most max bytes of r and fails (rather than
// truncating) when r has more: a lying Content-Length or chunked stream
// cannot overrun the quota reserved for it. It records the first error of
// the underlying reader (BadDigest, a cut connection...) so the caller can
// report that rather than the backend's wrapping of it.
type limitedBody struct {
	r   io.Reader
	max int64
	n   int64
	err error
	res *resState
	m   *metrics
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	if l.n >= l.max {
		// Allowed bytes consumed: the body must be at its end.
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			l.err = s3err.GetAPIError(s3err.ErrIncompleteBody)
			return 0, l.err
		}
		if err != nil && err != io.EOF {
			l.err = err
		}
		if err == nil {
			// A zero-byte read without EOF: try again later.
			return 0, nil
		}
		return 0, err
	}
	if int64(len(p)) > l.max-l.n {
		p = p[:l.max-l.n]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.m != nil {
		l.m.bytesIn(l.res.unit, n)
	}
	if err != nil && err != io.EOF {
		l.err = err
	}
	return n, err
}

// bodyError returns the S3 error to report for a failed write: the body
// reader's own error when it is an S3 error (BadDigest, a bad chunk
// signature, IncompleteBody...), else err.
func bodyError(l *limitedBody, err error) error {
	if l != nil && l.err != nil {
		if se, ok := l.err.(s3err.S3Error); ok {
			return se
		}
		if se, ok := asS3(l.err); ok {
			return se
		}
	}
	if se, ok := asS3(err); ok {
		return se
	}
	return err
}

func asS3(err error) (s3err.S3Error, bool) {
	for e := err; e != nil; {
		if se, ok := e.(s3err.S3Error); ok {
			return se, true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			break
		}
		e = u.Unwrap()
	}
	if err != nil && strings.Contains(err.Error(), "content length does not match") {
		return s3err.GetAPIError(s3err.ErrIncompleteBody), true
	}
	return nil, false
}
