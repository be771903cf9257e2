package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/flashback-network/flashback/objcrypt"
	"github.com/versity/versitygw/s3err"
)

// getEncrypted serves a GET of an encrypted repository. For each member,
// best first: read the object's header (or its part index), map the
// client's range to whole chunks, read those and authenticate the first
// one before answering. A copy that does not decrypt is passed over (the
// next member brings its own header); it is queued as bad only once
// another member's copy authenticates, since a chunk failing everywhere
// means a wrong key, not bad copies.
func (b *backend) getEncrypted(ctx context.Context, cancel context.CancelFunc, t target, in *s3.GetObjectInput) (*s3.GetObjectOutput, bool, error) {
	g := b.g
	if in.PartNumber != nil {
		return nil, false, apiErr("NotImplemented", 501, "GET by part number is not offered on encrypted repositories; use a Range.")
	}
	mk, err := g.masterKey(ctx, t.repo)
	if err != nil {
		return nil, false, err
	}
	var missing []streamResult
	var suspects []string
	lastErr := errors.New("no member serves reads")
	ms := g.readersOf(t)
	for i, m := range ms {
		out, lay, err := g.encOpen(ctx, t, m, mk, in)
		if err != nil {
			switch {
			case errors.Is(err, errUndecryptable):
				suspects = append(suspects, m.ID)
			case isNotFound(err):
				missing = append(missing, streamResult{member: m.ID, err: errors.New("missing on read")})
			case isClientError(err):
				return nil, false, toS3(err)
			}
			lastErr = err
			continue
		}
		off, n, ranged, rerr := plainRange(deref(in.Range), lay.plain)
		if rerr != nil {
			return nil, false, s3err.GetAPIError(s3err.ErrInvalidRange)
		}
		segs, err := lay.segments(off, n, !ranged)
		if err != nil {
			return nil, false, s3err.GetAPIError(s3err.ErrInvalidRange)
		}
		ds := &decStream{ctx: ctx, cancel: cancel, g: g, t: t, etag: lay.etag, segs: segs,
			end: segs[len(segs)-1].end() - 1, rest: ms[i+1:], member: m.ID, pos: -1}
		if err := ds.resumeOn(m, segs[0].start()); err != nil {
			lastErr = err
			continue
		}
		if err := ds.prime(); err != nil {
			ds.closeBody()
			if errors.Is(err, errUndecryptable) {
				suspects = append(suspects, ds.member)
			}
			lastErr = err
			continue
		}
		for _, s := range suspects {
			g.badCopy(t, s, "its copy does not decrypt where another member's does")
		}
		g.queueMissed(t.repo.Name, t.key, missing, RepairPut)
		out = clientView(out, "")
		out.Body, out.ContentLength, out.ContentRange = ds, aws.Int64(n), nil
		out.AcceptRanges, out.PartsCount = aws.String("bytes"), nil
		if ranged {
			out.ContentRange = aws.String(fmt.Sprintf("bytes %d-%d/%d", off, off+n-1, lay.plain))
		}
		return out, true, nil
	}
	if len(suspects) > 0 && len(suspects)+len(missing) == len(ms) {
		g.cfg.Logf("gateway: %s/%s: no copy decrypts (%d tried): %v", t.repo.Name, t.key, len(suspects), lastErr)
		return nil, false, errDecryption
	}
	if absent(t, len(missing), len(ms)) {
		return nil, false, s3err.GetAPIError(s3err.ErrNoSuchKey)
	}
	return nil, false, unavailable("No member could serve the object: " + lastErr.Error())
}

// encOpen reads a member's copy's header (and part index): the first
// HeaderSize bytes, with the client's conditions, whose response also
// carries the stored size and the object's metadata.
func (g *Gateway) encOpen(ctx context.Context, t target, m Member, mk objcrypt.MasterKey, in *s3.GetObjectInput) (*s3.GetObjectOutput, *encLayout, error) {
	mc := g.clients.get(m)
	t0 := time.Now()
	out, err := mc.s3.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(m.ID), Key: aws.String(t.key), Range: aws.String(fmt.Sprintf("bytes=0-%d", objcrypt.HeaderSize-1)),
		IfMatch: in.IfMatch, IfNoneMatch: in.IfNoneMatch, IfModifiedSince: in.IfModifiedSince, IfUnmodifiedSince: in.IfUnmodifiedSince,
	})
	g.health.observe(m.ID, time.Since(t0), err != nil && !isClientError(err))
	if err != nil {
		return nil, nil, err
	}
	hb, err := io.ReadAll(io.LimitReader(out.Body, objcrypt.HeaderSize+1))
	out.Body.Close()
	if err != nil {
		return nil, nil, fmt.Errorf("member %s: %w", m.ID, err)
	}
	var total int64 = -1
	fmt.Sscanf(deref(out.ContentRange), "bytes %d-%d/%d", new(int64), new(int64), &total)
	if total < 0 {
		total = int64(len(hb)) // the whole object fit: it is shorter than a header
	}
	lay, err := g.layout(ctx, t, m, mk, deref(out.ETag), total, hb)
	return out, lay, err
}

