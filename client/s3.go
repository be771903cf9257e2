package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"
)

// S3 data plane helpers: a reservation is a bucket (named by the
// reservation id) at its provider's bridge, reached path-style with SigV4
// in region us-east-1 and an access key made by Signer.CreateAccessKey.

// S3Region is the region the bridges sign for.
const S3Region = "us-east-1"

// Transfer defaults: objects above MultipartThreshold are uploaded in parts
// of PartSize (grown when a file would need more than MaxParts parts),
// Concurrency parts at a time.
const (
	MultipartThreshold = 64 << 20
	PartSize           = 16 << 20
	MaxParts           = 10000
	Concurrency        = 4
)

// NewS3 returns an S3 client for a bridge endpoint (http(s)://host:port)
// with a static access key: path-style addressing, region us-east-1,
// request checksums when the operation supports them.
func NewS3(endpoint, accessKeyID, secret string) *s3.Client {
	return s3.New(s3.Options{
		Region:                     S3Region,
		BaseEndpoint:               aws.String(strings.TrimRight(endpoint, "/")),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(accessKeyID, secret, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
		HTTPClient:                 &countingDoer{inner: awshttp.NewBuildableClient()},
	})
}

// S3 is NewS3, for symmetry with the rest of the SDK.
func (c *Client) S3(endpoint, accessKeyID, secret string) *s3.Client {
	return NewS3(endpoint, accessKeyID, secret)
}

// Bucket is one reservation's bucket at its provider's bridge.
type Bucket struct {
	S3       *s3.Client
	Name     string // the reservation id
	Endpoint string
}

// NewBucket opens reservation's bucket at endpoint with an access key.
func NewBucket(endpoint, reservation, accessKeyID, secret string) *Bucket {
	return &Bucket{S3: NewS3(endpoint, accessKeyID, secret), Name: reservation, Endpoint: endpoint}
}

// Bucket opens the bucket of a key just created.
func (k *CreatedKey) Bucket() *Bucket {
	return NewBucket(k.Endpoint, k.Reservation, k.AccessKeyID, k.Secret)
}

// Object describes a stored object.
type Object struct {
	Key          string    `json:"key"`
	Size         int64     `json:"bytes"`
	ETag         string    `json:"etag"`
	LastModified time.Time `json:"last_modified"`
	ContentType  string    `json:"content_type,omitempty"`
}

// Progress is called as bytes move: done so far and the total (-1 when
// unknown, e.g. reading a pipe). Calls are never concurrent, but may come
// from different goroutines; done may go down when a request is retried.
type Progress func(done, total int64)

// UploadOptions tune Upload; the zero value is fine.
type UploadOptions struct {
	ContentType string
	Progress    Progress
	// PartSize (default PartSize), Threshold (default MultipartThreshold)
	// and Concurrency (default Concurrency) tune multipart uploads. Memory
	// use is bounded: files are read in place, streams buffer at most
	// Concurrency+1 parts.
	PartSize    int64
	Threshold   int64
	Concurrency int
}

func (o *UploadOptions) defaults() {
	if o.PartSize <= 0 {
		o.PartSize = PartSize
	}
	if o.PartSize < 5<<20 {
		o.PartSize = 5 << 20 // S3's minimum part size
	}
	if o.Threshold <= 0 {
		o.Threshold = MultipartThreshold
	}
	if o.Concurrency <= 0 {
		o.Concurrency = Concurrency
	}
}

// IsNotReady says whether err is what a bridge answers for a key or a
// reservation it has not learned yet (it syncs every block): an unknown
// access key or an unknown bucket.
func IsNotReady(err error) bool {
	switch S3Code(err) {
	case "InvalidAccessKeyId", "NoSuchBucket":
		return true
	}
	return false
}

// S3Code is the S3 error code of err ("NoSuchKey", ...), or "".
func S3Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// WaitReady waits until the bridge accepts the bucket's key (a key made a
// moment ago is served within a block or two), for up to timeout.
func (b *Bucket) WaitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		_, err := b.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b.Name), MaxKeys: aws.Int32(1)})
		if err == nil || !IsNotReady(err) {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the bridge at %s did not accept the new key for %s within %s: %w", b.Endpoint, b.Name, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// Stat returns an object's metadata.
func (b *Bucket) Stat(ctx context.Context, key string) (*Object, error) {
	out, err := b.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key)})
	if err != nil {
		return nil, err
	}
	return &Object{Key: key, Size: aws.ToInt64(out.ContentLength), ETag: trimETag(out.ETag),
		LastModified: aws.ToTime(out.LastModified), ContentType: aws.ToString(out.ContentType)}, nil
}

