package receipt

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// SigningBytes is the canonical encoding of r without its signature, the
// bytes the signature covers:
//
//	"flashback/receipt/v1\x00"
//	u8  version
//	str chain id, str provider, str reservation, str key, str op
//	u64 size
//	str content hash
//	u16 runs, then per run: u16 count, u64 size   (the part sizes)
//	str etag
//	u64 time (two's complement of the int64)
//	str public key
//
// with str = u16 length + bytes, integers big-endian. The part sizes are
// run-length encoded with maximal runs (a multipart object's parts are
// mostly one size), which makes the encoding unique.
func (r *Receipt) SigningBytes() []byte {
	runs := partRuns(r.PartSizes)
	n := len(domain) + 1 + 5*2 + len(r.ChainID) + len(r.Provider) + len(r.Reservation) + len(r.Key) + len(r.Op) +
		8 + 2 + len(r.ContentHash) + 2 + 10*len(runs) + 2 + len(r.ETag) + 8 + 2 + len(r.PubKey)
	b := make([]byte, 0, n)
	b = append(b, domain...)
	b = append(b, r.Version)
	for _, s := range []string{r.ChainID, r.Provider, r.Reservation, r.Key, r.Op} {
		b = appendStr(b, []byte(s))
	}
	b = binary.BigEndian.AppendUint64(b, uint64(r.Size))
	b = appendStr(b, r.ContentHash)
	b = binary.BigEndian.AppendUint16(b, uint16(len(runs)))
	for _, run := range runs {
		b = binary.BigEndian.AppendUint16(b, run.count)
		b = binary.BigEndian.AppendUint64(b, uint64(run.size))
	}
	b = appendStr(b, []byte(r.ETag))
	b = binary.BigEndian.AppendUint64(b, uint64(r.Time))
	return appendStr(b, r.PubKey)
}

func appendStr(b, s []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

type run struct {
	count uint16
	size  int64
}

// partRuns groups equal consecutive sizes (validate bounds the count to
// MaxParts, which fits a u16).
func partRuns(sizes []int64) []run {
	var out []run
	for _, s := range sizes {
		if len(out) > 0 && out[len(out)-1].size == s && out[len(out)-1].count < math.MaxUint16 {
			out[len(out)-1].count++
			continue
		}
		out = append(out, run{count: 1, size: s})
	}
	return out
}

// Encode is r's header value: base64url (unpadded) of SigningBytes and the
// signature. r must be signed.
func (r *Receipt) Encode() (string, error) {
	if err := r.validate(); err != nil {
		return "", err
	}
	b := append(r.SigningBytes(), r.Signature...)
	s := base64.RawURLEncoding.EncodeToString(b)
	if len(s) > MaxEncodedLen {
		return "", fmt.Errorf("receipt: encoded form is %d bytes, at most %d", len(s), MaxEncodedLen)
	}
	return s, nil
}

// Decode parses a header value. It checks the structure (canonical
// encoding, field limits, sizes adding up) but not the signature: call
// Verify.
func Decode(s string) (*Receipt, error) {
	if len(s) > MaxEncodedLen {
		return nil, fmt.Errorf("receipt: %d bytes, at most %d", len(s), MaxEncodedLen)
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("receipt: not unpadded base64url: %w", err)
	}
	d := decoder{b: b}
	r, err := d.receipt()
	if err != nil {
		return nil, err
	}
	if err := r.validate(); err != nil {
		return nil, err
	}
	// One receipt, one encoding: refuse anything Encode would not write
	// (a split run of part sizes, say).
	if !bytes.Equal(b[:len(b)-ed25519.SignatureSize], r.SigningBytes()) {
		return nil, errors.New("receipt: not in canonical form")
	}
	return r, nil
}

// decoder reads the fields of SigningBytes; its first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) take(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.err = fmt.Errorf("receipt: cut short in %s", what)
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) u16(what string) uint16 {
	if v := d.take(2, what); v != nil {
		return binary.BigEndian.Uint16(v)
	}
	return 0
}

func (d *decoder) u64(what string) uint64 {
	if v := d.take(8, what); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func (d *decoder) str(what string, max int) []byte {
	n := int(d.u16(what))
	if d.err == nil && n > max {
		d.err = fmt.Errorf("receipt: %s is %d bytes, at most %d", what, n, max)
		return nil
	}
	return bytes.Clone(d.take(n, what))
}

func (d *decoder) receipt() (*Receipt, error) {
	if !bytes.HasPrefix(d.b, []byte(domain)) {
		return nil, errors.New("receipt: not a flashback receipt (domain prefix missing)")
	}
	d.b = d.b[len(domain):]
	r := &Receipt{}
	if v := d.take(1, "version"); v != nil {
		r.Version = v[0]
	}
	if d.err == nil && r.Version != Version1 {
		return nil, fmt.Errorf("receipt: version %d, want %d", r.Version, Version1)
	}
	r.ChainID = string(d.str("chain id", MaxChainID))
	r.Provider = string(d.str("provider", MaxProvider))
	r.Reservation = string(d.str("reservation", MaxReservation))
	r.Key = string(d.str("key", MaxKey))
	r.Op = string(d.str("op", len(OpDelete)))
	size := d.u64("size")
	if size > math.MaxInt64 {
		return nil, fmt.Errorf("receipt: size %d too large", size)
	}
	r.Size = int64(size)
	if h := d.str("content hash", HashSize); len(h) > 0 {
		r.ContentHash = h
	}
	if err := d.parts(r); err != nil {
		return nil, err
	}
	r.ETag = string(d.str("etag", MaxETag))
	r.Time = int64(d.u64("time"))
	r.PubKey = d.str("public key", ed25519.PublicKeySize)
	r.Signature = bytes.Clone(d.take(ed25519.SignatureSize, "signature"))
	if d.err != nil {
		return nil, d.err
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("receipt: %d bytes after the signature", len(d.b))
	}
	return r, nil
}

// parts reads the run-length encoded part sizes, refusing more than
// MaxParts before allocating them.
func (d *decoder) parts(r *Receipt) error {
	runs := int(d.u16("part runs"))
	total := 0
	for i := 0; i < runs && d.err == nil; i++ {
		count, size := int(d.u16("part run")), d.u64("part run")
		if d.err != nil {
			break
		}
		if count == 0 || size > math.MaxInt64 {
			return fmt.Errorf("receipt: part run %d is empty or too large", i+1)
		}
		if total += count; total > MaxParts {
			return fmt.Errorf("receipt: more than %d parts", MaxParts)
		}
		for range count {
			r.PartSizes = append(r.PartSizes, int64(size))
		}
	}
	return d.err
}