// layout makes the layout of a member's copy: from its header (hb) for a
// single stream, from its part index for a multipart object.
func (g *Gateway) layout(ctx context.Context, t target, m Member, mk objcrypt.MasterKey, etag string, total int64, hb []byte) (*encLayout, error) {
	if isMultipartETag(etag) {
		return g.mpLayout(ctx, t, m, mk, etag, total)
	}
	h, err := objcrypt.ParseHeader(hb)
	if err != nil {
		return nil, fmt.Errorf("%w: member %s: %v", errUndecryptable, m.ID, err)
	}
	d, err := objcrypt.NewDecrypter(mk, encName(t), h, total)
	if err != nil {
		return nil, fmt.Errorf("%w: member %s: %v", errUndecryptable, m.ID, err)
	}
	return &encLayout{etag: etag, stored: total, plain: d.PlaintextSize(), parts: []encStream{{d: d}}}, nil
}

// plainSizeOf is the plaintext size of a stored object of a member (HEAD
// and LIST): from the stored size for a single stream (the gateway writes
// DefaultChunkSize), from the part index for a multipart object.
func (g *Gateway) plainSizeOf(ctx context.Context, t target, m Member, etag string, stored int64) (int64, error) {
	if !isMultipartETag(etag) {
		n, err := objcrypt.PlaintextSize(stored, objcrypt.DefaultChunkSize)
		if err != nil {
			return 0, fmt.Errorf("%w: %v", errUndecryptable, err)
		}
		return n, nil
	}
	mk, err := g.masterKey(ctx, t.repo)
	if err != nil {
		return 0, err
	}
	lay, err := g.mpLayout(ctx, t, m, mk, etag, stored)
	if err != nil {
		return 0, err
	}
	return lay.plain, nil
}

// headEncrypted turns a member's HEAD answer into the plaintext's.
func (b *backend) headEncrypted(ctx context.Context, t target, m Member, out *s3.HeadObjectOutput) (*s3.HeadObjectOutput, error) {
	if _, err := b.g.masterKey(ctx, t.repo); err != nil {
		return nil, err
	}
	n, err := b.g.plainSizeOf(ctx, t, m, deref(out.ETag), deref(out.ContentLength))
	if errors.Is(err, errUndecryptable) {
		b.g.cfg.Logf("gateway: HEAD %s/%s on %s: %v", t.repo.Name, t.key, m.ID, err)
		return nil, errDecryption
	}
	if err != nil {
		return nil, err
	}
	out.ContentLength = aws.Int64(n)
	out.ChecksumSHA256, out.ChecksumCRC32, out.ChecksumCRC32C, out.ChecksumCRC64NVME, out.ChecksumSHA1 = nil, nil, nil, nil, nil
	out.ChecksumType = ""
	out.PartsCount = nil
	return out, nil
}

// plainSizes turns a listing's stored sizes into plaintext sizes (LIST of
// an encrypted repository); multipart objects need their part index, read
// from the first member that gives it (a few at once).
func (b *backend) plainSizes(ctx context.Context, r Repo, es []entry) error {
	if _, err := b.g.masterKey(ctx, r); err != nil {
		return err
	}
	sem := make(chan struct{}, 8)
	errs := make([]error, len(es))
	var wg sync.WaitGroup
	for i := range es {
		e := &es[i]
		if e.obj == nil {
			continue
		}
		t, err := b.object(ctx, &r.Name, &e.name)
		if err != nil {
			errs[i] = err
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			var err error
			for _, m := range b.g.readersOf(t) {
				var n int64
				if n, err = b.g.plainSizeOf(ctx, t, m, deref(e.obj.ETag), deref(e.obj.Size)); err == nil {
					o := *e.obj
					o.Size = aws.Int64(n)
					e.obj = &o
					return
				}
				if !isMultipartETag(deref(e.obj.ETag)) {
					break // the same answer from every member
				}
			}
			errs[i] = fmt.Errorf("%s: %w", e.name, err)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			b.g.cfg.Logf("gateway: listing %s: %v", r.Name, err)
			return errDecryption
		}
	}
	return nil
}