// List returns every object whose key starts with prefix, in key order.
func (b *Bucket) List(ctx context.Context, prefix string) ([]Object, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(b.Name)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	var objs []Object
	p := s3.NewListObjectsV2Paginator(b.S3, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, o := range page.Contents {
			objs = append(objs, Object{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), ETag: trimETag(o.ETag), LastModified: aws.ToTime(o.LastModified)})
		}
	}
	return objs, nil
}

// Delete removes an object (no error if it does not exist: S3 semantics).
func (b *Bucket) Delete(ctx context.Context, key string) error {
	_, err := b.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key)})
	return err
}

// Download streams an object to w and returns its metadata.
func (b *Bucket) Download(ctx context.Context, key string, w io.Writer, progress Progress) (*Object, error) {
	out, err := b.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key)})
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	o := &Object{Key: key, Size: -1, ETag: trimETag(out.ETag), LastModified: aws.ToTime(out.LastModified), ContentType: aws.ToString(out.ContentType)}
	if out.ContentLength != nil {
		o.Size = *out.ContentLength
	}
	var r io.Reader = out.Body
	if progress != nil {
		r = &progressReader{r: out.Body, f: func(n int64) { progress(n, o.Size) }}
	}
	n, err := io.Copy(w, r)
	if err != nil {
		return nil, fmt.Errorf("download %s/%s: %w", b.Name, key, err)
	}
	if o.Size >= 0 && n != o.Size {
		return nil, fmt.Errorf("download %s/%s: got %d of %d bytes", b.Name, key, n, o.Size)
	}
	o.Size = n
	return o, nil
}

// DownloadFile downloads an object to path through a temporary file in the
// same directory, so path is either the whole object or untouched.
func (b *Bucket) DownloadFile(ctx context.Context, key, path string, progress Progress) (*Object, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".fbpart-*")
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	o, err := b.Download(ctx, key, f, progress)
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(0o644); err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return nil, err
	}
	ok = true
	return o, nil
}

// UploadFile uploads a local file; files above the threshold go in parts,
// read in place.
func (b *Bucket) UploadFile(ctx context.Context, key, path string, opts UploadOptions) (*Object, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return b.Upload(ctx, key, f, -1, opts)
	}
	return b.Upload(ctx, key, f, st.Size(), opts)
}

