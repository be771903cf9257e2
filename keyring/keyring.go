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
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/scrypt"
	"golang.org/x/term"

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

// PassphraseEnv is the environment variable ReadPassphrase consults first.
const PassphraseEnv = "FLASHBACK_KEYRING_PASSPHRASE"

// Key is the public description of a stored key.
type Key struct {
	Name      string            `json:"name"`
	Address   string            `json:"address"`
	PubKey    ed25519.PublicKey `json:"pub_key"`
	Encrypted bool              `json:"encrypted"`
}

const (
	fileVersion   = 1
	fileExt       = ".key"
	maxNameLen    = 64
	kdfScrypt     = "scrypt"
	cipherXChaCha = "xchacha20-poly1305"
	saltLen       = 16
	keyLen        = 32

	defaultScryptN = 1 << 15
	defaultScryptR = 8
	defaultScryptP = 1

	// Limits on KDF parameters read from files or armor, so that a crafted
	// file cannot make us allocate unbounded memory or spin forever.
	maxScryptMem = 1 << 30 // 128*N*r bytes
	maxScryptP   = 16

	fileADPrefix  = "flashback-keyring-v1\x00"
	armorADPrefix = "flashback-armor-v1\x00"

	armorBegin = "-----BEGIN FLASHBACK PRIVATE KEY-----"
	armorEnd   = "-----END FLASHBACK PRIVATE KEY-----"
)

// scrypt parameters used for new encryptions. They are variables so that
// tests can lower the cost; the parameters actually used are recorded in every
// key file and armor block, so changing them never breaks existing keys.
var (
	scryptN = defaultScryptN
	scryptR = defaultScryptR
	scryptP = defaultScryptP
)

// kdfParams records how the encryption key was derived from the passphrase.
type kdfParams struct {
	N      int    `json:"n"`
	R      int    `json:"r"`
	P      int    `json:"p"`
	KeyLen int    `json:"key_len"`
	Salt   []byte `json:"salt"`
}

// cryptoSection holds the encrypted private key seed.
type cryptoSection struct {
	KDF        string    `json:"kdf"`
	KDFParams  kdfParams `json:"kdf_params"`
	Cipher     string    `json:"cipher"`
	Nonce      []byte    `json:"nonce"`
	Ciphertext []byte    `json:"ciphertext"`
}

// keyFile is the on-disk JSON document of one key.
type keyFile struct {
	Version   int            `json:"version"`
	Name      string         `json:"name"`
	Address   string         `json:"address"`
	PubKey    []byte         `json:"pub_key"`
	Encrypted bool           `json:"encrypted"`
	Seed      []byte         `json:"seed,omitempty"`   // unencrypted keys only
	Crypto    *cryptoSection `json:"crypto,omitempty"` // encrypted keys only
}

