package keyring

// Recovery phrases. A key made by AddMnemonic comes with a BIP-39 phrase
// of 24 words (256 bits of entropy); the same phrase always gives the same
// key. The ed25519 key is derived from the BIP-39 seed (empty BIP-39
// passphrase) with SLIP-10 along the hardened path m/44'/118'/0'/0'/0'
// (ed25519 allows only hardened steps; 118 is the Cosmos coin type, which
// Flashback's fb1 addresses follow in spirit, not in curve).

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/tyler-smith/go-bip39"
	"golang.org/x/term"
)

// DerivationPath is the SLIP-10 path of a key derived from a phrase.
var DerivationPath = []uint32{44, 118, 0, 0, 0}

// NewMnemonic returns a fresh 24-word BIP-39 recovery phrase.
func NewMnemonic() (string, error) {
	entropy, err := bip39.NewEntropy(256)
	if err != nil {
		return "", fmt.Errorf("keyring: entropy: %w", err)
	}
	defer wipe(entropy)
	return bip39.NewMnemonic(entropy)
}

// KeyFromMnemonic derives the ed25519 key of a BIP-39 phrase. Words may be
// separated by any whitespace and in any case; the checksum must hold.
func KeyFromMnemonic(mnemonic string) (ed25519.PrivateKey, error) {
	words := strings.Fields(strings.ToLower(mnemonic))
	if n := len(words); n != 12 && n != 15 && n != 18 && n != 21 && n != 24 {
		return nil, fmt.Errorf("keyring: a recovery phrase has 12, 15, 18, 21 or 24 words, not %d", n)
	}
	seed, err := bip39.NewSeedWithErrorChecking(strings.Join(words, " "), "")
	if err != nil {
		return nil, fmt.Errorf("keyring: invalid recovery phrase (a misspelt word or the words out of order): %w", err)
	}
	defer wipe(seed)
	key := slip10Ed25519(seed, DerivationPath)
	defer wipe(key)
	return ed25519.NewKeyFromSeed(key), nil
}

// slip10Ed25519 derives the 32-byte ed25519 seed at path (every step
// hardened) from a BIP-39 seed, as SLIP-0010 specifies.
func slip10Ed25519(seed []byte, path []uint32) []byte {
	mac := hmac.New(sha512.New, []byte("ed25519 seed"))
	mac.Write(seed)
	i := mac.Sum(nil)
	key, chain := i[:32], i[32:]
	for _, idx := range path {
		data := make([]byte, 0, 37)
		data = append(data, 0)
		data = append(data, key...)
		data = binary.BigEndian.AppendUint32(data, idx|0x80000000)
		mac := hmac.New(sha512.New, chain)
		mac.Write(data)
		wipe(data)
		next := mac.Sum(nil)
		wipe(i)
		i = next
		key, chain = i[:32], i[32:]
	}
	out := append([]byte(nil), key...)
	wipe(i)
	return out
}

// AddMnemonic creates a key under name from a new recovery phrase and
// returns the phrase (shown to the user once, never stored).
func (k *Keyring) AddMnemonic(name string, passphrase []byte) (Key, string, error) {
	if err := ValidateName(name); err != nil {
		return Key{}, "", err
	}
	m, err := NewMnemonic()
	if err != nil {
		return Key{}, "", err
	}
	key, err := k.Recover(name, m, passphrase)
	return key, m, err
}

// Recover stores under name the key of a recovery phrase.
func (k *Keyring) Recover(name, mnemonic string, passphrase []byte) (Key, error) {
	if err := ValidateName(name); err != nil {
		return Key{}, err
	}
	priv, err := KeyFromMnemonic(mnemonic)
	if err != nil {
		return Key{}, err
	}
	defer wipe(priv)
	return k.store(name, priv, passphrase)
}

// ReadMnemonic reads a recovery phrase: from the terminal without echo
// (after prompt on stderr), else one line of stdin, sharing the reader
// ReadPassphrase uses so a passphrase can follow on the next line.
func ReadMnemonic(prompt string) (string, error) {
	stdinMu.Lock()
	defer stdinMu.Unlock()
	in := os.Stdin
	if fd := int(in.Fd()); term.IsTerminal(fd) {
		b, err := readTerminal(fd, prompt, false)
		return string(b), err
	}
	if stdinFile != in || stdinReader == nil {
		stdinFile, stdinReader = in, newStdinReader(in)
	}
	b, err := readLine(stdinReader)
	if err != nil {
		return "", errors.New("keyring: read recovery phrase: no input on stdin")
	}
	return string(b), nil
}
