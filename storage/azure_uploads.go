package storage

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
)

// Multipart uploads on Azure (storage.Uploader). Azure discards all the
// uncommitted blocks of a blob whenever anything commits that blob (Put
// Blob, Put Block List, Copy Blob onto it), so parts are never staged on the
// target blob itself: a second upload of the same key, or a plain PUT of it,
// would destroy them, where S3 lets every upload of a key proceed and the
// last completed wins. Each upload has instead its own staging blob, named
// after the upload (and a hash of the key), committed empty at
// CreateUpload with the upload's content type and metadata. A part is
// streamed into staged blocks of that blob, a part larger than BlockSize
// into several (memory stays Concurrency*BlockSize), its last byte staged
// last as a block whose id records the part's MD5 (block ids:
// azure_blockids.go). Completing is Put Block List on the staging blob
// (the chosen parts' blocks: metadata work), then Copy Blob onto the key
// and deleting the staging blob (azure_complete.go). Copy Blob is
// server-side, no byte passes through this process: Azurite shares the
// blob's data (constant time); Azure copies within the account,
// synchronously or in the background, and the copy is awaited.
//
// Staging blobs live under Prefix + azUploadsDir and carry the azMetaUpload
// metadata entry; List hides blobs that have both.

const (
	azUploadsDir = ".fb-uploads/"
	azMetaUpload = "flashback_upload" // on staging blobs: hash of the target key
	azMetaEmpty  = "flashback_empty"  // on committed staging blobs: its empty parts
)

var emptyMD5 = hex.EncodeToString(md5.New().Sum(nil))

var _ Uploader = (*Azure)(nil)

// keyHash binds a staging blob to its key: hex of the first 16 bytes of
// the key's SHA-256.
func keyHash(key string) string {
	s := sha256.Sum256([]byte(key))
	return hex.EncodeToString(s[:16])
}

// staging is the staging blob of upload id of key, or ErrNotFound for an
// id this backend cannot have made (32 lower-case hex digits).
func (a *Azure) staging(key, id string) (*blockblob.Client, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	if len(id) != 32 || strings.Trim(id, "0123456789abcdef") != "" {
		return nil, fmt.Errorf("%w: upload %q of %q", ErrNotFound, id, key)
	}
	return a.cc.NewBlockBlobClient(a.prefix + azUploadsDir + keyHash(key) + "." + id), nil
}

// isStaging tells a staging blob in a listing.
func (a *Azure) isStaging(name string, meta map[string]*string) bool {
	return strings.HasPrefix(name, a.prefix+azUploadsDir) && metaValue(meta, azMetaUpload) != ""
}

// metaValue reads a metadata entry whatever the case the service gave its
// name in.
func metaValue(meta map[string]*string, name string) string {
	for k, v := range meta {
		if strings.EqualFold(k, name) {
			return deref(v)
		}
	}
	return ""
}

// CreateUpload commits the upload's empty staging blob.
func (a *Azure) CreateUpload(ctx context.Context, key string, meta ObjectMeta) (string, error) {
	ctx = detach(ctx)
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	id := hex.EncodeToString(b[:])
	sc, err := a.staging(key, id)
	if err != nil {
		return "", err
	}
	md, err := azMeta(meta.UserMeta, "")
	if err != nil {
		return "", err
	}
	md[azMetaUpload] = to(keyHash(key))
	_, err = sc.Upload(ctx, streaming.NopCloser(bytes.NewReader(nil)), &blockblob.UploadOptions{
		HTTPHeaders: &blob.HTTPHeaders{BlobContentType: nonEmpty(meta.ContentType)},
		Metadata:    md,
	})
	if err != nil {
		return "", azErr(err, key)
	}
	return id, nil
}

// upload checks that the staging blob exists (committed: an aborted or
// completed upload is gone) and returns its properties.
func (a *Azure) upload(ctx context.Context, key, id string) (*blockblob.Client, blob.GetPropertiesResponse, error) {
	sc, err := a.staging(key, id)
	if err != nil {
		return nil, blob.GetPropertiesResponse{}, err
	}
	p, err := sc.GetProperties(ctx, nil)
	if err != nil {
		return nil, p, fmt.Errorf("upload %q: %w", id, azErr(err, key))
	}
	return sc, p, nil
}

// PutUploadPart stages part num as blocks of the staging blob.
func (a *Azure) PutUploadPart(ctx context.Context, key, uploadID string, num int, r io.Reader, size int64) (UploadPart, error) {
	ctx = detach(ctx)
	if num < 1 || num > maxParts {
		return UploadPart{}, fmt.Errorf("backend azure-blob: part number %d out of 1..%d", num, maxParts)
	}
	if size < 0 {
		return UploadPart{}, fmt.Errorf("backend azure-blob: part %d has no declared size", num)
	}
	sc, _, err := a.upload(ctx, key, uploadID)
	if err != nil {
		return UploadPart{}, err
	}
	p, err := a.stagePart(ctx, sc, num, newPutReader(ctx, r, size, true), size)
	if err != nil {
		if errors.Is(err, ErrSizeMismatch) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return UploadPart{}, err
		}
		return UploadPart{}, azErr(err, key)
	}
	return p, nil
}