// Keyring is a directory of key files.
type Keyring struct {
	dir string
	mu  sync.Mutex // serialises writers within this process
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
	return &Keyring{dir: dir}, nil
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
		cs, err := seal(passphrase, seed, fileAD(name, pub))
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

// Export returns an ASCII-armored copy of the key, encrypted with exportPass
// (which must be non-empty). passphrase unlocks the stored key.
func (k *Keyring) Export(name string, passphrase, exportPass []byte) (string, error) {
	if len(exportPass) == 0 {
		return "", errors.New("keyring: export passphrase must not be empty")
	}
	priv, err := k.PrivKey(name, passphrase)
	if err != nil {
		return "", err
	}
	defer wipe(priv)
	seed := priv.Seed()
	defer wipe(seed)

	// All headers, including the salt, are authenticated as additional data,
	// so the salt is chosen before sealing.
	hdr := armorHeaders{
		kdf:    kdfScrypt,
		cipher: cipherXChaCha,
		params: kdfParams{N: scryptN, R: scryptR, P: scryptP, KeyLen: keyLen, Salt: make([]byte, saltLen)},
	}
	if _, err := rand.Read(hdr.params.Salt); err != nil {
		return "", fmt.Errorf("keyring: random salt: %w", err)
	}
	cs, err := sealWith(passphraseKDF{hdr.params}, exportPass, seed, hdr.ad())
	if err != nil {
		return "", err
	}
	body := append(slices.Clone(cs.Nonce), cs.Ciphertext...)

	var b strings.Builder
	b.WriteString(armorBegin + "\n")
	b.WriteString(hdr.encode())
	b.WriteString("\n")
	enc := base64.StdEncoding.EncodeToString(body)
	for len(enc) > 64 {
		b.WriteString(enc[:64] + "\n")
		enc = enc[64:]
	}
	b.WriteString(enc + "\n")
	b.WriteString(armorEnd + "\n")
	return b.String(), nil
}

// ImportArmor reads a block produced by Export, decrypts it with exportPass
// and stores the key under name, encrypted with storePass (or unencrypted if
// storePass is empty).
func (k *Keyring) ImportArmor(name, armor string, exportPass, storePass []byte) (Key, error) {
	if err := ValidateName(name); err != nil {
		return Key{}, err
	}
	hdr, body, err := parseArmor(armor)
	if err != nil {
		return Key{}, err
	}
	nonceLen := chacha20poly1305.NonceSizeX
	wantLen := nonceLen + ed25519.SeedSize + chacha20poly1305.Overhead
	if len(body) != wantLen {
		return Key{}, fmt.Errorf("keyring: armor: body is %d bytes, want %d", len(body), wantLen)
	}
	cs := &cryptoSection{
		KDF:        hdr.kdf,
		KDFParams:  hdr.params,
		Cipher:     hdr.cipher,
		Nonce:      body[:nonceLen],
		Ciphertext: body[nonceLen:],
	}
	seed, err := open(cs, exportPass, hdr.ad())
	if err != nil {
		return Key{}, fmt.Errorf("armor: %w", err)
	}
	defer wipe(seed)
	priv := ed25519.NewKeyFromSeed(seed)
	defer wipe(priv)
	return k.Import(name, priv, storePass)
}

// ---------------------------------------------------------------------------
// Loading and validating key files.

func (kf *keyFile) public() Key {
	return Key{
		Name:      kf.Name,
		Address:   kf.Address,
		PubKey:    ed25519.PublicKey(slices.Clone(kf.PubKey)),
		Encrypted: kf.Encrypted,
	}
}

// maxKeyFileSize bounds how much of a key file is read.
const maxKeyFileSize = 64 << 10

func (k *Keyring) load(name string) (*keyFile, error) {
	p := k.path(name)
	f, err := os.Open(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
		}
		return nil, fmt.Errorf("keyring: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("keyring: read %s: %w", p, err)
	}
	defer wipe(data)
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("keyring: key file %s is corrupt: larger than %d bytes", p, maxKeyFileSize)
	}
	var kf keyFile
	if err := json.Unmarshal(data, &kf); err != nil {
		return nil, fmt.Errorf("keyring: key file %s is corrupt: %w", p, err)
	}
	if err := kf.validate(name); err != nil {
		wipe(kf.Seed)
		return nil, fmt.Errorf("keyring: key file %s is corrupt: %w", p, err)
	}
	return &kf, nil
}

func (kf *keyFile) validate(name string) error {
	if kf.Version != fileVersion {
		return fmt.Errorf("unsupported version %d (want %d)", kf.Version, fileVersion)
	}
	if kf.Name != name {
		return fmt.Errorf("file records name %q, want %q", kf.Name, name)
	}
	if len(kf.PubKey) != ed25519.PublicKeySize {
		return fmt.Errorf("public key is %d bytes, want %d", len(kf.PubKey), ed25519.PublicKeySize)
	}
	if want := address.FromPubKey(kf.PubKey); kf.Address != want {
		return fmt.Errorf("address %q does not match public key (want %q)", kf.Address, want)
	}
	if kf.Encrypted {
		if kf.Crypto == nil {
			return errors.New(`"encrypted" is true but "crypto" is missing`)
		}
		if len(kf.Seed) != 0 {
			return errors.New(`"encrypted" is true but a clear seed is present`)
		}
		return kf.Crypto.validate()
	}
	if kf.Crypto != nil {
		return errors.New(`"encrypted" is false but "crypto" is present`)
	}
	if len(kf.Seed) != ed25519.SeedSize {
		return fmt.Errorf("seed is %d bytes, want %d", len(kf.Seed), ed25519.SeedSize)
	}
	return nil
}

