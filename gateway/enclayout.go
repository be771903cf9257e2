package gateway

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/flashback-network/flashback/objcrypt"
)

// errUndecryptable: a member's copy is not a readable encrypted object
// (bad header or index, or its first chunk does not authenticate). Whether
// the copy is bad or the key wrong is only known once another member's
// copy authenticates.
var errUndecryptable = errors.New("copy does not decrypt")

// encLayout is where the plaintext of a stored encrypted object lies: one
// objcrypt stream (a PUT) or one per part (a multipart upload).
type encLayout struct {
	etag   string
	stored int64 // the stored size
	plain  int64 // the plaintext size
	parts  []encStream
}

// encStream is one objcrypt stream of an object.
type encStream struct {
	d        *objcrypt.Decrypter
	off      int64 // stored offset of its header
	plainOff int64 // plaintext offset of its first byte
}

// encSeg is what to read of one stream: span sp of the stream at base.
type encSeg struct {
	d    *objcrypt.Decrypter
	base int64
	sp   objcrypt.Span
}

func (s encSeg) start() int64 { return s.base + s.sp.Off }
func (s encSeg) end() int64   { return s.base + s.sp.Off + s.sp.Len } // exclusive

// segments maps plaintext [off, off+n) to the streams' spans; full reads
// every stream whole (empty ones too: their one sealed chunk is checked).
func (l *encLayout) segments(off, n int64, full bool) ([]encSeg, error) {
	var segs []encSeg
	for _, p := range l.parts {
		pn := p.d.PlaintextSize()
		if full {
			segs = append(segs, encSeg{d: p.d, base: p.off, sp: p.d.FullSpan()})
			continue
		}
		a, b := max(off, p.plainOff), min(off+n, p.plainOff+pn)
		if a >= b {
			continue
		}
		sp, err := p.d.MapRange(a-p.plainOff, b-a)
		if err != nil {
			return nil, err
		}
		segs = append(segs, encSeg{d: p.d, base: p.off, sp: sp})
	}
	if len(segs) == 0 {
		return nil, fmt.Errorf("%w: nothing to read", objcrypt.ErrRange)
	}
	return segs, nil
}

// plainRange parses a client's Range against the plaintext size: ranged
// false means the whole object (no or unparsable Range, as HTTP says).
func plainRange(rng string, size int64) (off, n int64, ranged bool, err error) {
	spec, ok := strings.CutPrefix(strings.TrimSpace(rng), "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return 0, size, false, nil
	}
	a, b, ok := strings.Cut(spec, "-")
	if !ok {
		return 0, size, false, nil
	}
	if a == "" { // suffix: the last b bytes
		k, perr := strconv.ParseInt(b, 10, 64)
		if perr != nil || k < 0 {
			return 0, size, false, nil
		}
		if k == 0 || size == 0 {
			return 0, 0, true, errRange
		}
		k = min(k, size)
		return size - k, k, true, nil
	}
	start, perr := strconv.ParseInt(a, 10, 64)
	if perr != nil || start < 0 {
		return 0, size, false, nil
	}
	last := size - 1
	if b != "" {
		e, perr := strconv.ParseInt(b, 10, 64)
		if perr != nil || e < start {
			return 0, size, false, nil
		}
		last = min(e, size-1)
	}
	if start >= size {
		return 0, 0, true, errRange
	}
	return start, last - start + 1, true, nil
}

var errRange = errors.New("range not satisfiable")