// Upload stores r under key. size is r's length, or -1 if unknown (a
// pipe): then r is read part by part and the object goes in one request if
// it fits in one part. An io.ReaderAt of known size is read in place
// without buffering.
func (b *Bucket) Upload(ctx context.Context, key string, r io.Reader, size int64, opts UploadOptions) (*Object, error) {
	opts.defaults()
	tr := &tracker{total: size, f: opts.Progress}
	ra, isAt := r.(io.ReaderAt)
	switch {
	case size >= 0 && size <= opts.Threshold:
		var body io.ReadSeeker
		if isAt {
			body = io.NewSectionReader(ra, 0, size)
		} else {
			buf := make([]byte, size)
			if _, err := io.ReadFull(r, buf); err != nil {
				return nil, fmt.Errorf("read %d bytes: %w", size, err)
			}
			body = byteSeeker(buf)
		}
		return b.put(ctx, key, body, size, opts, tr)
	case size > 0 && isAt:
		ps := opts.PartSize
		if need := (size + MaxParts - 1) / MaxParts; need > ps {
			ps = (need + 1<<20 - 1) &^ (1<<20 - 1)
		}
		n := 0
		next := func() (io.ReadSeeker, int64, func(), error) {
			off := int64(n) * ps
			if off >= size {
				return nil, 0, nil, io.EOF
			}
			n++
			l := min(ps, size-off)
			return io.NewSectionReader(ra, off, l), l, func() {}, nil
		}
		return b.multipart(ctx, key, size, next, opts, tr)
	}
	// A stream (or an unknown size): buffer part by part.
	ps := opts.PartSize
	bufs := make(chan []byte, opts.Concurrency+1)
	for range opts.Concurrency + 1 {
		bufs <- nil
	}
	getBuf := func() []byte {
		buf := <-bufs
		if buf == nil {
			buf = make([]byte, ps)
		}
		return buf
	}
	first := getBuf()
	n, err := io.ReadFull(r, first)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		if size >= 0 && int64(n) != size {
			return nil, fmt.Errorf("read %d of %d bytes", n, size)
		}
		tr.total = int64(n)
		return b.put(ctx, key, byteSeeker(first[:n]), int64(n), opts, tr)
	}
	if err != nil {
		return nil, err
	}
	pending, done := first[:n], false
	next := func() (io.ReadSeeker, int64, func(), error) {
		if pending != nil {
			p := pending
			pending = nil
			return byteSeeker(p), int64(len(p)), func() { bufs <- p[:cap(p)] }, nil
		}
		if done {
			return nil, 0, nil, io.EOF
		}
		buf := getBuf()
		n, err := io.ReadFull(r, buf)
		switch {
		case err == io.EOF:
			bufs <- buf
			return nil, 0, nil, io.EOF
		case err == io.ErrUnexpectedEOF:
			done = true
		case err != nil:
			bufs <- buf
			return nil, 0, nil, err
		}
		return byteSeeker(buf[:n]), int64(n), func() { bufs <- buf }, nil
	}
	return b.multipart(ctx, key, size, next, opts, tr)
}

func byteSeeker(b []byte) io.ReadSeeker { return &bytesReadSeeker{b: b} }

// bytesReadSeeker is bytes.Reader without the import (and without
// WriteTo, so the HTTP transport reads it through our counting wrapper).
type bytesReadSeeker struct {
	b   []byte
	off int64
}

func (r *bytesReadSeeker) Read(p []byte) (int, error) {
	if r.off >= int64(len(r.b)) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.off:])
	r.off += int64(n)
	return n, nil
}

func (r *bytesReadSeeker) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		off += r.off
	case io.SeekEnd:
		off += int64(len(r.b))
	default:
		return 0, errors.New("seek: bad whence")
	}
	if off < 0 {
		return 0, errors.New("seek: negative position")
	}
	r.off = off
	return off, nil
}

func (b *Bucket) put(ctx context.Context, key string, body io.ReadSeeker, size int64, opts UploadOptions, tr *tracker) (*Object, error) {
	in := &s3.PutObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key), Body: body, ContentLength: aws.Int64(size)}
	if opts.ContentType != "" {
		in.ContentType = aws.String(opts.ContentType)
	}
	out, err := b.S3.PutObject(withPart(ctx, tr), in)
	if err != nil {
		return nil, err
	}
	tr.finish(size)
	return &Object{Key: key, Size: size, ETag: trimETag(out.ETag), LastModified: time.Now().UTC(), ContentType: opts.ContentType}, nil
}

