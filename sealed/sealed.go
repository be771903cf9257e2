// Package sealed seals S3 secrets to a bridge's X25519 public key, so the
// chain carries only ciphertext that the bridge alone can open. It is an
// anonymous NaCl box (X25519 + XSalsa20-Poly1305 with an ephemeral key).
package sealed

import (
	"crypto/rand"
	"errors"
	"fmt"

	"golang.org/x/crypto/nacl/box"
)

// KeySize is the size of X25519 public and private keys.
const KeySize = 32

// Overhead is how much longer a sealed message is than its plaintext.
const Overhead = box.AnonymousOverhead

// GenerateKey makes a bridge key pair.
func GenerateKey() (pub, priv *[KeySize]byte, err error) {
	return box.GenerateKey(rand.Reader)
}

// Seal encrypts msg to the bridge public key.
func Seal(msg []byte, bridgePub []byte) ([]byte, error) {
	if len(bridgePub) != KeySize {
		return nil, fmt.Errorf("bridge public key is %d bytes, want %d", len(bridgePub), KeySize)
	}
	var pk [KeySize]byte
	copy(pk[:], bridgePub)
	return box.SealAnonymous(nil, msg, &pk, rand.Reader)
}

// ErrOpen means the ciphertext was not sealed to this key or was altered.
var ErrOpen = errors.New("sealed: cannot open (wrong key or tampered)")

// Open decrypts a sealed message with the bridge key pair.
func Open(ciphertext []byte, pub, priv *[KeySize]byte) ([]byte, error) {
	out, ok := box.OpenAnonymous(nil, ciphertext, pub, priv)
	if !ok {
		return nil, ErrOpen
	}
	return out, nil
}
