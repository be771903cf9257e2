package keyring

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"
)

const (
	armorADPrefix = "flashback-armor-v1\x00"

	armorBegin = "-----BEGIN FLASHBACK PRIVATE KEY-----"
	armorEnd   = "-----END FLASHBACK PRIVATE KEY-----"
)

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
	params, err := k.cost.newParams()
	if err != nil {
		return "", err
	}
	hdr := armorHeaders{kdf: kdfScrypt, cipher: cipherXChaCha, params: params}
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

// errInvalidArmor builds the error for malformed armor input.
func errInvalidArmor(format string, args ...any) error {
	return fmt.Errorf("keyring: invalid armor: "+format, args...)
}

// parseArmor splits an armor block into its authenticated headers and its
// decoded body (nonce followed by ciphertext).
func parseArmor(armor string) (armorHeaders, []byte, error) {
	if len(armor) > maxArmorSize {
		return armorHeaders{}, nil, errInvalidArmor("longer than %d bytes", maxArmorSize)
	}
	lines, err := armorInnerLines(armor)
	if err != nil {
		return armorHeaders{}, nil, err
	}
	h, n, err := parseArmorHeaders(lines)
	if err != nil {
		return armorHeaders{}, nil, err
	}
	if n >= len(lines) {
		return armorHeaders{}, nil, errInvalidArmor("missing blank line and body after headers")
	}
	body, err := decodeArmorBody(lines[n+1:])
	if err != nil {
		return armorHeaders{}, nil, err
	}
	return h, body, nil
}

// armorInnerLines returns the trimmed lines between the BEGIN and END lines.
func armorInnerLines(armor string) ([]string, error) {
	lines := strings.Split(strings.ReplaceAll(strings.TrimSpace(armor), "\r\n", "\n"), "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	if len(lines) < 3 || lines[0] != armorBegin {
		return nil, errInvalidArmor("missing %q line", armorBegin)
	}
	if lines[len(lines)-1] != armorEnd {
		return nil, errInvalidArmor("missing %q line", armorEnd)
	}
	return lines[1 : len(lines)-1], nil
}

// parseArmorHeaders reads the "key: value" lines up to the first blank line
// and checks that every header is present and supported. It returns the
// headers and the index of the line that ended them.
func parseArmorHeaders(lines []string) (armorHeaders, int, error) {
	var h armorHeaders
	seen := map[string]bool{}
	i := 0
	for ; i < len(lines) && lines[i] != ""; i++ {
		key, val, ok := strings.Cut(lines[i], ":")
		if !ok {
			return armorHeaders{}, 0, errInvalidArmor("header line %q has no ':'", lines[i])
		}
		key = strings.ToLower(strings.TrimSpace(key))
		val = strings.TrimSpace(val)
		if seen[key] {
			return armorHeaders{}, 0, errInvalidArmor("duplicate header %q", key)
		}
		seen[key] = true
		if err := h.set(key, val); err != nil {
			return armorHeaders{}, 0, err
		}
	}
	for _, want := range []string{"kdf", "n", "r", "p", "salt", "cipher"} {
		if !seen[want] {
			return armorHeaders{}, 0, errInvalidArmor("missing header %q", want)
		}
	}
	if h.kdf != kdfScrypt {
		return armorHeaders{}, 0, errInvalidArmor("unsupported kdf %q", h.kdf)
	}
	if h.cipher != cipherXChaCha {
		return armorHeaders{}, 0, errInvalidArmor("unsupported cipher %q", h.cipher)
	}
	h.params.KeyLen = keyLen
	if err := h.params.validate(); err != nil {
		return armorHeaders{}, 0, errInvalidArmor("%v", err)
	}
	return h, i, nil
}

// set stores one header value; key is already lower-cased.
func (h *armorHeaders) set(key, val string) error {
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
		return errInvalidArmor("unknown header %q", key)
	}
	if err != nil {
		return errInvalidArmor("header %q: %v", key, err)
	}
	return nil
}

// decodeArmorBody joins the base64 lines after the blank line and decodes them.
func decodeArmorBody(lines []string) ([]byte, error) {
	bodyText := strings.Join(lines, "")
	if bodyText == "" {
		return nil, errInvalidArmor("empty body")
	}
	body, err := base64.StdEncoding.DecodeString(bodyText)
	if err != nil {
		return nil, errInvalidArmor("body: %v", err)
	}
	return body, nil
}
