package receipt

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// HashSize is the size of a content hash.
const HashSize = sha256.Size

// The content hash rule (what a receipt's ContentHash is, and what an
// oracle recomputes from the object's bytes and the receipt's PartSizes):
//
//   - an object stored in one piece (PutObject, CopyObject): PartSizes is
//     empty and the hash is SHA-256 of the content;
//
//   - a multipart object: PartSizes lists its parts' sizes in order, and
//     the hash is
//
//     SHA-256( "flashback/multipart-sha256/v1\x00" || u32 parts ||
//     for each part: u64 size || SHA-256(part) )
//
//     (integers big-endian). The bridge computes it from each part's
//     SHA-256 as the part streams in, without reading the object again;
//     anyone holding the object and the part sizes recomputes it with
//     ContentHashOf.
const multipartDomain = "flashback/multipart-sha256/v1\x00"

// PartDigest is one part's size and SHA-256.
type PartDigest struct {
	Size   int64
	SHA256 [HashSize]byte
}

// MultipartHash combines part digests by the rule above.
func MultipartHash(parts []PartDigest) []byte {
	h := sha256.New()
	h.Write([]byte(multipartDomain))
	h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(parts))))
	var b [8 + HashSize]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(b[:8], uint64(p.Size))
		copy(b[8:], p.SHA256[:])
		h.Write(b[:])
	}
	return h.Sum(nil)
}

// ContentHashOf reads an object's content from r and returns its content
// hash: SHA-256 of all of it when partSizes is empty, else the multipart
// rule, in which case r must hold exactly the sum of partSizes bytes (a
// shorter or longer content is an error, as is a negative size).
func ContentHashOf(r io.Reader, partSizes []int64) ([]byte, error) {
	if len(partSizes) == 0 {
		h := sha256.New()
		if _, err := io.Copy(h, r); err != nil {
			return nil, fmt.Errorf("receipt: read content: %w", err)
		}
		return h.Sum(nil), nil
	}
	if len(partSizes) > MaxParts {
		return nil, fmt.Errorf("receipt: %d parts, at most %d", len(partSizes), MaxParts)
	}
	parts := make([]PartDigest, len(partSizes))
	for i, size := range partSizes {
		if size < 0 {
			return nil, fmt.Errorf("receipt: part %d has negative size %d", i+1, size)
		}
		h := sha256.New()
		n, err := io.CopyN(h, r, size)
		if err == io.EOF {
			return nil, fmt.Errorf("receipt: content ends in part %d (%d of its %d bytes)", i+1, n, size)
		}
		if err != nil {
			return nil, fmt.Errorf("receipt: read part %d: %w", i+1, err)
		}
		parts[i].Size = size
		h.Sum(parts[i].SHA256[:0])
	}
	var one [1]byte
	switch n, err := io.ReadFull(r, one[:]); {
	case n > 0:
		return nil, errors.New("receipt: content is longer than its parts")
	case err != io.EOF:
		return nil, fmt.Errorf("receipt: read content: %w", err)
	}
	return MultipartHash(parts), nil
}
