package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/versity/versitygw/s3err"
)

// How a GET is verified. Every copy carries the SHA-256 of its bytes,
// stored by its bridge from the write's trailing checksum. A full read of
// an object up to Config.VerifyBelow is read whole from a member and
// checked before the first byte goes out: a bad copy is never served, the
// read goes on from the next member and the bad copy is queued for repair
// (and avoided by later reads). A larger full read streams and is checked
// as it ends: on a mismatch the response fails (the client sees a broken
// transfer, never a silently wrong object) and the copy is quarantined and
// queued. Ranged reads and multipart objects (whose stored checksum is a
// checksum of part checksums) are not checked here: encrypted
// repositories authenticate every chunk instead (AES-GCM, objcrypt;
// encread.go), which also covers ranges, multipart and large objects
// before their bytes are sent.

// readersOf returns t's members that serve reads, best first for key.
func (g *Gateway) readersOf(t target) []Member {
	var ms []Member
	for _, m := range t.members {
		if m.readable() {
			ms = append(ms, m)
		}
	}
	return g.health.order(ms, t.repo.Name, t.key)
}

func (b *backend) GetObject(ctx context.Context, in *s3.GetObjectInput) (*s3.GetObjectOutput, error) {
	t, err := b.object(ctx, in.Bucket, in.Key)
	if err != nil {
		return nil, err
	}
	g := b.g
	ctx, cancel := detach(ctx)
	served := false
	defer func() {
		if !served {
			cancel()
		}
	}()
	normalizeGet(in)
	if t.repo.Encrypted {
		var out *s3.GetObjectOutput
		out, served, err = b.getEncrypted(ctx, cancel, t, in)
		return out, err
	}
	full := in.Range == nil && in.PartNumber == nil
	var missing []streamResult
	var lastErr error
	ms := g.readersOf(t)
	for i, m := range ms {
		mc := g.clients.get(m)
		req := *in
		req.Bucket, req.Key = aws.String(m.ID), aws.String(t.key)
		req.ChecksumMode = types.ChecksumModeEnabled
		t0 := time.Now()
		out, err := mc.s3.GetObject(ctx, &req)
		if err != nil {
			g.health.observe(m.ID, time.Since(t0), !isClientError(err))
			if isNotFound(err) {
				missing = append(missing, streamResult{member: m.ID, err: errors.New("missing on read")})
				lastErr = err
				continue
			}
			if isClientError(err) {
				return nil, toS3(err)
			}
			lastErr = err
			continue
		}
		g.health.observe(m.ID, time.Since(t0), false)
		stored := deref(out.ChecksumSHA256)
		verify := full && stored != "" && !strings.Contains(stored, "-") && out.ChecksumType != types.ChecksumTypeComposite
		size := deref(out.ContentLength)
		if verify && size <= g.cfg.VerifyBelow {
			data, err := g.readWhole(t, m, out.Body, size, stored)
			if err != nil {
				lastErr = err
				continue
			}
			out.Body = io.NopCloser(bytes.NewReader(data))
		} else {
			start, end := int64(0), size-1
			if cr := deref(out.ContentRange); cr != "" {
				fmt.Sscanf(cr, "bytes %d-%d/", &start, &end)
			}
			fr := &failover{ctx: ctx, cancel: cancel, g: g, t: t, in: in, rest: ms[i+1:], cur: out.Body, member: m.ID, pos: start, end: end, etag: deref(out.ETag)}
			if verify {
				fr.h, fr.want = sha256.New(), stored
			}
			out.Body = fr
		}
		g.queueMissed(t.repo.Name, t.key, missing, RepairPut)
		_, served = out.Body.(*failover) // its Close cancels ctx
		return clientView(out, in.ChecksumMode), nil
	}
	if absent(t, len(missing), len(ms)) {
		return nil, s3err.GetAPIError(s3err.ErrNoSuchKey)
	}
	return nil, unavailable("No member could serve the object: " + lastErr.Error())
}

func sha256b64(b []byte) string {
	s := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(s[:])
}