// stagePart streams the size bytes of pr into blocks of at most BlockSize,
// up to Concurrency in flight, all but the last byte; once those are staged
// and pr has ended where declared, it stages that last byte as the final
// block, whose id holds the part's MD5 (an empty part stages a one-byte
// marker instead, never committed).
func (a *Azure) stagePart(ctx context.Context, sc *blockblob.Client, num int, pr *putReader, size int64) (UploadPart, error) {
	base := azBlockID{kind: azBlockData, num: num}
	if _, err := rand.Read(base.nonce[:]); err != nil {
		return UploadPart{}, err
	}
	blocks := 0
	if lead := size - 1; lead > 0 {
		first := make([]byte, min(a.blockSize, lead))
		n, _, err := readFull(pr, first)
		if err != nil {
			return UploadPart{}, err
		}
		blocks, err = uploadParts(ctx, io.LimitReader(pr, lead-int64(n)), first[:n], int(a.blockSize), a.conc,
			func(ctx context.Context, i int, data []byte) error {
				id := base
				id.index = i - 1
				_, err := sc.StageBlock(ctx, id.String(), streaming.NopCloser(bytes.NewReader(data)), nil)
				return err
			})
		if err != nil {
			return UploadPart{}, err
		}
	}
	last := []byte{0}
	fin := base
	fin.kind, fin.index = azBlockFinal, blocks
	if size == 0 {
		fin.kind = azBlockEmpty
	} else if _, err := io.ReadFull(pr, last); err != nil {
		if cerr := pr.check(); cerr != nil {
			return UploadPart{}, cerr
		}
		return UploadPart{}, fmt.Errorf("%w: %v", ErrSizeMismatch, err)
	}
	if _, err := pr.Read(nil); err != nil && err != io.EOF {
		return UploadPart{}, err
	}
	if err := pr.check(); err != nil {
		return UploadPart{}, err
	}
	fin.finished = time.Now().UnixNano()
	copy(fin.md5[:], pr.md5.Sum(nil))
	if _, err := sc.StageBlock(ctx, fin.String(), streaming.NopCloser(bytes.NewReader(last)), nil); err != nil {
		return UploadPart{}, err
	}
	return UploadPart{Num: num, ETag: hex.EncodeToString(fin.md5[:]), Size: size,
		LastModified: time.Unix(0, fin.finished).UTC()}, nil
}

// stagedParts reads the staging blob's block lists (committed and not)
// into its complete parts, with the empty parts a completion committed
// (props is the blob's properties).
func stagedParts(ctx context.Context, sc *blockblob.Client, key string, props blob.GetPropertiesResponse) (map[int]azStagedPart, error) {
	bl, err := sc.GetBlockList(ctx, blockblob.BlockListTypeAll, nil)
	if err != nil {
		return nil, azErr(err, key)
	}
	var names []string
	var sizes []int64
	for _, list := range [][]*blockblob.Block{bl.CommittedBlocks, bl.UncommittedBlocks} {
		for _, b := range list {
			names, sizes = append(names, deref(b.Name)), append(sizes, deref64(b.Size))
		}
	}
	parts := azStagedParts(names, sizes)
	for _, f := range strings.Fields(metaValue(props.Metadata, azMetaEmpty)) {
		num, err := strconv.Atoi(f)
		if _, seen := parts[num]; err != nil || seen || num < 1 || num > maxParts {
			continue
		}
		var modified time.Time
		if props.LastModified != nil {
			modified = props.LastModified.UTC()
		}
		parts[num] = azStagedPart{UploadPart: UploadPart{Num: num, ETag: emptyMD5, LastModified: modified}}
	}
	return parts, nil
}

// UploadParts lists the complete parts staged so far.
func (a *Azure) UploadParts(ctx context.Context, key, uploadID string) ([]UploadPart, error) {
	ctx = detach(ctx)
	sc, props, err := a.upload(ctx, key, uploadID)
	if err != nil {
		return nil, err
	}
	parts, err := stagedParts(ctx, sc, key, props)
	if err != nil {
		return nil, err
	}
	return sortedParts(parts), nil
}

// dropStaging deletes a staging blob and its blocks; a failure leaves a
// hidden blob behind, which List does not show.
func (a *Azure) dropStaging(ctx context.Context, sc *blockblob.Client) error {
	_, err := sc.Delete(ctx, &blob.DeleteOptions{DeleteSnapshots: to(blob.DeleteSnapshotsOptionTypeInclude)})
	if err = azErr(err, ""); errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// AbortUpload deletes the staging blob, its staged blocks with it.
func (a *Azure) AbortUpload(ctx context.Context, key, uploadID string) error {
	ctx = detach(ctx)
	sc, err := a.staging(key, uploadID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return a.dropStaging(ctx, sc)
}
