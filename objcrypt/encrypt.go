package objcrypt

import (
	"crypto/cipher"
	"errors"
	"fmt"
	"io"
)

// EncryptReader is an io.Reader yielding the stored form (header, then the
// sealed chunks) of the plaintext it reads. Memory is about two chunks
// whatever the object size; the gateway streams a PUT body through it.
type EncryptReader struct {
	src   io.Reader
	aead  cipher.AEAD
	name  string
	cs    int
	in    []byte // plaintext read ahead: up to cs+1 bytes
	inN   int
	srcOK bool // src has not reported EOF yet
	out   []byte
	outP  int
	next  int64
	done  bool
	err   error
	nb    [12]byte
	ad    []byte
}

// NewEncryptReader encrypts plain as object name of the repository whose
// master key is mk, with a fresh random salt. chunkSize 0 means
// DefaultChunkSize. The stored size is CiphertextSize(plainSize,
// chunkSize) when the plaintext size is known.
func NewEncryptReader(mk MasterKey, name string, plain io.Reader, chunkSize int) (*EncryptReader, error) {
	h, err := NewHeader(chunkSize)
	if err != nil {
		return nil, err
	}
	aead, err := newAEAD(mk, h)
	if err != nil {
		return nil, err
	}
	hb := h.Marshal()
	e := &EncryptReader{src: plain, aead: aead, name: name, cs: h.ChunkSize, srcOK: true,
		in: make([]byte, h.ChunkSize+1), out: make([]byte, 0, h.ChunkSize+TagSize)}
	e.out = append(e.out, hb[:]...)
	return e, nil
}

// Read implements io.Reader.
func (e *EncryptReader) Read(p []byte) (int, error) {
	if e.outP == len(e.out) {
		if e.done {
			return 0, io.EOF
		}
		if e.err != nil {
			return 0, e.err
		}
		if err := e.seal(); err != nil {
			e.err = err
			return 0, err
		}
	}
	n := copy(p, e.out[e.outP:])
	e.outP += n
	return n, nil
}

// seal reads the next chunk (and one byte beyond it, to know whether it is
// the last) and seals it into e.out.
func (e *EncryptReader) seal() error {
	for e.srcOK && e.inN < len(e.in) {
		n, err := e.src.Read(e.in[e.inN:])
		e.inN += n
		if errors.Is(err, io.EOF) {
			e.srcOK = false
		} else if err != nil {
			return fmt.Errorf("objcrypt: read plaintext: %w", err)
		}
	}
	take := min(e.inN, e.cs)
	final := e.inN <= e.cs // nothing beyond this chunk
	e.ad = aad(e.ad, e.name, e.next, final)
	e.out = e.aead.Seal(e.out[:0], nonce(&e.nb, e.next), e.in[:take], e.ad)
	e.outP = 0
	e.inN = copy(e.in, e.in[take:e.inN])
	e.next++
	e.done = final
	return nil
}
