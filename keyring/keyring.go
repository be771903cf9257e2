// Package keyring is an on-disk store of ed25519 account keys for the
// flashback CLI.
//
// Every key lives in its own file DIR/NAME.key, a JSON document written
// atomically with mode 0600. The public part (name, address, public key) is
// stored in clear so that keys can be listed and shown without a passphrase.
// The private key seed is either encrypted at rest (scrypt key derivation and
// XChaCha20-Poly1305) or, for development keyrings created with an empty
// passphrase, stored in clear with "encrypted": false.
//
// The name and public key are authenticated as additional data of the
// encryption, so a key file cannot be edited to pair one key's ciphertext with
// another key's public part or name.
package keyring

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/flashback-network/flashback/address"
)

var (
	// ErrNotFound is returned when a key name does not exist in the keyring.
	ErrNotFound = errors.New("keyring: key not found")
	// ErrExists is returned when a key name is already taken.
	ErrExists = errors.New("keyring: key already exists")
	// ErrWrongPassphrase is returned when decryption fails. The AEAD cannot
	// tell a wrong passphrase from a tampered ciphertext, so both yield it.
	ErrWrongPassphrase = errors.New("keyring: wrong passphrase")
	// ErrInvalidName is returned for key names that are not allowed.
	ErrInvalidName = errors.New("keyring: invalid key name")
)

// Key is the public description of a stored key.
type Key struct {
	Name      string            `json:"name"`
	Address   string            `json:"address"`
	PubKey    ed25519.PublicKey `json:"pub_key"`
	Encrypted bool              `json:"encrypted"`
}

const maxNameLen = 64

// Keyring is a directory of key files.
type Keyring struct {
	dir  string
	cost scryptCost // of new encryptions
	mu   sync.Mutex // serialises writers within this process
}

// Open returns the keyring stored in dir, creating the directory with mode
// 0700 if it does not exist.
func Open(dir string) (*Keyring, error) {
	if dir == "" {
		return nil, errors.New("keyring: empty directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("keyring: create %s: %w", dir, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("keyring: %s is not a directory", dir)
	}
	return &Keyring{dir: dir, cost: defaultScryptCost}, nil
}

// Dir returns the keyring directory.
func (k *Keyring) Dir() string { return k.dir }

// ValidateName reports whether name may be used as a key name: 1 to 64
// characters of [A-Za-z0-9_.-], not starting with '.'.
func ValidateName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: name is empty", ErrInvalidName)
	}
	if len(name) > maxNameLen {
		return fmt.Errorf("%w: %q is longer than %d characters", ErrInvalidName, name, maxNameLen)
	}
	if name[0] == '.' {
		return fmt.Errorf("%w: %q starts with '.'", ErrInvalidName, name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '_', c == '.', c == '-':
		default:
			return fmt.Errorf("%w: %q contains %q; use only letters, digits, '_', '.' and '-'",
				ErrInvalidName, name, rune(c))
		}
	}
	return nil
}

func (k *Keyring) path(name string) string {
	return filepath.Join(k.dir, name+fileExt)
}

// Add creates a new random key under name. With a nil or empty passphrase
// the key is stored unencrypted (development keyrings only).
func (k *Keyring) Add(name string, passphrase []byte) (Key, error) {
	if err := ValidateName(name); err != nil {
		return Key{}, err
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return Key{}, fmt.Errorf("keyring: generate key: %w", err)
	}
	defer wipe(priv)
	return k.store(name, priv, passphrase)
}

// Import stores an existing private key under name, encrypted with
// passphrase (or unencrypted if the passphrase is empty).
func (k *Keyring) Import(name string, priv ed25519.PrivateKey, passphrase []byte) (Key, error) {
	if err := ValidateName(name); err != nil {
		return Key{}, err
	}
	if len(priv) != ed25519.PrivateKeySize {
		return Key{}, fmt.Errorf("keyring: private key is %d bytes, want %d", len(priv), ed25519.PrivateKeySize)
	}
	// Reject keys whose embedded public half does not belong to the seed.
	check := ed25519.NewKeyFromSeed(priv.Seed())
	defer wipe(check)
	if subtle.ConstantTimeCompare(check, priv) != 1 {
		return Key{}, errors.New("keyring: private key is inconsistent (public half does not match seed)")
	}
	return k.store(name, priv, passphrase)
}

