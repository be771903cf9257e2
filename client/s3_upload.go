package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"

	"github.com/flashback-network/flashback/receipt"
)

// Transfer defaults: objects above MultipartThreshold are uploaded in parts
// of PartSize (grown when a file would need more than MaxParts parts),
// Concurrency parts at a time.
const (
	MultipartThreshold = 64 << 20
	PartSize           = 16 << 20
	MaxParts           = 10000
	Concurrency        = 4
)

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
		return b.uploadSingle(ctx, key, r, size, opts, tr)
	case size > 0 && isAt:
		return b.multipart(ctx, key, size, sectionParts(ra, size, partSizeFor(size, opts.PartSize)), opts, tr)
	}
	return b.uploadStream(ctx, key, r, size, opts, tr)
}

// uploadSingle sends an object of known size at most the threshold in one
// request, read in place if r is an io.ReaderAt.
func (b *Bucket) uploadSingle(ctx context.Context, key string, r io.Reader, size int64, opts UploadOptions, tr *tracker) (*Object, error) {
	var body io.ReadSeeker
	if ra, isAt := r.(io.ReaderAt); isAt {
		body = io.NewSectionReader(ra, 0, size)
	} else {
		buf := make([]byte, size)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, fmt.Errorf("read %d bytes: %w", size, err)
		}
		body = byteSeeker(buf)
	}
	return b.put(ctx, key, body, size, opts, tr)
}

// partSizeFor grows partSize (to a whole MiB) when an object of size bytes
// would otherwise need more than MaxParts parts.
func partSizeFor(size, partSize int64) int64 {
	if need := (size + MaxParts - 1) / MaxParts; need > partSize {
		return (need + 1<<20 - 1) &^ (1<<20 - 1)
	}
	return partSize
}

// nextPart returns the next part's body and length and a release func to
// call once the part is sent, or io.EOF after the last part.
type nextPart func() (body io.ReadSeeker, size int64, release func(), err error)

// sectionParts cuts an io.ReaderAt of known size into parts read in place.
func sectionParts(ra io.ReaderAt, size, partSize int64) nextPart {
	n := 0
	return func() (io.ReadSeeker, int64, func(), error) {
		off := int64(n) * partSize
		if off >= size {
			return nil, 0, nil, io.EOF
		}
		n++
		l := min(partSize, size-off)
		return io.NewSectionReader(ra, off, l), l, func() {}, nil
	}
}

// uploadStream reads a stream (or an unknown size) part by part into
// recycled buffers; what fits in one part goes in one request.
func (b *Bucket) uploadStream(ctx context.Context, key string, r io.Reader, size int64, opts UploadOptions, tr *tracker) (*Object, error) {
	bufs := newPartBuffers(opts.Concurrency+1, opts.PartSize)
	first := bufs.get()
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
	return b.multipart(ctx, key, size, streamParts(r, first[:n], bufs), opts, tr)
}

// partBuffers recycles the part buffers of a streamed upload. Only count
// buffers exist, so reading the stream waits while they are all in flight.
type partBuffers struct {
	free chan []byte
	size int64
}

func newPartBuffers(count int, size int64) *partBuffers {
	p := &partBuffers{free: make(chan []byte, count), size: size}
	for range count {
		p.free <- nil
	}
	return p
}

// get waits for a free buffer, allocating it on first use.
func (p *partBuffers) get() []byte {
	buf := <-p.free
	if buf == nil {
		buf = make([]byte, p.size)
	}
	return buf
}

func (p *partBuffers) put(buf []byte) { p.free <- buf }

