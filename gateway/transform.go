package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"

	"github.com/flashback-network/flashback/objcrypt"
)

// End-to-end encryption (package objcrypt: AES-256-GCM in 64 KiB chunks).
// Objects of a repository marked Encrypted are encrypted by the gateway,
// which runs on the consumer's side, with a master key derived from the
// repository owner's secret (Config.OwnerSecret; DeriveMasterKey(secret,
// repo.Owner, repo.Name)): members store and serve only ciphertext. How
// each operation uses it:
//
//   - PutObject encrypts the body once (encput.go) and fans the ciphertext
//     out, so every member holds the same bytes and the members' SHA-256
//     (and repair, which moves ciphertext) is over the ciphertext.
//   - GetObject (encread.go) reads the header and then only the chunks
//     covering the client's range; objcrypt authenticates every chunk
//     before any of its bytes go out, so a bad copy is never served, for
//     any size and any range: the read resumes from another member at the
//     stored offset of the failing chunk and the copy is queued for repair
//     once another member's copy of that chunk authenticates (a chunk that
//     fails on every member means a wrong secret, not bad copies: nothing
//     is queued and the client gets errDecryption).
//   - Multipart uploads (encmpu.go) encrypt each part as its own stream and
//     end the object with an encrypted index of the parts.
//   - HEAD and LIST report plaintext sizes; CopyObject re-encrypts
//     (copy.go says why).
//
// A repository marked Encrypted whose owner secret is not available is
// refused (errEncryptionUnavailable), reads and writes alike: nothing
// plaintext is ever stored for it.

// OwnerSecret returns the secret of an encrypted repository's owner (at
// least objcrypt.MinSecretSize bytes), from which its key is derived. It
// is called on every request to an encrypted repository, so it must be
// cheap; implementations must never log the secret.
type OwnerSecret func(ctx context.Context, repo Repo) ([]byte, error)

// FixedSecret is an OwnerSecret giving the same secret for every
// repository (a gateway serving one owner's repositories).
func FixedSecret(secret []byte) OwnerSecret {
	s := append([]byte(nil), secret...)
	return func(context.Context, Repo) ([]byte, error) { return s, nil }
}

// SecretFile is an OwnerSecret reading the secret from a file (the whole
// file, at least objcrypt.MinSecretSize bytes), which must not be readable
// by group or others. The file is read once, at the first request.
func SecretFile(path string) OwnerSecret {
	var (
		once sync.Once
		sec  []byte
		err  error
	)
	return func(context.Context, Repo) ([]byte, error) {
		once.Do(func() { sec, err = ReadSecretFile(path) })
		return sec, err
	}
}

// ReadSecretFile reads and checks an owner secret file.
func ReadSecretFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("owner secret: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("owner secret %s: mode %#o lets others read it; chmod 600 it", path, fi.Mode().Perm())
	}
	sec, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("owner secret: %w", err)
	}
	if len(sec) < objcrypt.MinSecretSize {
		return nil, fmt.Errorf("owner secret %s: %d bytes, need at least %d", path, len(sec), objcrypt.MinSecretSize)
	}
	return sec, nil
}

var errEncryptionUnavailable = apiErr("NotImplemented", http.StatusNotImplemented,
	"This repository is end-to-end encrypted and this gateway has no owner secret for it; nothing was stored or read.")

// errDecryption: no copy of the object authenticates with this gateway's
// key. 403 so that clients do not retry: it will not change by itself.
var errDecryption = apiErr("DecryptionFailed", http.StatusForbidden,
	"The object does not decrypt with this gateway's key (a wrong owner secret, or every copy is damaged); nothing was served.")

// masterKey returns the repository's master key, or errEncryptionUnavailable
// (logged with the reason, never the secret).
func (g *Gateway) masterKey(ctx context.Context, r Repo) (objcrypt.MasterKey, error) {
	if g.cfg.OwnerSecret == nil {
		return objcrypt.MasterKey{}, errEncryptionUnavailable
	}
	sec, err := g.cfg.OwnerSecret(ctx, r)
	if err == nil && len(sec) == 0 {
		err = errors.New("no secret")
	}
	var mk objcrypt.MasterKey
	if err == nil {
		mk, err = objcrypt.DeriveMasterKey(sec, r.Owner, r.Name)
	}
	if err != nil {
		g.cfg.Logf("gateway: repository %s: owner secret: %v", r.Name, err)
		return objcrypt.MasterKey{}, errEncryptionUnavailable
	}
	return mk, nil
}
