package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/flashback-network/flashback/objcrypt"
)

// How an encrypted multipart object is stored. Parts are uploaded in any
// order and in parallel, so a part cannot know its offset in the object:
// each part is therefore its own objcrypt stream (own header and salt),
// named after the object, the upload and the part number, so parts cannot
// be reordered, mixed between uploads or moved to another object. At
// completion the gateway appends an index as one more member part (number
// indexPart): an objcrypt stream, named after the object, of the upload id
// and each part's number, plaintext size and header, followed by a plain
// trailer "FBMI" | the index's stored length (uint64). A range maps to
// parts through the index (fetched once from the object's tail, and cached
// by ETag), then to chunks within each part. The index being authenticated
// covers the layout itself: a provider dropping or resizing parts makes
// the index check fail (sizes must add up to the stored size). S3 wants
// every part but the last to be at least 5 MiB, so when the client's last
// part is smaller, the gateway re-sends it joined with the index as the
// last member part (it keeps the ciphertext of parts under 5 MiB in the
// state directory until completion for that).

const (
	indexPart    = 10000 // the member part carrying the index; clients use 1..9999
	trailerMagic = "FBMI"
	trailerSize  = len(trailerMagic) + 8
	indexMagic   = "FBMX\x01"
	maxIndexSize = 1 << 20
	encMinPart   = 5 << 20 // S3's minimum size of every part but the last
)

// encPartRec is what the gateway keeps of an encrypted part until
// completion.
type encPartRec struct {
	Plain  int64  `json:"plain"`
	Header []byte `json:"header"`
}

func partName(name, upload string, n int32) string {
	return name + "\x00part\x00" + upload + "\x00" + strconv.Itoa(int(n))
}

func indexName(name string) string { return name + "\x00index" }

type idxEntry struct {
	n     int32
	plain int64
	hdr   []byte
}

func marshalIndex(upload string, es []idxEntry) []byte {
	b := append([]byte(indexMagic), byte(len(upload)))
	b = append(b, upload...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(es)))
	for _, e := range es {
		b = binary.BigEndian.AppendUint32(b, uint32(e.n))
		b = binary.BigEndian.AppendUint64(b, uint64(e.plain))
		b = append(b, e.hdr...)
	}
	return b
}

func parseIndex(b []byte) (string, []idxEntry, error) {
	bad := errors.New("malformed part index")
	if len(b) < len(indexMagic)+1 || string(b[:len(indexMagic)]) != indexMagic {
		return "", nil, bad
	}
	b = b[len(indexMagic):]
	ul := int(b[0])
	if len(b) < 1+ul+4 {
		return "", nil, bad
	}
	upload := string(b[1 : 1+ul])
	b = b[1+ul:]
	n := binary.BigEndian.Uint32(b)
	b = b[4:]
	const es = 4 + 8 + objcrypt.HeaderSize
	if n == 0 || uint64(len(b)) != uint64(n)*es {
		return "", nil, bad
	}
	out := make([]idxEntry, n)
	for i := range out {
		e := b[i*es : (i+1)*es]
		out[i] = idxEntry{n: int32(binary.BigEndian.Uint32(e)), plain: int64(binary.BigEndian.Uint64(e[4:])), hdr: e[12:]}
		if out[i].plain < 0 {
			return "", nil, bad
		}
	}
	return upload, out, nil
}

// sealIndex is the stored index and trailer of an upload's parts.
func sealIndex(mk objcrypt.MasterKey, name, upload string, es []idxEntry) ([]byte, error) {
	plain := marshalIndex(upload, es)
	r, _, err := sealBody(mk, indexName(name), bytes.NewReader(plain), int64(len(plain)))
	if err != nil {
		return nil, err
	}
	ct, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	ct = append(ct, trailerMagic...)
	return binary.BigEndian.AppendUint64(ct, uint64(len(ct)-len(trailerMagic))), nil
}

// layouts caches multipart layouts by key, ETag and master key (a fresh
// ETag is a fresh object), so a range read costs no index fetch.
var layouts struct {
	sync.Mutex
	m map[string]*encLayout
}

