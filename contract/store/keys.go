package store

import (
	"encoding/binary"
)

// Keys are a prefix followed by fixed-width parts: numeric ids, epochs and
// times are 8-byte big endian so that key order is numeric order, and
// addresses are their 20 raw bytes.

// EncodeUint64 is v as 8 big-endian bytes, the key part of a number.
func EncodeUint64(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}

// DecodeUint64 reads a big-endian number (the inverse of EncodeUint64; a
// shorter slice reads as its value, an empty one as 0).
func DecodeUint64(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// Key concatenates key parts into a fresh slice.
func Key(parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	k := make([]byte, 0, n)
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

// NextSequence increments the counter at key and returns its new value
// (the first call returns 1).
func NextSequence(kv KV, key []byte) uint64 {
	n := GetUint64(kv, key) + 1
	SetUint64(kv, key, n)
	return n
}

// GetUint64 reads an 8-byte number; a missing or malformed value is 0.
func GetUint64(kv KV, key []byte) uint64 {
	if b := kv.Get(key); len(b) == 8 {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

// SetUint64 writes an 8-byte number.
func SetUint64(kv KV, key []byte, v uint64) { kv.Set(key, EncodeUint64(v)) }
