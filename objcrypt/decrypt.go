package objcrypt

import (
	"crypto/cipher"
	"errors"
	"fmt"
)

// ErrAuth: a chunk failed authentication (wrong key, wrong object name,
// tampered, swapped, reordered or truncated data).
var ErrAuth = errors.New("objcrypt: chunk failed authentication")

// ErrTruncated: the ciphertext stream ended inside a chunk.
var ErrTruncated = errors.New("objcrypt: ciphertext ends inside a chunk")

// ChunkError says which chunk a read failed on. Every chunk before Index
// has been delivered in full, nothing of chunk Index has: a reader can
// resume at Index from another copy (Reader.Remaining gives the span).
type ChunkError struct {
	Index int64
	Err   error // ErrAuth, ErrTruncated or the source's read error
}

func (e *ChunkError) Error() string { return fmt.Sprintf("objcrypt: chunk %d: %v", e.Index, e.Err) }
func (e *ChunkError) Unwrap() error { return e.Err }

// Decrypter opens the chunks of one stored object.
type Decrypter struct {
	h          Header
	aead       cipher.AEAD
	name       string
	cipherSize int64
	plainSize  int64
	chunks     int64
}

// NewDecrypter prepares decryption of object name (master key mk), whose
// header is h and whose whole stored size is cipherSize (from the member's
// listing, Head or Content-Range: a wrong size only makes chunks fail).
func NewDecrypter(mk MasterKey, name string, h Header, cipherSize int64) (*Decrypter, error) {
	if err := checkChunkSize(h.ChunkSize); err != nil {
		return nil, err
	}
	ps, err := h.PlaintextSize(cipherSize)
	if err != nil {
		return nil, err
	}
	aead, err := newAEAD(mk, h)
	if err != nil {
		return nil, err
	}
	return &Decrypter{h: h, aead: aead, name: name, cipherSize: cipherSize, plainSize: ps,
		chunks: Chunks(ps, h.ChunkSize)}, nil
}

// Header is the object's header.
func (d *Decrypter) Header() Header { return d.h }

// PlaintextSize is the object's plaintext size.
func (d *Decrypter) PlaintextSize() int64 { return d.plainSize }

// Chunks is the object's number of chunks.
func (d *Decrypter) Chunks() int64 { return d.chunks }

// ChunkPlainLen is the plaintext length of chunk i.
func (d *Decrypter) ChunkPlainLen(i int64) int {
	if i == d.chunks-1 {
		return int(d.plainSize - i*int64(d.h.ChunkSize))
	}
	return d.h.ChunkSize
}

// ChunkCipherLen is the stored length of chunk i (plaintext + tag).
func (d *Decrypter) ChunkCipherLen(i int64) int { return d.ChunkPlainLen(i) + TagSize }

// ChunkOffset is the offset of chunk i in the stored object.
func (d *Decrypter) ChunkOffset(i int64) int64 {
	return int64(HeaderSize) + i*int64(d.h.ChunkSize+TagSize)
}

// DecryptChunk authenticates and decrypts chunk index (its whole stored
// bytes ct, tag included), appending the plaintext to dst. It fails with
// a *ChunkError wrapping ErrAuth when the chunk is not authentic. ct may
// come from any copy of the object: a reader that lost its source resumes
// from another one chunk by chunk.
func (d *Decrypter) DecryptChunk(dst []byte, index int64, ct []byte) ([]byte, error) {
	if index < 0 || index >= d.chunks {
		return dst, &ChunkError{Index: index, Err: fmt.Errorf("%w: index out of [0, %d)", ErrAuth, d.chunks)}
	}
	if len(ct) != d.ChunkCipherLen(index) {
		return dst, &ChunkError{Index: index, Err: fmt.Errorf("%w: %d bytes, want %d", ErrAuth, len(ct), d.ChunkCipherLen(index))}
	}
	var nb [12]byte
	var adb [64]byte
	ad := aad(adb[:0], d.name, index, index == d.chunks-1)
	out, err := d.aead.Open(dst, nonce(&nb, index), ct, ad)
	if err != nil {
		return dst, &ChunkError{Index: index, Err: ErrAuth}
	}
	return out, nil
}