// absent says whether notFound "no such key" answers out of n readers prove
// the key absent: a write reached at least the quorum, so n-quorum+1
// members without it mean it was never written (or was deleted).
func absent(t target, notFound, n int) bool {
	if n == 0 {
		return true
	}
	return notFound >= n-t.repo.quorum(len(writersOf(t)))+1
}

// normalizeGet clears the parameters versitygw passes as pointers to
// zero values, so they are absent on the members' requests too.
func normalizeGet(in *s3.GetObjectInput) {
	if deref(in.Range) == "" {
		in.Range = nil
	}
	if deref(in.PartNumber) == 0 {
		in.PartNumber = nil
	}
	for _, p := range []**string{&in.IfMatch, &in.IfNoneMatch, &in.VersionId, &in.ExpectedBucketOwner} {
		if deref(*p) == "" {
			*p = nil
		}
	}
}

// readWhole reads a member's response of size bytes into memory and checks
// it against the stored SHA-256; a copy that fails is quarantined.
func (g *Gateway) readWhole(t target, m Member, body io.ReadCloser, size int64, stored string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(body, size+1))
	body.Close()
	if err != nil || int64(len(data)) != size {
		g.health.observe(m.ID, 0, true)
		return nil, fmt.Errorf("member %s: short read: %v", m.ID, err)
	}
	if got := sha256b64(data); got != stored {
		g.badCopy(t, m.ID, fmt.Sprintf("sha256 %s, stored %s", got, stored))
		return nil, errors.New("bad copy")
	}
	return data, nil
}

// badCopy quarantines a member's copy and queues it for repair.
func (g *Gateway) badCopy(t target, member, why string) {
	g.cfg.Logf("gateway: bad copy of %s/%s on %s: %s", t.repo.Name, t.key, member, why)
	g.health.setBad(member, t.repo.Name, t.key, true)
	g.queueMissed(t.repo.Name, t.key, []streamResult{{member: member, err: errors.New(why)}}, RepairBad)
}

// clientView strips what the client must not see (the write id) and the
// checksum unless asked for.
func clientView(out *s3.GetObjectOutput, mode types.ChecksumMode) *s3.GetObjectOutput {
	delete(out.Metadata, writeIDMeta)
	if mode != types.ChecksumModeEnabled {
		out.ChecksumSHA256, out.ChecksumCRC32, out.ChecksumCRC32C, out.ChecksumCRC64NVME, out.ChecksumSHA1 = nil, nil, nil, nil, nil
		out.ChecksumType = ""
	}
	return out
}

// failover streams a GET's bytes [pos, end] from one member and, if it
// fails, goes on from the next at the byte where it stopped (a Range GET
// with If-Match on the same ETag, so no two versions are spliced).
type failover struct {
	ctx    context.Context
	cancel context.CancelFunc
	g      *Gateway
	t      target
	in     *s3.GetObjectInput
	rest   []Member
	cur    io.ReadCloser
	member string
	pos    int64
	end    int64
	etag   string
	h      hash.Hash // nil: not verified
	want   string
	done   bool
}

func (f *failover) Read(p []byte) (int, error) {
	for {
		if f.done {
			return 0, io.EOF
		}
		n, err := f.cur.Read(p)
		if n > 0 {
			if f.h != nil {
				f.h.Write(p[:n])
			}
			f.pos += int64(n)
		}
		if err == nil || (errors.Is(err, io.EOF) && f.pos <= f.end && n > 0) {
			return n, nil
		}
		if errors.Is(err, io.EOF) && f.pos > f.end {
			return n, f.finish()
		}
		// The member failed (or ended early) before the last byte.
		f.g.health.observe(f.member, 0, true)
		f.cur.Close()
		if rerr := f.resume(); rerr != nil {
			return n, rerr
		}
		if n > 0 {
			return n, nil
		}
	}
}

