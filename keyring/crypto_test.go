package keyring

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestEncryptedRoundTrip(t *testing.T) {
	kr := newKeyring(t)
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := kr.Import("imported", priv, pass)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if !k.Encrypted || !bytes.Equal(k.PubKey, priv.Public().(ed25519.PublicKey)) {
		t.Fatalf("Import returned %+v", k)
	}
	got, err := kr.PrivKey("imported", pass)
	if err != nil {
		t.Fatalf("PrivKey: %v", err)
	}
	if !bytes.Equal(got, priv) {
		t.Fatal("PrivKey returned a different key")
	}

	// The seed must not appear in clear in the file.
	data, err := os.ReadFile(filepath.Join(kr.Dir(), "imported.key"))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["seed"]; ok {
		t.Error("encrypted key file contains a clear seed")
	}
	c, _ := raw["crypto"].(map[string]any)
	if c["kdf"] != "scrypt" || c["cipher"] != "xchacha20-poly1305" {
		t.Errorf("crypto section = %v", c)
	}
	params, _ := c["kdf_params"].(map[string]any)
	for _, f := range []string{"n", "r", "p", "key_len", "salt"} {
		if _, ok := params[f]; !ok {
			t.Errorf("kdf_params lacks %q", f)
		}
	}

	// Added (random) keys round trip and sign too.
	a := mustAdd(t, kr, "added", pass2)
	ap, err := kr.PrivKey("added", pass2)
	if err != nil {
		t.Fatalf("PrivKey(added): %v", err)
	}
	msg := []byte("hello")
	if !ed25519.Verify(a.PubKey, msg, ed25519.Sign(ap, msg)) {
		t.Error("signature by stored key does not verify against its pubkey")
	}
}

func TestDefaultScryptParams(t *testing.T) {
	if defaultScryptN != 1<<15 || defaultScryptR != 8 || defaultScryptP != 1 {
		t.Fatalf("default scrypt params changed: N=%d r=%d p=%d", defaultScryptN, defaultScryptR, defaultScryptP)
	}
	if testing.Short() {
		t.Skip("slow with production scrypt parameters")
	}
	kr := newKeyring(t)
	kr.cost = defaultScryptCost
	mustAdd(t, kr, "prod", pass)
	if _, err := kr.PrivKey("prod", pass); err != nil {
		t.Fatalf("PrivKey: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(kr.Dir(), "prod.key"))
	if err != nil {
		t.Fatal(err)
	}
	var kf keyFile
	if err := json.Unmarshal(data, &kf); err != nil {
		t.Fatal(err)
	}
	if p := kf.Crypto.KDFParams; p.N != 1<<15 || p.R != 8 || p.P != 1 || p.KeyLen != 32 || len(p.Salt) != 16 {
		t.Errorf("recorded params = %+v", p)
	}
	if len(kf.Crypto.Nonce) != 24 {
		t.Errorf("nonce length = %d", len(kf.Crypto.Nonce))
	}
}

func TestWrongPassphrase(t *testing.T) {
	kr := newKeyring(t)
	mustAdd(t, kr, "k", pass)
	for _, p := range [][]byte{nil, {}, pass2, []byte("correct horse battery stapl")} {
		if _, err := kr.PrivKey("k", p); !errors.Is(err, ErrWrongPassphrase) {
			t.Errorf("PrivKey(%q): err = %v, want ErrWrongPassphrase", p, err)
		}
	}
	if _, err := kr.Export("k", pass2, pass); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("Export with wrong passphrase: err = %v", err)
	}
}

func TestUnencryptedDevKey(t *testing.T) {
	kr := newKeyring(t)
	k := mustAdd(t, kr, "dev", nil)
	if k.Encrypted {
		t.Fatal("key with nil passphrase is encrypted")
	}
	data, err := os.ReadFile(filepath.Join(kr.Dir(), "dev.key"))
	if err != nil {
		t.Fatal(err)
	}
	var kf keyFile
	if err := json.Unmarshal(data, &kf); err != nil {
		t.Fatal(err)
	}
	if kf.Encrypted || kf.Crypto != nil || len(kf.Seed) != ed25519.SeedSize {
		t.Fatalf("dev key file = %s", data)
	}
	// Any passphrase is ignored.
	for _, p := range [][]byte{nil, pass} {
		priv, err := kr.PrivKey("dev", p)
		if err != nil {
			t.Fatalf("PrivKey(%q): %v", p, err)
		}
		if !bytes.Equal(priv.Public().(ed25519.PublicKey), k.PubKey) || !bytes.Equal(priv.Seed(), kf.Seed) {
			t.Fatal("dev key does not match file")
		}
	}
}