// store encrypts (or not) priv and writes it to a new key file.
func (k *Keyring) store(name string, priv ed25519.PrivateKey, passphrase []byte) (Key, error) {
	pub := priv.Public().(ed25519.PublicKey)
	kf := keyFile{
		Version:   fileVersion,
		Name:      name,
		Address:   address.FromPubKey(pub),
		PubKey:    []byte(pub),
		Encrypted: len(passphrase) > 0,
	}
	seed := priv.Seed()
	defer wipe(seed)
	if kf.Encrypted {
		cs, err := seal(k.cost, passphrase, seed, fileAD(name, pub))
		if err != nil {
			return Key{}, err
		}
		kf.Crypto = cs
	} else {
		kf.Seed = seed
	}
	data, err := json.MarshalIndent(&kf, "", "  ")
	if err != nil {
		return Key{}, fmt.Errorf("keyring: encode key %q: %w", name, err)
	}
	data = append(data, '\n')
	defer wipe(data)

	k.mu.Lock()
	defer k.mu.Unlock()
	if err := writeNew(k.dir, k.path(name), data); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return Key{}, fmt.Errorf("%w: %q", ErrExists, name)
		}
		return Key{}, fmt.Errorf("keyring: write key %q: %w", name, err)
	}
	return kf.public(), nil
}

// List returns all keys, sorted by name.
func (k *Keyring) List() ([]Key, error) {
	entries, err := os.ReadDir(k.dir)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	keys := []Key{}
	for _, e := range entries {
		n := e.Name()
		if !e.Type().IsRegular() || !strings.HasSuffix(n, fileExt) {
			continue
		}
		name := strings.TrimSuffix(n, fileExt)
		if ValidateName(name) != nil {
			continue // temp files and foreign files
		}
		kf, err := k.load(name)
		if errors.Is(err, ErrNotFound) {
			continue // deleted concurrently
		}
		if err != nil {
			return nil, err
		}
		keys = append(keys, kf.public())
	}
	slices.SortFunc(keys, func(a, b Key) int { return strings.Compare(a.Name, b.Name) })
	return keys, nil
}

// Show returns the public part of a key; no passphrase is needed.
func (k *Keyring) Show(name string) (Key, error) {
	if err := ValidateName(name); err != nil {
		return Key{}, err
	}
	kf, err := k.load(name)
	if err != nil {
		return Key{}, err
	}
	return kf.public(), nil
}

// PrivKey returns the private key stored under name. The passphrase is
// ignored for unencrypted keys. The decrypted key is checked against the
// stored public key.
func (k *Keyring) PrivKey(name string, passphrase []byte) (ed25519.PrivateKey, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	kf, err := k.load(name)
	if err != nil {
		return nil, err
	}
	var seed []byte
	if kf.Encrypted {
		seed, err = open(kf.Crypto, passphrase, fileAD(kf.Name, kf.PubKey))
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", name, err)
		}
	} else {
		seed = slices.Clone(kf.Seed)
	}
	defer wipe(seed)
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("keyring: key file %s: private key seed is %d bytes, want %d",
			k.path(name), len(seed), ed25519.SeedSize)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	if subtle.ConstantTimeCompare(priv.Public().(ed25519.PublicKey), kf.PubKey) != 1 {
		wipe(priv)
		return nil, fmt.Errorf("keyring: key file %s is corrupt: private key does not match public key", k.path(name))
	}
	return priv, nil
}

// Delete removes a key.
func (k *Keyring) Delete(name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := os.Remove(k.path(name)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: %q", ErrNotFound, name)
		}
		return fmt.Errorf("keyring: delete key %q: %w", name, err)
	}
	syncDir(k.dir)
	return nil
}
