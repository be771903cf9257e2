package sealed

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealOpen(t *testing.T) {
	pub, priv, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	c, err := Seal(secret, pub[:])
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(c, secret) || len(c) != len(secret)+Overhead {
		t.Fatalf("ciphertext %x leaks or has the wrong size", c)
	}
	got, err := Open(c, pub, priv)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("open: %q %v", got, err)
	}
	// Another bridge cannot open it; a flipped byte is detected.
	pub2, priv2, _ := GenerateKey()
	if _, err := Open(c, pub2, priv2); !errors.Is(err, ErrOpen) {
		t.Fatalf("other key opened it: %v", err)
	}
	c[len(c)-1] ^= 1
	if _, err := Open(c, pub, priv); !errors.Is(err, ErrOpen) {
		t.Fatalf("tampered ciphertext opened: %v", err)
	}
	if _, err := Seal(secret, []byte{1, 2}); err == nil {
		t.Fatal("short public key accepted")
	}
}