func (cs *cryptoSection) validate() error {
	if cs.KDF != kdfScrypt {
		return fmt.Errorf("unsupported kdf %q", cs.KDF)
	}
	if err := cs.KDFParams.validate(); err != nil {
		return err
	}
	if cs.Cipher != cipherXChaCha {
		return fmt.Errorf("unsupported cipher %q", cs.Cipher)
	}
	if len(cs.Nonce) != chacha20poly1305.NonceSizeX {
		return fmt.Errorf("nonce is %d bytes, want %d", len(cs.Nonce), chacha20poly1305.NonceSizeX)
	}
	if len(cs.Ciphertext) != ed25519.SeedSize+chacha20poly1305.Overhead {
		return fmt.Errorf("ciphertext is %d bytes, want %d", len(cs.Ciphertext), ed25519.SeedSize+chacha20poly1305.Overhead)
	}
	return nil
}

func (p *kdfParams) validate() error {
	if p.N < 2 || p.N&(p.N-1) != 0 {
		return fmt.Errorf("scrypt N=%d is not a power of two greater than 1", p.N)
	}
	if p.R < 1 || p.P < 1 || p.P > maxScryptP {
		return fmt.Errorf("scrypt r=%d p=%d out of range", p.R, p.P)
	}
	if uint64(p.N)*uint64(p.R) > maxScryptMem/128 {
		return fmt.Errorf("scrypt N=%d r=%d needs more than %d bytes of memory", p.N, p.R, maxScryptMem)
	}
	if p.KeyLen != keyLen {
		return fmt.Errorf("scrypt key length %d, want %d", p.KeyLen, keyLen)
	}
	if len(p.Salt) < saltLen {
		return fmt.Errorf("salt is %d bytes, want at least %d", len(p.Salt), saltLen)
	}
	return nil
}

// ---------------------------------------------------------------------------
// Encryption.

// fileAD is the additional data authenticated with a key file's ciphertext.
func fileAD(name string, pub []byte) []byte {
	ad := make([]byte, 0, len(fileADPrefix)+len(name)+1+len(pub))
	ad = append(ad, fileADPrefix...)
	ad = append(ad, name...)
	ad = append(ad, 0)
	return append(ad, pub...)
}

type passphraseKDF struct{ params kdfParams }

func (k passphraseKDF) derive(passphrase []byte) ([]byte, error) {
	p := k.params
	key, err := scrypt.Key(passphrase, p.Salt, p.N, p.R, p.P, p.KeyLen)
	if err != nil {
		return nil, fmt.Errorf("keyring: scrypt: %w", err)
	}
	return key, nil
}

// seal encrypts plaintext under a key derived from passphrase with the
// current scrypt parameters and a fresh random salt.
func seal(passphrase, plaintext, ad []byte) (*cryptoSection, error) {
	p := kdfParams{N: scryptN, R: scryptR, P: scryptP, KeyLen: keyLen, Salt: make([]byte, saltLen)}
	if _, err := rand.Read(p.Salt); err != nil {
		return nil, fmt.Errorf("keyring: random salt: %w", err)
	}
	return sealWith(passphraseKDF{p}, passphrase, plaintext, ad)
}

