package bridge

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"time"

	"github.com/flashback-network/flashback/receipt"
	"github.com/flashback-network/flashback/storage"
	"github.com/valyala/fasthttp"
	"github.com/versity/versitygw/s3api/utils"
)

// Receipts (package receipt). A bridge configured with a ReceiptKey (the
// provider's account key, whose address is on chain as the provider)
// signs a receipt after every successful PutObject, CopyObject,
// CompleteMultipartUpload (op "put") and DeleteObject (op "delete"), and
// returns it in the x-flashback-receipt response header. A repeated
// CompleteMultipartUpload answers the receipt of the first one.
//
// DeleteObjects answers no receipts: one per deleted key (up to 1000)
// does not fit a response header, and a receipt over the whole batch would
// be a second format for the dispute module to check. A client that wants
// a receipt for a deletion deletes the key alone (the SDK's Bucket.Delete
// does).
//
// The content hash of a single-piece object is the SHA-256 of what the
// bridge read and stored. It is taken from a hash the request already
// computed as the body streamed through versitygw (the SigV4 signed
// payload, x-amz-content-sha256, or an x-amz-checksum-sha256 header), never
// from what the client claims; otherwise it is computed here while the
// body streams to the backend. A multipart object's hash is the multipart
// rule of package receipt, combined from the parts' SHA-256s, which
// UploadPart computes the same way and keeps beside each part (partHashKey).
// A native copy (no byte passes through the bridge) reads the copy back to
// hash it.
//
// A bridge without a ReceiptKey computes none of this and sends no header.

type receiptSigner struct {
	key     ed25519.PrivateKey
	chainID string
}

func newReceiptSigner(cfg Config) (*receiptSigner, error) {
	if cfg.ReceiptKey == nil {
		return nil, nil
	}
	if len(cfg.ReceiptKey) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("bridge: receipt key is %d bytes, want an ed25519 private key (%d)", len(cfg.ReceiptKey), ed25519.PrivateKeySize)
	}
	if cfg.ChainID == "" {
		return nil, errors.New("bridge: a receipt key needs the ChainID receipts are signed for")
	}
	return &receiptSigner{key: cfg.ReceiptKey, chainID: cfg.ChainID}, nil
}

// signing says whether this bridge signs receipts.
func (g *gateway) signing() bool { return g.b.receipts != nil }

// bodyDigest returns the SHA-256 of a body once it has been read whole.
type bodyDigest func() ([sha256.Size]byte, error)

// digestBody arranges for the SHA-256 of body (size bytes): readers lists
// the readers body wraps (the request body versitygw stacked), and a
// SHA-256 one among them, or body itself, is used; else body is wrapped in
// a hashing reader. It returns the reader to store, the digest (nil when
// the bridge signs no receipts) and a release func to call once the write
// is over, whatever its outcome.
func (g *gateway) digestBody(body io.Reader, size int64, readers ...io.Reader) (io.Reader, bodyDigest, func()) {
	if !g.signing() {
		return body, nil, func() {}
	}
	for _, r := range append([]io.Reader{body}, readers...) {
		hr, ok := r.(*utils.HashReader)
		if !ok {
			continue
		}
		switch hr.Type() {
		case utils.HashTypeSha256Hex:
			return body, func() ([sha256.Size]byte, error) { return decodeDigest(hex.DecodeString(hr.Sum())) }, func() {}
		case utils.HashTypeSha256:
			return body, func() ([sha256.Size]byte, error) { return decodeDigest(base64.StdEncoding.DecodeString(hr.Sum())) }, func() {}
		}
	}
	if body == nil {
		body = http.NoBody
	}
	if size >= asyncHashMin {
		a := newAsyncHasher(body)
		return a, func() ([sha256.Size]byte, error) { return a.finish(), nil }, func() { a.finish() }
	}
	sr := &sha256Reader{r: body, h: sha256.New()}
	return sr, func() ([sha256.Size]byte, error) {
		var d [sha256.Size]byte
		sr.h.Sum(d[:0])
		return d, nil
	}, func() {}
}

func decodeDigest(b []byte, err error) ([sha256.Size]byte, error) {
	var d [sha256.Size]byte
	if err != nil || len(b) != sha256.Size {
		return d, fmt.Errorf("bridge: body SHA-256 %x unusable (%v)", b, err)
	}
	copy(d[:], b)
	return d, nil
}

// sha256Reader hashes what is read through it.
type sha256Reader struct {
	r io.Reader
	h hash.Hash
}

func (s *sha256Reader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.h.Write(p[:n])
	return n, err
}

// putReceipt signs the receipt of an object written whole (digest of its
// content) or from parts (parts non-nil) and sets the response header. It
// returns the header value ("" when none was sent).
func (g *gateway) putReceipt(ctx context.Context, br bucketRef, key string, info storage.ObjectInfo, digest bodyDigest, parts []receipt.PartDigest) string {
	if !g.signing() {
		return ""
	}
	r := receipt.Receipt{Reservation: br.res.ID, Key: key, Op: receipt.OpPut, Size: info.Size, ETag: info.ETag}
	switch {
	case parts != nil:
		r.ContentHash = receipt.MultipartHash(parts)
		for _, p := range parts {
			r.PartSizes = append(r.PartSizes, p.Size)
		}
	case digest != nil:
		d, err := digest()
		if err != nil {
			return ""
		}
		r.ContentHash = d[:]
	default:
		return ""
	}
	return g.sendReceipt(ctx, r)
}

// deleteReceipt signs and sends the receipt of a deletion.
func (g *gateway) deleteReceipt(ctx context.Context, br bucketRef, key string) {
	if g.signing() {
		g.sendReceipt(ctx, receipt.Receipt{Reservation: br.res.ID, Key: key, Op: receipt.OpDelete})
	}
}

// sendReceipt stamps r with the chain id and the bridge's clock, signs it
// and sets it as the response header. The operation has succeeded by now:
// a receipt that cannot be made (it cannot, for keys and reservations the
// bridge accepts) leaves the answer without one rather than failing it.
func (g *gateway) sendReceipt(ctx context.Context, r receipt.Receipt) string {
	s := g.b.receipts
	r.ChainID, r.Time = s.chainID, time.Now().Unix()
	if err := r.Sign(s.key); err != nil {
		return ""
	}
	v, err := r.Encode()
	if err != nil {
		return ""
	}
	setReceiptHeader(ctx, v)
	return v
}

func setReceiptHeader(ctx context.Context, v string) {
	if rc, ok := ctx.(*fasthttp.RequestCtx); ok && v != "" {
		rc.Response.Header.Set(receipt.Header, v)
	}
}

// hashStored reads the object at bkey back and returns its SHA-256, if it
// still is the object with etag (another writer may have replaced it).
func hashStored(ctx context.Context, br bucketRef, bkey, etag string) (bodyDigest, bool) {
	rc, info, err := br.be.Get(ctx, bkey, nil)
	if err != nil {
		return nil, false
	}
	defer rc.Close()
	if info.ETag != etag {
		return nil, false
	}
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		return nil, false
	}
	var d [sha256.Size]byte
	h.Sum(d[:0])
	return func() ([sha256.Size]byte, error) { return d, nil }, true
}
