package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/flashback-network/flashback/objcrypt"
)

// decStream serves the plaintext of an encrypted GET: it reads the stored
// bytes [segs[0].start(), end] from one member and decrypts them segment by
// segment (one per objcrypt stream; the headers between parts are
// skipped). objcrypt delivers a chunk only once it authenticated, so when
// the member fails (a broken stream, or a chunk that does not
// authenticate) nothing of that chunk went out: the read resumes on the
// next member at the stored offset of that chunk. A member whose chunk
// failed authentication is queued as a bad copy once the next member's
// copy of the chunk authenticates.
type decStream struct {
	ctx    context.Context
	cancel context.CancelFunc
	g      *Gateway
	t      target
	etag   string
	segs   []encSeg
	cur    int
	r      *objcrypt.Reader
	end    int64 // last stored byte to read
	body   io.ReadCloser
	pos    int64 // stored offset of body's next byte
	member string
	rest   []Member
	// confirmed: a chunk authenticated, so the layout (header) is right
	// and an authentication failure means a bad copy.
	confirmed bool
	suspects  []string
	peek      []byte
	done      bool
}

// src is what the objcrypt readers read: the current member's body.
type dsSource struct{ ds *decStream }

func (s dsSource) Read(p []byte) (int, error) {
	n, err := s.ds.body.Read(p)
	s.ds.pos += int64(n)
	return n, err
}

// prime reads up to the first chunk's plaintext, so that a copy which
// does not decrypt fails the request before any answer is sent.
func (ds *decStream) prime() error {
	buf := make([]byte, objcrypt.DefaultChunkSize)
	n, err := ds.Read(buf)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	ds.peek = buf[:n]
	ds.confirmed = true
	return nil
}

func (ds *decStream) Read(p []byte) (int, error) {
	if len(ds.peek) > 0 {
		n := copy(p, ds.peek)
		ds.peek = ds.peek[n:]
		return n, nil
	}
	for {
		if ds.r == nil {
			if ds.cur == len(ds.segs) {
				ds.done = true
				return 0, io.EOF
			}
			s := ds.segs[ds.cur]
			if ds.pos < s.start() {
				if _, err := io.CopyN(io.Discard, dsSource{ds}, s.start()-ds.pos); err != nil {
					if err := ds.failover(s.start(), false); err != nil {
						return 0, err
					}
					continue
				}
			}
			ds.r = s.d.NewReader(dsSource{ds}, s.sp)
		}
		n, err := ds.r.Read(p)
		if n > 0 {
			ds.confirm()
			return n, nil
		}
		if errors.Is(err, io.EOF) {
			ds.confirm() // an empty last chunk authenticated too
			ds.r = nil
			ds.cur++
			continue
		}
		var ce *objcrypt.ChunkError
		if !errors.As(err, &ce) {
			return 0, err
		}
		auth := errors.Is(err, objcrypt.ErrAuth)
		if auth && !ds.confirmed {
			return 0, fmt.Errorf("%w: member %s: %v", errUndecryptable, ds.member, err)
		}
		if auth {
			ds.suspects = append(ds.suspects, ds.member)
		}
		if ferr := ds.failover(ds.segs[ds.cur].base+ds.r.Remaining().Off, auth); ferr != nil {
			if auth && len(ds.rest) == 0 && len(ds.suspects) > 0 {
				return 0, fmt.Errorf("gateway: %w at chunk %d (%v)", errDecryption, ce.Index, ferr)
			}
			return 0, ferr
		}
		ds.r.Resume(dsSource{ds})
	}
}

// confirm queues the members whose chunk failed where the current one's
// authenticated.
func (ds *decStream) confirm() {
	for _, s := range ds.suspects {
		ds.g.badCopy(ds.t, s, "a chunk failed authentication that another member's copy passes")
	}
	ds.suspects = nil
}

// failover drops the current member and goes on from the next at stored
// offset off.
func (ds *decStream) failover(off int64, auth bool) error {
	if !auth {
		ds.g.health.observe(ds.member, 0, true)
	}
	ds.closeBody()
	for len(ds.rest) > 0 {
		m := ds.rest[0]
		ds.rest = ds.rest[1:]
		if err := ds.resumeOn(m, off); err == nil {
			return nil
		}
	}
	return fmt.Errorf("gateway: no member could finish the read at stored byte %d", off)
}

// resumeOn opens stored bytes [off, end] on m, with If-Match on the ETag
// the layout came from, so no two versions are spliced.
func (ds *decStream) resumeOn(m Member, off int64) error {
	t0 := time.Now()
	out, err := ds.g.clients.get(m).s3.GetObject(ds.ctx, &s3.GetObjectInput{
		Bucket: aws.String(m.ID), Key: aws.String(ds.t.key),
		Range: aws.String(fmt.Sprintf("bytes=%d-%d", off, ds.end)), IfMatch: nonEmpty(ds.etag),
	})
	ds.g.health.observe(m.ID, time.Since(t0), err != nil)
	if err != nil {
		return fmt.Errorf("member %s: %w", m.ID, err)
	}
	ds.body, ds.member, ds.pos = out.Body, m.ID, off
	return nil
}

func (ds *decStream) closeBody() {
	if ds.body != nil {
		ds.body.Close()
		ds.body = nil
	}
}

func (ds *decStream) Close() error {
	defer ds.cancel()
	ds.closeBody()
	return nil
}

// WriteTo moves the plaintext in large writes (see failover.WriteTo).
func (ds *decStream) WriteTo(w io.Writer) (int64, error) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	var total int64
	for {
		n, err := io.ReadAtLeast(ds, buf, len(buf))
		if n > 0 {
			m, werr := w.Write(buf[:n])
			total += int64(m)
			if werr != nil {
				return total, werr
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			if ds.done {
				return total, nil
			}
			return total, err
		}
		if err != nil {
			return total, err
		}
	}
}
