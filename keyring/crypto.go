package keyring

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/scrypt"
)

const (
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
)

// scryptCost is the cost of new encryptions. Each Keyring carries its own
// (tests lower it); the parameters actually used are recorded in every key
// file and armor block, so changing them never breaks existing keys.
type scryptCost struct{ N, R, P int }

var defaultScryptCost = scryptCost{N: defaultScryptN, R: defaultScryptR, P: defaultScryptP}

// newParams returns the kdf parameters for one new encryption, with a fresh
// random salt.
func (c scryptCost) newParams() (kdfParams, error) {
	p := kdfParams{N: c.N, R: c.R, P: c.P, KeyLen: keyLen, Salt: make([]byte, saltLen)}
	if _, err := rand.Read(p.Salt); err != nil {
		return kdfParams{}, fmt.Errorf("keyring: random salt: %w", err)
	}
	return p, nil
}

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

type passphraseKDF struct{ params kdfParams }

func (k passphraseKDF) derive(passphrase []byte) ([]byte, error) {
	p := k.params
	key, err := scrypt.Key(passphrase, p.Salt, p.N, p.R, p.P, p.KeyLen)
	if err != nil {
		return nil, fmt.Errorf("keyring: scrypt: %w", err)
	}
	return key, nil
}

// seal encrypts plaintext under a key derived from passphrase at the given
// cost with a fresh random salt.
func seal(cost scryptCost, passphrase, plaintext, ad []byte) (*cryptoSection, error) {
	p, err := cost.newParams()
	if err != nil {
		return nil, err
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

// wipe zeroes a buffer holding secret material (best effort).
func wipe(b []byte) {
	clear(b)
}