func (f *failover) finish() error {
	f.done = true
	if f.h == nil {
		return io.EOF
	}
	if got := base64.StdEncoding.EncodeToString(f.h.Sum(nil)); got != f.want {
		f.g.badCopy(f.t, f.member, fmt.Sprintf("sha256 %s, stored %s", got, f.want))
		return fmt.Errorf("gateway: the copy served failed its checksum")
	}
	return io.EOF
}

// resume opens the rest of the range on the next member.
func (f *failover) resume() error {
	for len(f.rest) > 0 {
		m := f.rest[0]
		f.rest = f.rest[1:]
		t0 := time.Now()
		out, err := f.g.clients.get(m).s3.GetObject(f.ctx, &s3.GetObjectInput{
			Bucket: aws.String(m.ID), Key: aws.String(f.t.key),
			Range: aws.String(fmt.Sprintf("bytes=%d-%d", f.pos, f.end)), IfMatch: nonEmpty(f.etag),
		})
		f.g.health.observe(m.ID, time.Since(t0), err != nil)
		if err != nil {
			continue
		}
		f.cur, f.member = out.Body, m.ID
		return nil
	}
	return fmt.Errorf("gateway: no member could finish the read at byte %d", f.pos)
}

func (f *failover) Close() error {
	defer f.cancel()
	if f.cur != nil {
		return f.cur.Close()
	}
	return nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// toS3 passes a member's refusal of a request on to the client.
func toS3(err error) error {
	var re interface{ HTTPStatusCode() int }
	status := http.StatusBadRequest
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	code := errCode(err)
	switch {
	case status == http.StatusNotModified:
		return s3err.GetAPIError(s3err.ErrNotModified)
	case status == http.StatusPreconditionFailed:
		return s3err.GetAPIError(s3err.ErrPreconditionFailed)
	case code == "InvalidRange" || status == http.StatusRequestedRangeNotSatisfiable:
		return s3err.GetAPIError(s3err.ErrInvalidRange)
	case isNotFound(err):
		return s3err.GetAPIError(s3err.ErrNoSuchKey)
	}
	if code == "" {
		code = http.StatusText(status)
	}
	return apiErr(code, status, err.Error())
}

func (b *backend) HeadObject(ctx context.Context, in *s3.HeadObjectInput) (*s3.HeadObjectOutput, error) {
	ctx, cancel := detach(ctx)
	defer cancel()
	t, err := b.object(ctx, in.Bucket, in.Key)
	if err != nil {
		return nil, err
	}
	var lastErr error
	notFound := 0
	ms := b.g.readersOf(t)
	for _, m := range ms {
		req := *in
		req.Bucket, req.Key = aws.String(m.ID), aws.String(t.key)
		t0 := time.Now()
		out, err := b.g.clients.get(m).s3.HeadObject(ctx, &req)
		b.g.health.observe(m.ID, time.Since(t0), err != nil && !isClientError(err))
		if err != nil {
			lastErr = err
			if isNotFound(err) {
				notFound++
				continue
			}
			if !isClientError(err) {
				continue
			}
			return nil, toS3(err)
		}
		delete(out.Metadata, writeIDMeta)
		if t.repo.Encrypted {
			return b.headEncrypted(ctx, t, m, out)
		}
		return out, nil
	}
	if absent(t, notFound, len(ms)) {
		return nil, s3err.GetAPIError(s3err.ErrNoSuchKey)
	}
	return nil, unavailable("No member could answer: " + lastErr.Error())
}

// copyBufs are the buffers WriteTo copies responses through.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// WriteTo lets io.Copy (the server writing the response) move the bytes in
// large writes instead of its small default buffer: one syscall per 256
// KiB rather than per 4 KiB.
func (f *failover) WriteTo(w io.Writer) (int64, error) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	var total int64
	for {
		n, err := io.ReadAtLeast(f, buf, len(buf))
		if n > 0 {
			m, werr := w.Write(buf[:n])
			total += int64(m)
			if werr != nil {
				return total, werr
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			if f.done {
				return total, nil
			}
			return total, err
		}
		if err != nil {
			return total, err
		}
	}
}
