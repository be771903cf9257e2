package repair

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
)

// job is one copy to repair: write want (held by sources) to target.
type job struct {
	key     string
	target  *member
	reason  Reason
	want    Object
	sources []*member
	hint    *Hint // the hint it comes from: queued again if the copy fails
}

type jobOutcome int

const (
	jobDone jobOutcome = iota
	jobSkipped
	jobFailed
)

// runJob copies j.want to j.target from the first source that serves it
// whole and right, then checks the target's Head.
func (r *Repairer) runJob(ctx context.Context, j job) jobOutcome {
	if !r.writable(j.target) {
		return jobSkipped
	}
	if err := r.objs.take(ctx, 1); err != nil {
		return jobFailed
	}
	srcs := r.orderSources(j)
	if len(srcs) == 0 {
		return jobSkipped
	}
	r.copyStarted()
	ok := false
	defer func() { r.copyDone(j.target, j.want.Size, ok) }()
	sr := &srcReader{ctx: ctx, r: r, key: j.key, want: j.want, srcs: srcs, h: sha256.New()}
	err := j.target.c.Put(ctx, j.key, sr, j.want.Size, j.want.SHA256)
	if sr.cur != nil {
		sr.cur.Close()
	}
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return jobFailed
	case sr.err != nil: // the sources failed, not the target (recorded per source)
		return jobFailed
	case r.cfg.NoRoom(err):
		r.pause(j.target, fmt.Errorf("put %q (%d bytes): %w", j.key, j.want.Size, err))
		return jobFailed
	default:
		r.fail(j.target, fmt.Errorf("put %q: %w", j.key, err))
		return jobFailed
	}
	got, err := j.target.c.Head(ctx, j.key)
	if err == nil && (got.Size != j.want.Size || !bytes.Equal(got.SHA256, j.want.SHA256)) {
		err = fmt.Errorf("written copy has size %d sha256 %x, want %d %x", got.Size, got.SHA256, j.want.Size, j.want.SHA256)
	}
	if err != nil {
		r.fail(j.target, fmt.Errorf("verify %q after write: %w", j.key, err))
		return jobFailed
	}
	r.succeeded(j.target)
	if r.cfg.OnRepaired != nil {
		r.cfg.OnRepaired(j.target.id, j.key, j.want.Size)
	}
	r.mu.Lock()
	if j.reason == Bad {
		j.target.bad = max(0, j.target.bad-1)
	} else {
		j.target.missing = max(0, j.target.missing-1)
	}
	r.mu.Unlock()
	ok = true
	return jobDone
}

// orderSources lists j's sources but its target, those not backed off
// first.
func (r *Repairer) orderSources(j job) []*member {
	var srcs, later []*member
	for _, s := range j.sources {
		if s == j.target {
			continue
		}
		if r.readable(s) {
			srcs = append(srcs, s)
		} else {
			later = append(later, s)
		}
	}
	return append(srcs, later...)
}

// srcReader streams want's bytes from the sources in turn: a source that
// fails mid-stream is replaced by the next at the same offset. The bytes
// are rate-limited and hashed; the read that would complete the object
// fails instead if the hash is wrong, so a Put never gets a wrong last
// byte, even one that stops reading at the declared size.
type srcReader struct {
	ctx  context.Context
	r    *Repairer
	key  string
	want Object
	srcs []*member
	si   int
	cur  io.ReadCloser
	off  int64
	h    hash.Hash
	err  error // the error handed to the Put, if any

	verified bool
}

func (s *srcReader) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		s.err = err
	}
	return n, err
}

func (s *srcReader) read(p []byte) (int, error) {
	for {
		if s.off == s.want.Size {
			if err := s.finish(); err != nil {
				return 0, err
			}
			return 0, io.EOF
		}
		if s.cur == nil {
			if s.si == len(s.srcs) {
				return 0, fmt.Errorf("repair: no source could serve %q from byte %d", s.key, s.off)
			}
			rc, err := s.srcs[s.si].c.Open(s.ctx, s.key, s.off)
			if err != nil {
				if s.ctx.Err() != nil {
					return 0, s.ctx.Err()
				}
				s.r.fail(s.srcs[s.si], fmt.Errorf("open %q at %d: %w", s.key, s.off, err))
				s.si++
				continue
			}
			s.cur = rc
		}
		want := min(int64(len(p)), readBuf, s.want.Size-s.off)
		if err := s.r.bytes.take(s.ctx, want); err != nil {
			return 0, err
		}
		n, err := s.cur.Read(p[:want])
		s.r.bytes.refund(float64(want - int64(n)))
		s.h.Write(p[:n])
		s.off += int64(n)
		if s.off == s.want.Size {
			if ferr := s.finish(); ferr != nil {
				return 0, ferr
			}
			return n, nil
		}
		if err != nil { // short or failed source: next one, same offset
			if s.ctx.Err() != nil {
				return n, s.ctx.Err()
			}
			if errors.Is(err, io.EOF) {
				err = fmt.Errorf("ends at byte %d of %d", s.off, s.want.Size)
			}
			s.r.fail(s.srcs[s.si], fmt.Errorf("read %q: %w", s.key, err))
			s.cur.Close()
			s.cur = nil
			s.si++
		}
		if n > 0 {
			return n, nil
		}
	}
}

// finish checks the hash once every byte is in.
func (s *srcReader) finish() error {
	if s.verified {
		return nil
	}
	if sum := s.h.Sum(nil); !bytes.Equal(sum, s.want.SHA256) {
		src := s.srcs[min(s.si, len(s.srcs)-1)]
		err := fmt.Errorf("%w: %q from %s has sha256 %x, want %x", errSourceCorrupt, s.key, src.id, sum, s.want.SHA256)
		s.r.fail(src, err)
		// Its copy is bad (or its listing lied): have it looked at.
		_ = s.r.Hint(Hint{Key: s.key, Member: src.id, Reason: Bad, SHA256: s.want.SHA256})
		return err
	}
	s.verified = true
	return nil
}

// hashCopy reads m's copy of key in full (rate-limited) and hashes it.
func (r *Repairer) hashCopy(ctx context.Context, m *member, key string) ([]byte, int64, error) {
	rc, err := m.c.Open(ctx, key, 0)
	if err != nil {
		return nil, 0, err
	}
	defer rc.Close()
	h := sha256.New()
	buf := make([]byte, readBuf)
	var n int64
	for {
		if err := r.bytes.take(ctx, readBuf); err != nil {
			return nil, n, err
		}
		k, err := rc.Read(buf)
		r.bytes.refund(float64(readBuf - k))
		h.Write(buf[:k])
		n += int64(k)
		if errors.Is(err, io.EOF) {
			return h.Sum(nil), n, nil
		}
		if err != nil {
			return nil, n, err
		}
	}
}
