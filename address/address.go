// Package address derives and encodes account addresses: the first 20 bytes
// of SHA-256 over an ed25519 public key, written as bech32 with prefix "fb".
package address

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
)

// HRP is the human-readable part of every account address.
const HRP = "fb"

// Len is the length of a raw address in bytes.
const Len = 20

// FromPubKey returns the bech32 address of an ed25519 public key.
func FromPubKey(pub ed25519.PublicKey) string {
	return Encode(Raw(pub))
}

// Raw returns the 20 raw address bytes of an ed25519 public key.
func Raw(pub ed25519.PublicKey) []byte {
	sum := sha256.Sum256(pub)
	return sum[:Len]
}

// Encode writes raw address bytes as bech32 with the "fb" prefix.
func Encode(raw []byte) string {
	s, err := bech32Encode(HRP, raw)
	if err != nil {
		// Only reachable with an invalid HRP, which is a constant here.
		panic(err)
	}
	return s
}

// Parse checks a bech32 address string and returns its raw bytes. The error
// says what is wrong so that a user can fix a mistyped address.
func Parse(s string) ([]byte, error) {
	hrp, data, err := bech32Decode(s)
	if err != nil {
		return nil, fmt.Errorf("address %q: %w", s, err)
	}
	if hrp != HRP {
		return nil, fmt.Errorf("address %q: prefix is %q, want %q", s, hrp, HRP)
	}
	if len(data) != Len {
		return nil, fmt.Errorf("address %q: %d bytes, want %d", s, len(data), Len)
	}
	return data, nil
}

// Valid reports whether s is a well-formed account address.
func Valid(s string) bool {
	_, err := Parse(s)
	return err == nil
}

// BIP-173 bech32, written out here because it is small and the dependency
// graph has no maintained copy that does not drag in a wallet library.

const charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

var charsetRev = func() [128]int8 {
	var r [128]int8
	for i := range r {
		r[i] = -1
	}
	for i, c := range charset {
		r[c] = int8(i)
	}
	return r
}()

func polymod(values []byte) uint32 {
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := uint32(1)
	for _, v := range values {
		b := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ uint32(v)
		for i := 0; i < 5; i++ {
			if (b>>uint(i))&1 == 1 {
				chk ^= gen[i]
			}
		}
	}
	return chk
}

func hrpExpand(hrp string) []byte {
	out := make([]byte, 0, len(hrp)*2+1)
	for i := 0; i < len(hrp); i++ {
		out = append(out, hrp[i]>>5)
	}
	out = append(out, 0)
	for i := 0; i < len(hrp); i++ {
		out = append(out, hrp[i]&31)
	}
	return out
}

func convertBits(data []byte, from, to uint, pad bool) ([]byte, error) {
	acc, bits := uint32(0), uint(0)
	maxv := uint32(1)<<to - 1
	out := make([]byte, 0, len(data)*int(from)/int(to)+1)
	for _, v := range data {
		if uint32(v)>>from != 0 {
			return nil, errors.New("invalid data range")
		}
		acc = acc<<from | uint32(v)
		bits += from
		for bits >= to {
			bits -= to
			out = append(out, byte(acc>>bits&maxv))
		}
	}
	if pad {
		if bits > 0 {
			out = append(out, byte(acc<<(to-bits)&maxv))
		}
	} else if bits >= from || (acc<<(to-bits))&maxv != 0 {
		return nil, errors.New("invalid padding")
	}
	return out, nil
}

func bech32Encode(hrp string, data []byte) (string, error) {
	if hrp == "" || strings.ToLower(hrp) != hrp {
		return "", errors.New("invalid hrp")
	}
	five, err := convertBits(data, 8, 5, true)
	if err != nil {
		return "", err
	}
	values := append(hrpExpand(hrp), five...)
	values = append(values, 0, 0, 0, 0, 0, 0)
	mod := polymod(values) ^ 1
	var sb strings.Builder
	sb.Grow(len(hrp) + 1 + len(five) + 6)
	sb.WriteString(hrp)
	sb.WriteByte('1')
	for _, v := range five {
		sb.WriteByte(charset[v])
	}
	for i := 0; i < 6; i++ {
		sb.WriteByte(charset[(mod>>uint(5*(5-i)))&31])
	}
	return sb.String(), nil
}

func bech32Decode(s string) (string, []byte, error) {
	if len(s) < 8 || len(s) > 90 {
		return "", nil, errors.New("invalid length")
	}
	if strings.ToLower(s) != s && strings.ToUpper(s) != s {
		return "", nil, errors.New("mixed case")
	}
	s = strings.ToLower(s)
	pos := strings.LastIndexByte(s, '1')
	if pos < 1 || pos+7 > len(s) {
		return "", nil, errors.New("missing separator or checksum")
	}
	hrp := s[:pos]
	for i := 0; i < len(hrp); i++ {
		if hrp[i] < 33 || hrp[i] > 126 {
			return "", nil, errors.New("invalid character in prefix")
		}
	}
	data := make([]byte, 0, len(s)-pos-1)
	for i := pos + 1; i < len(s); i++ {
		c := s[i]
		if c >= 128 || charsetRev[c] < 0 {
			return "", nil, fmt.Errorf("invalid character %q", c)
		}
		data = append(data, byte(charsetRev[c]))
	}
	if polymod(append(hrpExpand(hrp), data...)) != 1 {
		return "", nil, errors.New("checksum mismatch (mistyped?)")
	}
	raw, err := convertBits(data[:len(data)-6], 5, 8, false)
	if err != nil {
		return "", nil, err
	}
	return hrp, raw, nil
}
