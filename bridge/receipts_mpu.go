package bridge

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/versity/versitygw/s3response"

	"github.com/flashback-network/flashback/receipt"
	"github.com/flashback-network/flashback/storage"
)

// The receipt of a multipart object needs each part's SHA-256 (package
// receipt's multipart rule). UploadPart computes it as the part streams
// in and keeps it beside the part, as "<etag> <hex sha256>" at
// <res>/.fb-mpu/<id>/hNNNNN (not charged, removed with the parts). The
// ETag ties the record to the part it was computed for: when a part
// number is uploaded twice at once, the record may belong to the upload
// that lost, and completion then reads the object back instead.

// partHashKey is where part n's SHA-256 is kept.
func partHashKey(br bucketRef, id string, n int32) string {
	return fmt.Sprintf("%sh%05d", uploadDir(br, id), n)
}

// maxPartHashRecord bounds a record read back (an ETag and 64 hex digits).
const maxPartHashRecord = 256

// keepPartHash stores the SHA-256 of a part just written (digest nil: the
// bridge signs no receipts). Without the record the completion still
// signs, reading the object back, so a failure here fails nothing.
func (g *gateway) keepPartHash(ctx context.Context, br bucketRef, id string, n int32, info storage.ObjectInfo, digest bodyDigest) {
	if digest == nil {
		return
	}
	d, err := digest()
	if err != nil {
		return
	}
	data := []byte(info.ETag + " " + hex.EncodeToString(d[:]))
	if _, err := g.write(ctx, br, partHashKey(br, id, n), bytes.NewReader(data), int64(len(data)), storage.ObjectMeta{}, nil); err == nil {
		br.st.ingress.Add(-int64(len(data))) // bookkeeping, not client ingress
	}
}

// partRecordReads is how many part records a completion reads at once: on
// a backend behind a network hop each read is a round trip, and an upload
// may have thousands of parts.
const partRecordReads = 16

// partDigests reads the records of the parts a completion used; ok is
// false if one is missing or was made for another upload of the part.
func (g *gateway) partDigests(ctx context.Context, br bucketRef, id string, use []s3response.Part) ([]receipt.PartDigest, bool) {
	ctx = storage.Detach(ctx) // read by the goroutines below
	out := make([]receipt.PartDigest, len(use))
	bad := make([]bool, len(use))
	inParallel(len(use), partRecordReads, func(i int) {
		p := use[i]
		d, ok := readPartRecord(ctx, br, partHashKey(br, id, int32(p.PartNumber)), unquote(p.ETag))
		out[i] = receipt.PartDigest{Size: p.Size, SHA256: d}
		bad[i] = !ok
	})
	if slices.Contains(bad, true) {
		return nil, false
	}
	return out, true
}

// readPartRecord reads one part's record and checks it was made for the
// part with etag.
func readPartRecord(ctx context.Context, br bucketRef, rkey, etag string) ([sha256.Size]byte, bool) {
	var d [sha256.Size]byte
	rc, _, err := br.be.Get(ctx, rkey, nil)
	if err != nil {
		return d, false
	}
	b, err := io.ReadAll(io.LimitReader(rc, maxPartHashRecord))
	rc.Close()
	if err != nil {
		return d, false
	}
	got, sum, _ := strings.Cut(string(b), " ")
	raw, err := hex.DecodeString(sum)
	if err != nil || len(raw) != sha256.Size || got != etag {
		return d, false
	}
	copy(d[:], raw)
	return d, true
}

// completeReceipt signs the receipt of a completed multipart upload and
// returns its header value ("" if none).
func (g *gateway) completeReceipt(ctx context.Context, br bucketRef, key, id string, info storage.ObjectInfo, use []s3response.Part) string {
	if !g.signing() {
		return ""
	}
	parts, ok := g.partDigests(ctx, br, id, use)
	if !ok {
		sizes := make([]int64, len(use))
		for i, p := range use {
			sizes[i] = p.Size
		}
		if parts, ok = rehashParts(ctx, br, br.key(key), info.ETag, sizes); !ok {
			return ""
		}
	}
	return g.putReceipt(ctx, br, key, info, nil, parts)
}

// rehashParts reads a multipart object back and hashes its parts, if the
// key still holds the object with etag.
func rehashParts(ctx context.Context, br bucketRef, bkey, etag string, sizes []int64) ([]receipt.PartDigest, bool) {
	rc, info, err := br.be.Get(ctx, bkey, nil)
	if err != nil {
		return nil, false
	}
	defer rc.Close()
	if info.ETag != etag {
		return nil, false
	}
	out := make([]receipt.PartDigest, len(sizes))
	for i, size := range sizes {
		h := sha256.New()
		if _, err := io.CopyN(h, rc, size); err != nil {
			return nil, false
		}
		out[i].Size = size
		h.Sum(out[i].SHA256[:0])
	}
	return out, true
}