// multipart uploads the parts next returns (until io.EOF), Concurrency at
// a time; release is called once a part is sent. On error the upload is
// aborted.
func (b *Bucket) multipart(ctx context.Context, key string, size int64, next func() (io.ReadSeeker, int64, func(), error), opts UploadOptions, tr *tracker) (*Object, error) {
	cin := &s3.CreateMultipartUploadInput{Bucket: aws.String(b.Name), Key: aws.String(key), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32}
	if opts.ContentType != "" {
		cin.ContentType = aws.String(opts.ContentType)
	}
	mp, err := b.S3.CreateMultipartUpload(ctx, cin)
	if err != nil {
		return nil, err
	}
	abort := func() {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_, _ = b.S3.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: aws.String(b.Name), Key: aws.String(key), UploadId: mp.UploadId})
	}
	var mu sync.Mutex
	var parts []types.CompletedPart
	var total int64
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(opts.Concurrency)
	var readErr error
	for num := int32(1); ; num++ {
		if ectx.Err() != nil {
			break
		}
		body, l, release, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = err
			break
		}
		if num > MaxParts {
			release()
			readErr = fmt.Errorf("more than %d parts of %d bytes", MaxParts, opts.PartSize)
			break
		}
		total += l
		eg.Go(func() error {
			defer release()
			out, err := b.S3.UploadPart(withPart(ectx, tr), &s3.UploadPartInput{
				Bucket: aws.String(b.Name), Key: aws.String(key), UploadId: mp.UploadId,
				PartNumber: aws.Int32(num), Body: body, ContentLength: aws.Int64(l), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
			})
			if err != nil {
				return fmt.Errorf("part %d: %w", num, err)
			}
			mu.Lock()
			parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(num), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32})
			mu.Unlock()
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		abort()
		return nil, err
	}
	if readErr == nil {
		readErr = ctx.Err()
	}
	if readErr != nil {
		abort()
		return nil, readErr
	}
	if size >= 0 && total != size {
		abort()
		return nil, fmt.Errorf("read %d of %d bytes", total, size)
	}
	sort.Slice(parts, func(i, j int) bool { return *parts[i].PartNumber < *parts[j].PartNumber })
	out, err := b.S3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(b.Name), Key: aws.String(key), UploadId: mp.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}, MpuObjectSize: aws.Int64(total),
	})
	if err != nil {
		abort()
		return nil, err
	}
	tr.finish(total)
	return &Object{Key: key, Size: total, ETag: trimETag(out.ETag), LastModified: time.Now().UTC(), ContentType: opts.ContentType}, nil
}

func trimETag(p *string) string { return strings.Trim(aws.ToString(p), `"`) }

// ---- progress ----

// tracker sums the bytes sent by every request of one transfer and calls
// the Progress function, one call at a time.
type tracker struct {
	mu    sync.Mutex
	done  int64
	total int64
	f     Progress
}

func (t *tracker) add(n int64) {
	if t == nil || t.f == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.done += n
	d := max(t.done, 0)
	if t.total >= 0 {
		d = min(d, t.total)
	}
	t.f(d, t.total)
}

func (t *tracker) finish(n int64) {
	if t == nil || t.f == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.f(n, n)
}

// partCounter counts the body bytes of one request (one part); a retry of
// the request starts its count again.
type partCounter struct {
	t    *tracker
	sent atomic.Int64
}

type partKey struct{}

func withPart(ctx context.Context, t *tracker) context.Context {
	if t == nil || t.f == nil {
		return ctx
	}
	return context.WithValue(ctx, partKey{}, &partCounter{t: t})
}

// countingDoer is the S3 client's HTTP client: it counts request body
// bytes as the transport reads them, for requests whose context carries a
// partCounter. (The SDK reads a seekable body more than once to hash it
// before sending; only the send goes through here.)
type countingDoer struct{ inner s3.HTTPClient }

func (d *countingDoer) Do(req *http.Request) (*http.Response, error) {
	pc, _ := req.Context().Value(partKey{}).(*partCounter)
	if pc != nil && req.Body != nil && req.Body != http.NoBody {
		pc.t.add(-pc.sent.Swap(0))
		body := req.Body
		req.Body = readCloser{Reader: &progressReader{r: body, f: func(n int64) { pc.sent.Add(n); pc.t.add(n) }, delta: true}, Closer: body}
	}
	return d.inner.Do(req)
}

type readCloser struct {
	io.Reader
	io.Closer
}

// progressReader reports bytes read: the running total, or (delta) each
// read's count.
type progressReader struct {
	r     io.Reader
	f     func(int64)
	n     int64
	delta bool
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.n += int64(n)
		if p.delta {
			p.f(int64(n))
		} else {
			p.f(p.n)
		}
	}
	return n, err
}
