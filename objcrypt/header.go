package objcrypt

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

const (
	magic = "FBEC"
	// Version is the format version written in every header.
	Version = 1
	// SaltSize is the size of the per-object random salt.
	SaltSize = 32
	// TagSize is the GCM tag appended to every chunk.
	TagSize = 16
	// HeaderSize is the fixed size of the header at the start of every
	// encrypted object: a range read fetches [0, HeaderSize) for it.
	HeaderSize = 4 + 1 + 1 + 4 + SaltSize // magic, version, flags, chunk size, salt
	// DefaultChunkSize is the plaintext size of every chunk but the last
	// (see the package comment for why 64 KiB).
	DefaultChunkSize = 64 << 10
	// MinChunkSize and MaxChunkSize bound the chunk sizes ParseHeader
	// accepts (a hostile header must not make a reader allocate much).
	MinChunkSize = 1 << 10
	MaxChunkSize = 4 << 20

	saltOff = HeaderSize - SaltSize
)

// ErrHeader: the bytes are not a valid objcrypt header.
var ErrHeader = errors.New("objcrypt: invalid header")

// ErrSize: a size cannot be the size of an encrypted object.
var ErrSize = errors.New("objcrypt: impossible ciphertext size")

// Header is the fixed-size header of an encrypted object.
type Header struct {
	ChunkSize int
	Salt      [SaltSize]byte
}

// NewHeader makes a header with a fresh random salt. chunkSize 0 means
// DefaultChunkSize.
func NewHeader(chunkSize int) (Header, error) {
	if chunkSize == 0 {
		chunkSize = DefaultChunkSize
	}
	if err := checkChunkSize(chunkSize); err != nil {
		return Header{}, err
	}
	h := Header{ChunkSize: chunkSize}
	if _, err := rand.Read(h.Salt[:]); err != nil {
		return Header{}, fmt.Errorf("objcrypt: salt: %w", err)
	}
	return h, nil
}

func checkChunkSize(cs int) error {
	if cs < MinChunkSize || cs > MaxChunkSize {
		return fmt.Errorf("%w: chunk size %d not in [%d, %d]", ErrHeader, cs, MinChunkSize, MaxChunkSize)
	}
	return nil
}

// Marshal encodes the header (HeaderSize bytes).
func (h Header) Marshal() [HeaderSize]byte {
	var b [HeaderSize]byte
	copy(b[:], magic)
	b[4] = Version
	b[5] = 0 // flags, reserved
	binary.BigEndian.PutUint32(b[6:10], uint32(h.ChunkSize))
	copy(b[saltOff:], h.Salt[:])
	return b
}

// ParseHeader decodes the first HeaderSize bytes of b.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, fmt.Errorf("%w: %d bytes, need %d", ErrHeader, len(b), HeaderSize)
	}
	if string(b[:4]) != magic {
		return Header{}, fmt.Errorf("%w: bad magic (not an encrypted object)", ErrHeader)
	}
	if b[4] != Version {
		return Header{}, fmt.Errorf("%w: version %d, this build reads %d", ErrHeader, b[4], Version)
	}
	if b[5] != 0 {
		return Header{}, fmt.Errorf("%w: unknown flags %#x", ErrHeader, b[5])
	}
	cs := binary.BigEndian.Uint32(b[6:10])
	if cs > MaxChunkSize {
		return Header{}, fmt.Errorf("%w: chunk size %d not in [%d, %d]", ErrHeader, cs, MinChunkSize, MaxChunkSize)
	}
	h := Header{ChunkSize: int(cs)}
	if err := checkChunkSize(h.ChunkSize); err != nil {
		return Header{}, err
	}
	copy(h.Salt[:], b[saltOff:HeaderSize])
	return h, nil
}

// Chunks is the number of chunks of a plaintext of the given size (an
// empty object has one, empty, chunk).
func Chunks(plainSize int64, chunkSize int) int64 {
	if plainSize <= 0 {
		return 1
	}
	return (plainSize-1)/int64(chunkSize) + 1
}

// CiphertextSize is the stored size of an object of plainSize bytes
// encrypted with chunkSize (0: DefaultChunkSize). It returns -1 for a
// negative size or one whose ciphertext would overflow int64.
func CiphertextSize(plainSize int64, chunkSize int) int64 {
	if chunkSize == 0 {
		chunkSize = DefaultChunkSize
	}
	if plainSize < 0 || chunkSize <= 0 {
		return -1
	}
	n := Chunks(plainSize, chunkSize)
	over := int64(HeaderSize) + n*TagSize
	if plainSize > math.MaxInt64-over {
		return -1
	}
	return plainSize + over
}

// PlaintextSize is the plaintext size of a stored object of cipherSize
// bytes with chunkSize, or ErrSize if no plaintext encrypts to that size.
func PlaintextSize(cipherSize int64, chunkSize int) (int64, error) {
	if chunkSize <= 0 {
		return 0, fmt.Errorf("%w: chunk size %d", ErrSize, chunkSize)
	}
	body := cipherSize - int64(HeaderSize)
	if body < TagSize {
		return 0, fmt.Errorf("%w: %d bytes is shorter than a header and one tag", ErrSize, cipherSize)
	}
	full := int64(chunkSize) + TagSize
	n, rem := body/full, body%full
	switch {
	case rem == 0:
		return n * int64(chunkSize), nil
	case rem == TagSize && n == 0:
		return 0, nil // the empty object
	case rem <= TagSize:
		return 0, fmt.Errorf("%w: %d bytes leaves a last chunk of %d bytes (a tag alone or less)", ErrSize, cipherSize, rem)
	}
	return n*int64(chunkSize) + rem - TagSize, nil
}

// PlaintextSize is PlaintextSize with the header's chunk size.
func (h Header) PlaintextSize(cipherSize int64) (int64, error) {
	return PlaintextSize(cipherSize, h.ChunkSize)
}
