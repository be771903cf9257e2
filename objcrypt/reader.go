package objcrypt

import (
	"errors"
	"fmt"
	"io"
)

// ErrRange: a plaintext range that cannot be satisfied.
var ErrRange = errors.New("objcrypt: invalid range")

// Span is what to fetch of a stored object to read part of its plaintext:
// the stored bytes [Off, Off+Len) are chunks FirstChunk..LastChunk; of
// their plaintext, drop Skip bytes and deliver N.
type Span struct {
	FirstChunk int64 `json:"first_chunk"`
	LastChunk  int64 `json:"last_chunk"`
	Off        int64 `json:"off"`
	Len        int64 `json:"len"`
	Skip       int64 `json:"skip"`
	N          int64 `json:"n"`
}

// FullSpan is the span of the whole object (from its first chunk, the
// header excluded).
func (d *Decrypter) FullSpan() Span {
	return d.span(0, d.chunks-1, 0, d.plainSize)
}

func (d *Decrypter) span(first, last, skip, n int64) Span {
	off := d.ChunkOffset(first)
	end := d.ChunkOffset(last) + int64(d.ChunkCipherLen(last))
	return Span{FirstChunk: first, LastChunk: last, Off: off, Len: end - off, Skip: skip, N: n}
}

// MapRange maps the plaintext range [off, off+n) (n clamped at the end of
// the object, as S3 does) to the span to fetch. The header is not in the
// span: fetch [0, HeaderSize) to make the Decrypter first (or, when
// FirstChunk is 0, fetch [0, Off+Len) once and split it).
func (d *Decrypter) MapRange(off, n int64) (Span, error) {
	if off < 0 || n <= 0 || off >= d.plainSize {
		return Span{}, fmt.Errorf("%w: %d bytes at %d of a %d-byte object", ErrRange, n, off, d.plainSize)
	}
	n = min(n, d.plainSize-off)
	cs := int64(d.h.ChunkSize)
	first, last := off/cs, (off+n-1)/cs
	return d.span(first, last, off-first*cs, n), nil
}

// MapRange is Decrypter.MapRange for a caller that knows only the chunk
// size and stored size (e.g. to fetch header and first chunks at once).
func MapRange(chunkSize int, cipherSize, off, n int64) (Span, error) {
	d := &Decrypter{h: Header{ChunkSize: chunkSize}, cipherSize: cipherSize}
	if err := checkChunkSize(chunkSize); err != nil {
		return Span{}, err
	}
	ps, err := PlaintextSize(cipherSize, chunkSize)
	if err != nil {
		return Span{}, err
	}
	d.plainSize, d.chunks = ps, Chunks(ps, chunkSize)
	return d.MapRange(off, n)
}

// Reader decrypts a span of a stored object from a stream of its stored
// bytes. It only ever delivers authenticated plaintext, a whole chunk's
// worth before asking the source for the next one; on failure it returns a
// *ChunkError and Remaining says what to fetch from another copy.
type Reader struct {
	d     *Decrypter
	src   io.Reader
	last  int64
	next  int64 // next chunk to read from src
	skip  int64 // plaintext bytes to drop from chunk next
	left  int64 // plaintext bytes not yet decrypted into plain
	ct    []byte
	pbuf  []byte // decryption buffer, reused
	plain []byte // undelivered part of pbuf
	pp    int
	err   error
}

// NewReader reads span sp (as from MapRange, FullSpan or Remaining) from
// src, which must be positioned at stored offset sp.Off.
func (d *Decrypter) NewReader(src io.Reader, sp Span) *Reader {
	return &Reader{d: d, src: src, last: sp.LastChunk, next: sp.FirstChunk, skip: sp.Skip, left: sp.N}
}

// OpenReader reads a whole stored object of cipherSize bytes from src
// (header first) as object name of the repository with master key mk.
func OpenReader(mk MasterKey, name string, cipherSize int64, src io.Reader) (*Reader, error) {
	var hb [HeaderSize]byte
	if _, err := io.ReadFull(src, hb[:]); err != nil {
		return nil, fmt.Errorf("%w: read: %v", ErrHeader, err)
	}
	h, err := ParseHeader(hb[:])
	if err != nil {
		return nil, err
	}
	d, err := NewDecrypter(mk, name, h, cipherSize)
	if err != nil {
		return nil, err
	}
	return d.NewReader(src, d.FullSpan()), nil
}

// Decrypter is the reader's decrypter (for MapRange and Remaining).
func (r *Reader) Decrypter() *Decrypter { return r.d }

// Read implements io.Reader.
func (r *Reader) Read(p []byte) (int, error) {
	for r.pp == len(r.plain) {
		if r.err != nil {
			return 0, r.err
		}
		if r.next > r.last {
			return 0, io.EOF
		}
		if err := r.fill(); err != nil {
			r.err = err
			return 0, err
		}
	}
	n := copy(p, r.plain[r.pp:])
	r.pp += n
	return n, nil
}

// fill reads, authenticates and decrypts chunk r.next.
func (r *Reader) fill() error {
	i := r.next
	cl := r.d.ChunkCipherLen(i)
	if cap(r.ct) < cl {
		r.ct = make([]byte, r.d.h.ChunkSize+TagSize)
	}
	if _, err := io.ReadFull(r.src, r.ct[:cl]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = ErrTruncated
		}
		return &ChunkError{Index: i, Err: err}
	}
	if cap(r.pbuf) < cl {
		r.pbuf = make([]byte, 0, r.d.h.ChunkSize+TagSize)
	}
	pl, err := r.d.DecryptChunk(r.pbuf[:0], i, r.ct[:cl])
	if err != nil {
		return err
	}
	r.pbuf = pl
	pl = pl[min(r.skip, int64(len(pl))):]
	pl = pl[:min(r.left, int64(len(pl)))]
	r.plain, r.pp = pl, 0
	r.left -= int64(len(pl))
	r.skip = 0
	r.next++
	return nil
}

// Remaining is the span not delivered yet, to fetch from another copy
// after Read failed (every chunk before it was delivered in full).
func (r *Reader) Remaining() Span {
	if r.next > r.last {
		return Span{FirstChunk: r.next, LastChunk: r.last}
	}
	return r.d.span(r.next, r.last, r.skip, r.left)
}

// Resume makes r go on with the remaining span from src (another copy,
// positioned at Remaining().Off), clearing the error.
func (r *Reader) Resume(src io.Reader) {
	r.src, r.err = src, nil
}
