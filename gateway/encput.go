package gateway

import (
	"context"
	"io"
	"strings"

	"github.com/flashback-network/flashback/objcrypt"
)

// encName is the object name objcrypt binds into every chunk of an object
// (its AAD): the key the client sees, folder included in a normal
// repository, so a provider cannot serve one object's ciphertext as
// another's.
func encName(t target) string {
	if t.repo.Mode == ModeNormal {
		return t.members[0].ID + "/" + t.key
	}
	return t.key
}

// sealBody returns the stored form of a plaintext body of plainSize bytes
// and its size. The body is encrypted once, and the same ciphertext goes
// to every member (whose SHA-256 is thus the same on all of them).
func sealBody(mk objcrypt.MasterKey, name string, plain io.Reader, plainSize int64) (io.Reader, int64, error) {
	er, err := objcrypt.NewEncryptReader(mk, name, plain, 0)
	if err != nil {
		return nil, 0, err
	}
	return er, objcrypt.CiphertextSize(plainSize, 0), nil
}

// isMultipartETag says whether a stored object was completed from parts
// (S3's "md5-N" ETags): an encrypted one then ends with a part index.
func isMultipartETag(etag string) bool { return strings.Contains(etag, "-") }

// encSealed prepares w to carry the ciphertext of its plaintext body.
func (g *Gateway) encSealed(ctx context.Context, t target, w *fanWrite) error {
	mk, err := g.masterKey(ctx, t.repo)
	if err != nil {
		return err
	}
	body, size, err := sealBody(mk, encName(t), w.body, w.size)
	if err != nil {
		return unavailable(err.Error())
	}
	w.body, w.size = body, size
	return nil
}