func sealWith(kdf passphraseKDF, passphrase, plaintext, ad []byte) (*cryptoSection, error) {
	if len(passphrase) == 0 {
		return nil, errors.New("keyring: empty passphrase")
	}
	key, err := kdf.derive(passphrase)
	if err != nil {
		return nil, err
	}
	defer wipe(key)
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("keyring: cipher: %w", err)
	}
	nonce := make([]byte, chacha20poly1305.NonceSizeX)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("keyring: random nonce: %w", err)
	}
	return &cryptoSection{
		KDF:        kdfScrypt,
		KDFParams:  kdf.params,
		Cipher:     cipherXChaCha,
		Nonce:      nonce,
		Ciphertext: aead.Seal(nil, nonce, plaintext, ad),
	}, nil
}

// open decrypts cs. Authentication failure yields ErrWrongPassphrase.
func open(cs *cryptoSection, passphrase, ad []byte) ([]byte, error) {
	if err := cs.validate(); err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	key, err := passphraseKDF{cs.KDFParams}.derive(passphrase)
	if err != nil {
		return nil, err
	}
	defer wipe(key)
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("keyring: cipher: %w", err)
	}
	pt, err := aead.Open(nil, cs.Nonce, cs.Ciphertext, ad)
	if err != nil {
		return nil, fmt.Errorf("%w (or the key data has been tampered with)", ErrWrongPassphrase)
	}
	return pt, nil
}

// ---------------------------------------------------------------------------
// Armor.

type armorHeaders struct {
	kdf    string
	cipher string
	params kdfParams
}

// encode writes the header lines, in a fixed order.
func (h armorHeaders) encode() string {
	return fmt.Sprintf("kdf: %s\nn: %d\nr: %d\np: %d\nsalt: %s\ncipher: %s\n",
		h.kdf, h.params.N, h.params.R, h.params.P, hex.EncodeToString(h.params.Salt), h.cipher)
}

// ad is the additional data authenticated with an armor body: all headers,
// so that none of them can be altered without detection.
func (h armorHeaders) ad() []byte {
	return []byte(armorADPrefix + h.encode())
}

// maxArmorSize bounds the size of armor input.
const maxArmorSize = 16 << 10

func parseArmor(armor string) (armorHeaders, []byte, error) {
	var h armorHeaders
	bad := func(format string, args ...any) (armorHeaders, []byte, error) {
		return armorHeaders{}, nil, fmt.Errorf("keyring: invalid armor: "+format, args...)
	}
	if len(armor) > maxArmorSize {
		return bad("longer than %d bytes", maxArmorSize)
	}
	lines := strings.Split(strings.ReplaceAll(strings.TrimSpace(armor), "\r\n", "\n"), "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	if len(lines) < 3 || lines[0] != armorBegin {
		return bad("missing %q line", armorBegin)
	}
	if lines[len(lines)-1] != armorEnd {
		return bad("missing %q line", armorEnd)
	}
	lines = lines[1 : len(lines)-1]

	seen := map[string]bool{}
	i := 0
	for ; i < len(lines) && lines[i] != ""; i++ {
		key, val, ok := strings.Cut(lines[i], ":")
		if !ok {
			return bad("header line %q has no ':'", lines[i])
		}
		key = strings.ToLower(strings.TrimSpace(key))
		val = strings.TrimSpace(val)
		if seen[key] {
			return bad("duplicate header %q", key)
		}
		seen[key] = true
		var err error
		switch key {
		case "kdf":
			h.kdf = val
		case "cipher":
			h.cipher = val
		case "salt":
			h.params.Salt, err = hex.DecodeString(val)
		case "n":
			h.params.N, err = strconv.Atoi(val)
		case "r":
			h.params.R, err = strconv.Atoi(val)
		case "p":
			h.params.P, err = strconv.Atoi(val)
		default:
			return bad("unknown header %q", key)
		}
		if err != nil {
			return bad("header %q: %v", key, err)
		}
	}
	for _, want := range []string{"kdf", "n", "r", "p", "salt", "cipher"} {
		if !seen[want] {
			return bad("missing header %q", want)
		}
	}
	if h.kdf != kdfScrypt {
		return bad("unsupported kdf %q", h.kdf)
	}
	if h.cipher != cipherXChaCha {
		return bad("unsupported cipher %q", h.cipher)
	}
	h.params.KeyLen = keyLen
	if err := h.params.validate(); err != nil {
		return bad("%v", err)
	}
	if i >= len(lines) {
		return bad("missing blank line and body after headers")
	}
	bodyText := strings.Join(lines[i+1:], "")
	if bodyText == "" {
		return bad("empty body")
	}
	body, err := base64.StdEncoding.DecodeString(bodyText)
	if err != nil {
		return bad("body: %v", err)
	}
	return h, body, nil
}