// streamParts returns pending (the part already read) and then the parts
// read from r into buffers from bufs, until r ends.
func streamParts(r io.Reader, pending []byte, bufs *partBuffers) nextPart {
	done := false
	return func() (io.ReadSeeker, int64, func(), error) {
		if pending != nil {
			p := pending
			pending = nil
			return byteSeeker(p), int64(len(p)), func() { bufs.put(p[:cap(p)]) }, nil
		}
		if done {
			return nil, 0, nil, io.EOF
		}
		buf := bufs.get()
		n, err := io.ReadFull(r, buf)
		switch {
		case err == io.EOF:
			bufs.put(buf)
			return nil, 0, nil, io.EOF
		case err == io.ErrUnexpectedEOF:
			done = true
		case err != nil:
			bufs.put(buf)
			return nil, 0, nil, err
		}
		return byteSeeker(buf[:n]), int64(n), func() { bufs.put(buf) }, nil
	}
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
	o := &Object{Key: key, Size: size, ETag: trimETag(out.ETag), LastModified: time.Now().UTC(), ContentType: opts.ContentType}
	o.Receipt, o.ReceiptProblem = receiptOf(out.ResultMetadata, receiptWant{res: b.Name, key: key, op: receipt.OpPut, size: size})
	return o, nil
}

// multipart uploads the parts next returns (until io.EOF), Concurrency at
// a time; release is called once a part is sent. On error the upload is
// aborted.
func (b *Bucket) multipart(ctx context.Context, key string, size int64, next nextPart, opts UploadOptions, tr *tracker) (*Object, error) {
	cin := &s3.CreateMultipartUploadInput{Bucket: aws.String(b.Name), Key: aws.String(key), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32}
	if opts.ContentType != "" {
		cin.ContentType = aws.String(opts.ContentType)
	}
	mp, err := b.S3.CreateMultipartUpload(ctx, cin)
	if err != nil {
		return nil, err
	}
	up := &multipartUpload{bucket: b, key: key, id: mp.UploadId}
	parts, total, err := up.sendParts(ctx, next, opts, tr)
	if err == nil && size >= 0 && total != size {
		err = fmt.Errorf("read %d of %d bytes", total, size)
	}
	if err != nil {
		up.abort(ctx)
		return nil, err
	}
	sort.Slice(parts, func(i, j int) bool { return *parts[i].PartNumber < *parts[j].PartNumber })
	out, err := b.S3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(b.Name), Key: aws.String(key), UploadId: mp.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}, MpuObjectSize: aws.Int64(total),
	})
	if err != nil {
		up.abort(ctx)
		return nil, err
	}
	tr.finish(total)
	o := &Object{Key: key, Size: total, ETag: trimETag(out.ETag), LastModified: time.Now().UTC(), ContentType: opts.ContentType}
	o.Receipt, o.ReceiptProblem = receiptOf(out.ResultMetadata, receiptWant{res: b.Name, key: key, op: receipt.OpPut, size: total})
	return o, nil
}

// multipartUpload is one multipart upload in progress.
type multipartUpload struct {
	bucket *Bucket
	key    string
	id     *string
}

// abort cancels the upload at the bridge, even if ctx is already done.
func (u *multipartUpload) abort(ctx context.Context) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_, _ = u.bucket.S3.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: aws.String(u.bucket.Name), Key: aws.String(u.key), UploadId: u.id})
}

// sendParts uploads the parts next returns, Concurrency at a time, and
// returns them (in completion order) with their total length. A failed
// part's error comes before a read error or ctx's error.
func (u *multipartUpload) sendParts(ctx context.Context, next nextPart, opts UploadOptions, tr *tracker) ([]types.CompletedPart, int64, error) {
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
			part, err := u.sendPart(ectx, num, body, l, tr)
			if err != nil {
				return err
			}
			mu.Lock()
			parts = append(parts, part)
			mu.Unlock()
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, total, err
	}
	if readErr == nil {
		readErr = ctx.Err()
	}
	return parts, total, readErr
}

// sendPart uploads part num of length l.
func (u *multipartUpload) sendPart(ctx context.Context, num int32, body io.ReadSeeker, l int64, tr *tracker) (types.CompletedPart, error) {
	out, err := u.bucket.S3.UploadPart(withPart(ctx, tr), &s3.UploadPartInput{
		Bucket: aws.String(u.bucket.Name), Key: aws.String(u.key), UploadId: u.id,
		PartNumber: aws.Int32(num), Body: body, ContentLength: aws.Int64(l), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		return types.CompletedPart{}, fmt.Errorf("part %d: %w", num, err)
	}
	return types.CompletedPart{PartNumber: aws.Int32(num), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32}, nil
}

func trimETag(p *string) string { return strings.Trim(aws.ToString(p), `"`) }
