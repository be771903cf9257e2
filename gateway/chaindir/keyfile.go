package chaindir

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/flashback-network/flashback/sealed"
)

// KeyFile is the gateway's X25519 key pair on disk: the same JSON as a
// bridge's key.json (bridge/daemon.KeyFile), mode 0600. Repositories seal
// their secrets to the public half (`flashback repo create --gateway-key`).
type KeyFile struct {
	PublicKey  []byte `json:"public_key"`
	PrivateKey []byte `json:"private_key"`
}

// LoadKey reads a gateway key file.
func LoadKey(path string) (pub, priv *[sealed.KeySize]byte, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("gateway key: %w", err)
	}
	var kf KeyFile
	if err := json.Unmarshal(b, &kf); err != nil || len(kf.PublicKey) != sealed.KeySize || len(kf.PrivateKey) != sealed.KeySize {
		return nil, nil, fmt.Errorf("gateway key %s: not a key file (JSON with a 32-byte public_key and private_key; create one with `flashback gateway init`)", path)
	}
	pub, priv = new([sealed.KeySize]byte), new([sealed.KeySize]byte)
	copy(pub[:], kf.PublicKey)
	copy(priv[:], kf.PrivateKey)
	return pub, priv, nil
}

// LoadOrCreateKey reads the key file at path, creating it (and its
// directory) with a new key pair if it does not exist; created reports
// which.
func LoadOrCreateKey(path string) (pub, priv *[sealed.KeySize]byte, created bool, err error) {
	if _, err := os.Stat(path); err == nil {
		pub, priv, err := LoadKey(path)
		return pub, priv, false, err
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, false, fmt.Errorf("gateway key: %w", err)
	}
	if pub, priv, err = sealed.GenerateKey(); err != nil {
		return nil, nil, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, nil, false, fmt.Errorf("gateway key: %w", err)
	}
	data, _ := json.MarshalIndent(KeyFile{PublicKey: pub[:], PrivateKey: priv[:]}, "", "  ")
	// O_EXCL: two processes creating the key at once do not overwrite
	// each other's (the loser fails instead of serving another key).
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, nil, false, fmt.Errorf("gateway key: %w", err)
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		os.Remove(path)
		return nil, nil, false, fmt.Errorf("gateway key: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return nil, nil, false, fmt.Errorf("gateway key: %w", err)
	}
	return pub, priv, true, nil
}

// PublicKeyBase64 is the public key as `repo create --gateway-key` takes it.
func PublicKeyBase64(pub *[sealed.KeySize]byte) string {
	return base64.StdEncoding.EncodeToString(pub[:])
}