// ---------------------------------------------------------------------------
// Files.

// writeNew atomically creates path with data and mode 0600: it writes and
// fsyncs a temporary file in dir, then links it into place, failing with an
// error matching fs.ErrExist if path already exists.
func writeNew(dir, path string, data []byte) (err error) {
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	defer func() {
		if tmp != nil {
			tmp.Close()
		}
		os.Remove(tmpName)
	}()
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		tmp = nil
		return err
	}
	tmp = nil

	// A hard link never replaces an existing file, which makes the
	// existence check atomic across processes. Fall back to check-then-rename
	// on file systems without hard links.
	if lerr := os.Link(tmpName, path); lerr != nil {
		if errors.Is(lerr, fs.ErrExist) {
			return lerr
		}
		if _, serr := os.Lstat(path); serr == nil {
			return &fs.PathError{Op: "create", Path: path, Err: fs.ErrExist}
		} else if !errors.Is(serr, fs.ErrNotExist) {
			return serr
		}
		if err := os.Rename(tmpName, path); err != nil {
			return err
		}
	}
	syncDir(dir)
	return nil
}

// syncDir fsyncs a directory so that a rename or link in it is durable. It
// is best effort: not every platform supports syncing directories.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// wipe zeroes a buffer holding secret material (best effort).
func wipe(b []byte) {
	clear(b)
}

// ---------------------------------------------------------------------------
// Passphrase input.

var (
	stdinMu     sync.Mutex
	stdinFile   *os.File
	stdinReader *bufio.Reader
)

// ReadPassphrase obtains a passphrase for the CLI. If the environment
// variable FLASHBACK_KEYRING_PASSPHRASE is set, its value is returned (it may
// be empty, meaning no encryption). Otherwise, if stdin is a terminal, prompt
// is written to stderr and the passphrase is read without echo; with confirm
// it is asked for twice and must match. Otherwise one line is read from stdin
// (confirm is ignored); successive calls read successive lines.
func ReadPassphrase(prompt string, confirm bool) ([]byte, error) {
	if v, ok := os.LookupEnv(PassphraseEnv); ok {
		return []byte(v), nil
	}
	stdinMu.Lock()
	defer stdinMu.Unlock()
	in := os.Stdin
	if fd := int(in.Fd()); term.IsTerminal(fd) {
		return readTerminal(fd, prompt, confirm)
	}
	if stdinFile != in || stdinReader == nil {
		stdinFile, stdinReader = in, bufio.NewReader(in)
	}
	return readLine(stdinReader)
}

func readTerminal(fd int, prompt string, confirm bool) ([]byte, error) {
	fmt.Fprint(os.Stderr, prompt)
	pass, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return nil, fmt.Errorf("keyring: read passphrase: %w", err)
	}
	if !confirm {
		return pass, nil
	}
	fmt.Fprint(os.Stderr, "Repeat passphrase: ")
	again, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	defer wipe(again)
	if err != nil {
		wipe(pass)
		return nil, fmt.Errorf("keyring: read passphrase: %w", err)
	}
	if !bytes.Equal(pass, again) {
		wipe(pass)
		return nil, errors.New("keyring: passphrases do not match")
	}
	return pass, nil
}

// readLine reads one line, without its line ending. A final line without a
// newline is accepted; end of input with nothing read is an error.
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadBytes('\n')
	if err != nil && !(errors.Is(err, io.EOF) && len(line) > 0) {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("keyring: read passphrase: no input on stdin")
		}
		return nil, fmt.Errorf("keyring: read passphrase: %w", err)
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	return line, nil
}
