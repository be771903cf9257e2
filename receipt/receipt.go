// Package receipt is the bridge's signed statement that it stored (or
// deleted) an object: which reservation, key, size and content hash, when
// by the bridge's clock, signed with the provider's ed25519 key (the key of
// its account on chain, so the signer's address is the provider's).
//
// A consumer keeps its receipts; a dispute about lost data shows one, and
// oracles re-fetch the object and compare its hash with the receipt's. So
// everything here is a pure function of bytes: SigningBytes, Verify,
// Decode and ContentHashOf do no I/O beyond the reader they are given and
// read no clock.
//
// Wire form (Encode/Decode, the x-flashback-receipt header value): the
// unpadded base64url of SigningBytes followed by the 64-byte signature.
// SigningBytes is domain-separated and every variable field is length
// prefixed, so two different receipts never share signed bytes, and
// Decode accepts only the canonical encoding (one receipt, one header).
package receipt

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"math"

	"github.com/flashback-network/flashback/address"
)

// Header is the response header a bridge returns a receipt in.
const Header = "X-Flashback-Receipt"

// Version1 is the only version of the format.
const Version1 = 1

// Operations a receipt can certify.
const (
	OpPut    = "put"    // PutObject, CopyObject, CompleteMultipartUpload
	OpDelete = "delete" // DeleteObject
)

// Limits of the fields, so that a receipt fits a response header and a
// decoder never allocates much for hostile input.
const (
	MaxChainID     = 64
	MaxProvider    = 90 // longest bech32 string
	MaxReservation = 128
	MaxKey         = 1024 // S3's key limit
	MaxETag        = 128
	MaxParts       = 10000 // S3's part limit
	// MaxEncodedLen bounds a header value: 10,000 distinct part sizes
	// (the worst case) with every other field at its limit.
	MaxEncodedLen = 160 << 10
)

// domain prefixes the signed bytes: a signature over a receipt can never
// be taken for one over a transaction or anything else the key signs.
const domain = "flashback/receipt/v1\x00"

// Hex is bytes written as hex in JSON (the content hash).
type Hex []byte

func (h Hex) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(h)), nil }

func (h *Hex) UnmarshalText(b []byte) error {
	v, err := hex.DecodeString(string(b))
	if err != nil {
		return fmt.Errorf("receipt: content hash: %w", err)
	}
	*h = v
	return nil
}

// Receipt is one signed statement of the bridge.
type Receipt struct {
	Version     uint8  `json:"version"`
	ChainID     string `json:"chain_id"`
	Provider    string `json:"provider"` // bech32 address of PubKey
	Reservation string `json:"reservation"`
	Key         string `json:"key"`
	Op          string `json:"op"`
	// Size is the object's size in bytes (0 for a delete).
	Size int64 `json:"size"`
	// ContentHash is the 32-byte hash of the object (none for a delete):
	// see ContentHashOf for the rule, which depends on PartSizes.
	ContentHash Hex `json:"content_hash,omitempty"`
	// PartSizes are the sizes of a multipart object's parts, in order
	// (empty for an object stored in one piece).
	PartSizes []int64 `json:"part_sizes,omitempty"`
	ETag      string  `json:"etag,omitempty"`
	// Time is when the bridge committed the operation, unix seconds by
	// its clock.
	Time      int64  `json:"time"`
	PubKey    []byte `json:"pub_key"`
	Signature []byte `json:"signature"`
}

