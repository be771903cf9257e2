package storage

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
)

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
