package objcrypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// KeySize is the size of master and object keys (AES-256).
const KeySize = 32

// MinSecretSize is the shortest owner secret DeriveMasterKey accepts.
const MinSecretSize = 16

// MasterKey is a repository's master key. It never leaves the consumer's
// side (the gateway runs there).
type MasterKey [KeySize]byte

const (
	masterSalt = "flashback/objcrypt/v1/master"
	objectInfo = "flashback/objcrypt/v1/object"
)

// DeriveMasterKey derives the master key of repository repo of owner from
// the owner's secret. The same inputs always give the same key; a different
// owner or repository name gives an unrelated key.
func DeriveMasterKey(ownerSecret []byte, owner, repo string) (MasterKey, error) {
	var mk MasterKey
	if len(ownerSecret) < MinSecretSize {
		return mk, fmt.Errorf("objcrypt: owner secret is %d bytes, need at least %d", len(ownerSecret), MinSecretSize)
	}
	if owner == "" || repo == "" {
		return mk, errors.New("objcrypt: owner and repository name must not be empty")
	}
	// Length-prefixed so that ("ab","c") and ("a","bc") differ.
	info := appendLP(appendLP(nil, owner), repo)
	k, err := hkdf.Key(sha256.New, ownerSecret, []byte(masterSalt), string(info), KeySize)
	if err != nil {
		return mk, fmt.Errorf("objcrypt: derive master key: %w", err)
	}
	copy(mk[:], k)
	return mk, nil
}

func appendLP(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// objectKey derives the key of one object from the master key and the
// object's header (whose salt is random per object).
func objectKey(mk MasterKey, h Header) ([]byte, error) {
	hb := h.Marshal()
	return hkdf.Key(sha256.New, mk[:], h.Salt[:], objectInfo+string(hb[:saltOff]), KeySize)
}

func newAEAD(mk MasterKey, h Header) (cipher.AEAD, error) {
	k, err := objectKey(mk, h)
	if err != nil {
		return nil, fmt.Errorf("objcrypt: derive object key: %w", err)
	}
	blk, err := aes.NewCipher(k)
	if err != nil {
		return nil, fmt.Errorf("objcrypt: %w", err)
	}
	return cipher.NewGCM(blk)
}

// nonce is the GCM nonce of chunk i: unique per key because a key seals
// one object only and i is unique within it.
func nonce(dst *[12]byte, i int64) []byte {
	clear(dst[:4])
	binary.BigEndian.PutUint64(dst[4:], uint64(i))
	return dst[:]
}

// aad is the additional data of chunk i of object name.
func aad(dst []byte, name string, i int64, final bool) []byte {
	dst = append(dst[:0], magic...)
	dst = append(dst, Version)
	dst = binary.BigEndian.AppendUint64(dst, uint64(i))
	f := byte(0)
	if final {
		f = 1
	}
	dst = append(dst, f)
	return append(dst, name...)
}
