package store

import (
	"encoding"
	"fmt"
	"strconv"
	"strings"

	"github.com/flashback-network/flashback/address"
	"google.golang.org/protobuf/encoding/protowire"
)

// Record is a state record in the binary codec (the MarshalBinary and
// UnmarshalBinary methods recordgen writes: protobuf wire format, fields
// numbered by position, zero fields left out, so one value has one
// encoding).
type Record interface {
	encoding.BinaryMarshaler
	encoding.BinaryUnmarshaler
}

// Get decodes the record at key into r and reports whether it exists. A
// record that does not decode is corrupt state, which the contract cannot
// continue past: it panics, and the chain halts rather than diverge.
func Get(kv KV, key []byte, r Record) bool {
	b := kv.Get(key)
	if b == nil {
		return false
	}
	if err := r.UnmarshalBinary(b); err != nil {
		panic(fmt.Sprintf("contract: corrupt record at %q: %v", key, err))
	}
	return true
}

// Set writes r at key; an all-zero record is stored as empty bytes, which
// Get reads back as the zero record.
func Set(kv KV, key []byte, r Record) {
	b, err := r.MarshalBinary()
	if err != nil {
		panic(fmt.Sprintf("contract: encode %q: %v", key, err))
	}
	if b == nil {
		b = []byte{}
	}
	kv.Set(key, b)
}

// CodecError describes a record that does not decode: field num of record
// typ, with protowire's error code n (or -1 for an unknown field or wrong
// wire type).
func CodecError(typ string, num protowire.Number, n int) error {
	if n < 0 && n != -1 {
		return fmt.Errorf("decode %s field %d: %v", typ, num, protowire.ParseError(n))
	}
	return fmt.Errorf("decode %s: unexpected field %d", typ, num)
}

// AddressBytes is the raw form of a canonical fb1… address field. A
// non-canonical address in a record is a contract bug: it panics rather
// than store something that would not read back the same.
func AddressBytes(field, s string) []byte {
	raw, err := address.Parse(s)
	if err != nil || address.Encode(raw) != s {
		panic(fmt.Sprintf("contract: %s %q is not a canonical address", field, s))
	}
	return raw
}

// AddressString reads an address field back.
func AddressString(field string, raw []byte) (string, error) {
	if len(raw) != address.Len {
		return "", fmt.Errorf("decode %s: address of %d bytes", field, len(raw))
	}
	return address.Encode(raw), nil
}

// IDNumber is N of an id "prefixN" (e.g. res-7); ids are written by the
// contract in that form, so anything else is a bug and panics.
func IDNumber(field, prefix, s string) uint64 {
	d, ok := strings.CutPrefix(s, prefix)
	n, err := strconv.ParseUint(d, 10, 64)
	if !ok || err != nil || n == 0 || strconv.FormatUint(n, 10) != d {
		panic(fmt.Sprintf("contract: %s %q is not an id %sN", field, s, prefix))
	}
	return n
}

// IDString is the id prefixN.
func IDString(prefix string, n uint64) string { return prefix + strconv.FormatUint(n, 10) }