func layoutKey(mk objcrypt.MasterKey, t target, etag string) string {
	h := sha256.Sum256(mk[:])
	return string(h[:8]) + t.repo.Name + "\x00" + encName(t) + "\x00" + etag
}

// mpLayout reads (or recalls) the layout of a multipart object from a
// member's copy of its index.
func (g *Gateway) mpLayout(ctx context.Context, t target, m Member, mk objcrypt.MasterKey, etag string, total int64) (*encLayout, error) {
	ck := layoutKey(mk, t, etag)
	layouts.Lock()
	lay := layouts.m[ck]
	layouts.Unlock()
	if lay != nil && lay.stored == total {
		return lay, nil
	}
	idx, err := g.fetchIndex(ctx, t, m, etag, total)
	if err != nil {
		return nil, err
	}
	lay, err = buildLayout(mk, encName(t), etag, total, idx)
	if err != nil {
		return nil, fmt.Errorf("%w: member %s: %v", errUndecryptable, m.ID, err)
	}
	layouts.Lock()
	if layouts.m == nil || len(layouts.m) > 4096 {
		layouts.m = map[string]*encLayout{}
	}
	layouts.m[ck] = lay
	layouts.Unlock()
	return lay, nil
}

// fetchIndex reads the stored index of a member's copy (its tail).
func (g *Gateway) fetchIndex(ctx context.Context, t target, m Member, etag string, total int64) ([]byte, error) {
	get := func(rng string) ([]byte, error) {
		out, err := g.clients.get(m).s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(m.ID), Key: aws.String(t.key),
			Range: aws.String(rng), IfMatch: nonEmpty(etag)})
		if err != nil {
			return nil, err
		}
		defer out.Body.Close()
		return io.ReadAll(io.LimitReader(out.Body, maxIndexSize+int64(trailerSize)))
	}
	tail, err := get("bytes=-65536")
	if err != nil {
		return nil, err
	}
	if len(tail) < trailerSize || string(tail[len(tail)-trailerSize:len(tail)-8]) != trailerMagic {
		return nil, fmt.Errorf("%w: member %s: no part index at the end", errUndecryptable, m.ID)
	}
	l := int64(binary.BigEndian.Uint64(tail[len(tail)-8:]))
	if l <= 0 || l > maxIndexSize || l+int64(trailerSize) > total {
		return nil, fmt.Errorf("%w: member %s: part index of %d bytes", errUndecryptable, m.ID, l)
	}
	if l+int64(trailerSize) <= int64(len(tail)) {
		return tail[int64(len(tail))-int64(trailerSize)-l : len(tail)-trailerSize], nil
	}
	start := total - int64(trailerSize) - l
	idx, err := get(fmt.Sprintf("bytes=%d-%d", start, start+l-1))
	if err == nil && int64(len(idx)) != l {
		err = fmt.Errorf("%w: member %s: short part index", errUndecryptable, m.ID)
	}
	return idx, err
}

// buildLayout decrypts an index and lays the parts out.
func buildLayout(mk objcrypt.MasterKey, name, etag string, total int64, idx []byte) (*encLayout, error) {
	r, err := objcrypt.OpenReader(mk, indexName(name), int64(len(idx)), bytes.NewReader(idx))
	if err != nil {
		return nil, err
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	upload, es, err := parseIndex(plain)
	if err != nil {
		return nil, err
	}
	lay := &encLayout{etag: etag, stored: total}
	var off int64
	for _, e := range es {
		h, err := objcrypt.ParseHeader(e.hdr)
		if err != nil {
			return nil, err
		}
		cs := objcrypt.CiphertextSize(e.plain, h.ChunkSize)
		d, err := objcrypt.NewDecrypter(mk, partName(name, upload, e.n), h, cs)
		if err != nil {
			return nil, err
		}
		lay.parts = append(lay.parts, encStream{d: d, off: off, plainOff: lay.plain})
		off += cs
		lay.plain += e.plain
	}
	if off+int64(len(idx))+int64(trailerSize) != total {
		return nil, fmt.Errorf("parts of %d bytes and an index of %d do not make the stored %d", off, len(idx), total)
	}
	return lay, nil
}