// Sign sets r's version, public key and signature with priv. The provider
// is priv's address; a Provider already set to another address is an
// error (the bridge would sign for someone else).
func (r *Receipt) Sign(priv ed25519.PrivateKey) error {
	if len(priv) != ed25519.PrivateKeySize {
		return fmt.Errorf("receipt: private key is %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	pub := priv.Public().(ed25519.PublicKey)
	addr := address.FromPubKey(pub)
	if r.Provider == "" {
		r.Provider = addr
	}
	if r.Provider != addr {
		return fmt.Errorf("receipt: provider %s is not the signing key's address %s", r.Provider, addr)
	}
	if r.Version == 0 {
		r.Version = Version1
	}
	r.PubKey = bytes.Clone(pub)
	r.Signature = make([]byte, ed25519.SignatureSize) // placeholder for validate
	if err := r.validate(); err != nil {
		r.Signature = nil
		return err
	}
	r.Signature = ed25519.Sign(priv, r.SigningBytes())
	return nil
}

// Verify checks that r is well formed, that its public key is the
// provider's (address of PubKey == Provider) and that the signature is
// the key's over SigningBytes.
func (r *Receipt) Verify() error {
	if err := r.validate(); err != nil {
		return err
	}
	raw, err := address.Parse(r.Provider)
	if err != nil {
		return fmt.Errorf("receipt: %w", err)
	}
	if !bytes.Equal(raw, address.Raw(r.PubKey)) {
		return fmt.Errorf("receipt: public key belongs to %s, not to the provider %s", address.FromPubKey(r.PubKey), r.Provider)
	}
	if !ed25519.Verify(r.PubKey, r.SigningBytes(), r.Signature) {
		return errors.New("receipt: signature does not match the receipt")
	}
	return nil
}

// validate checks the structure: what Decode insists on and Sign
// produces. It does not check the signature.
func (r *Receipt) validate() error {
	if r.Version != Version1 {
		return fmt.Errorf("receipt: version %d, want %d", r.Version, Version1)
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"chain id", r.ChainID, MaxChainID}, {"provider", r.Provider, MaxProvider},
		{"reservation", r.Reservation, MaxReservation}, {"key", r.Key, MaxKey}, {"etag", r.ETag, MaxETag}} {
		if len(f.v) > f.max {
			return fmt.Errorf("receipt: %s is %d bytes, at most %d", f.name, len(f.v), f.max)
		}
	}
	if r.ChainID == "" || r.Reservation == "" || r.Key == "" {
		return errors.New("receipt: chain id, reservation and key are required")
	}
	if !address.Valid(r.Provider) {
		return fmt.Errorf("receipt: provider %q is not an address", r.Provider)
	}
	if len(r.PubKey) != ed25519.PublicKeySize || len(r.Signature) != ed25519.SignatureSize {
		return fmt.Errorf("receipt: public key %d bytes and signature %d bytes, want %d and %d",
			len(r.PubKey), len(r.Signature), ed25519.PublicKeySize, ed25519.SignatureSize)
	}
	if r.Time <= 0 {
		return fmt.Errorf("receipt: time %d is not a unix time", r.Time)
	}
	switch r.Op {
	case OpPut:
		return r.validatePut()
	case OpDelete:
		if r.Size != 0 || len(r.ContentHash) != 0 || len(r.PartSizes) != 0 || r.ETag != "" {
			return errors.New("receipt: a delete receipt has no size, hash, parts or etag")
		}
		return nil
	}
	return fmt.Errorf("receipt: op %q, want %q or %q", r.Op, OpPut, OpDelete)
}

func (r *Receipt) validatePut() error {
	if r.Size < 0 {
		return fmt.Errorf("receipt: size %d is negative", r.Size)
	}
	if len(r.ContentHash) != HashSize {
		return fmt.Errorf("receipt: content hash is %d bytes, want %d", len(r.ContentHash), HashSize)
	}
	if len(r.PartSizes) == 0 {
		return nil
	}
	if len(r.PartSizes) > MaxParts {
		return fmt.Errorf("receipt: %d parts, at most %d", len(r.PartSizes), MaxParts)
	}
	var sum int64
	for i, s := range r.PartSizes {
		if s < 0 {
			return fmt.Errorf("receipt: part %d has negative size %d", i+1, s)
		}
		if sum > math.MaxInt64-s {
			return errors.New("receipt: part sizes overflow")
		}
		sum += s
	}
	if sum != r.Size {
		return fmt.Errorf("receipt: part sizes add up to %d, not the size %d", sum, r.Size)
	}
	return nil
}
