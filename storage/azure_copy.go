package storage

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
)

// Copy is a server-side Copy Blob (content, properties and metadata).
func (a *Azure) Copy(ctx context.Context, src, dst string) (ObjectInfo, error) {
	return a.copyWithMeta(ctx, src, dst, nil)
}

var _ metaCopier = (*Azure)(nil)

// copyWithMeta is Copy; edit, when set, makes the destination's user
// metadata from the source's.
func (a *Azure) copyWithMeta(ctx context.Context, src, dst string, edit func(map[string]string) map[string]string) (ObjectInfo, error) {
	ctx = detach(ctx)
	sc, err := a.blob(src)
	if err != nil {
		return ObjectInfo{}, err
	}
	dc, err := a.blob(dst)
	if err != nil {
		return ObjectInfo{}, err
	}
	p, err := sc.GetProperties(ctx, nil)
	if err != nil {
		return ObjectInfo{}, azErr(err, src)
	}
	opts := &blob.StartCopyFromURLOptions{
		SourceModifiedAccessConditions: &blob.SourceModifiedAccessConditions{SourceIfMatch: p.ETag},
	}
	if edit != nil {
		old := azInfo(src, 0, nil, nil, nil, p.Metadata)
		etag := ""
		if _, ok := azMetaEntry(p.Metadata, azMetaETag); ok {
			etag = old.ETag
		}
		if opts.Metadata, err = azMeta(edit(old.UserMeta), etag); err != nil {
			return ObjectInfo{}, err
		}
		p.Metadata = opts.Metadata
	}
	res, err := dc.StartCopyFromURL(ctx, sc.URL(), opts)
	if err != nil {
		return ObjectInfo{}, azErr(err, src)
	}
	if err := a.awaitCopy(ctx, dc, res, dst); err != nil {
		return ObjectInfo{}, fmt.Errorf("copy of %q: %w", src, err)
	}
	return azInfo(dst, deref64(p.ContentLength), p.ContentMD5, res.LastModified, p.ContentType, p.Metadata), nil
}

// Compose streams the parts into staged blocks of dst (memory stays
// Concurrency*BlockSize; the bytes pass through this process) and records
// the multipart ETag.
func (a *Azure) Compose(ctx context.Context, dst string, parts []string, meta ObjectMeta) (ObjectInfo, error) {
	ctx = detach(ctx)
	return streamCompose(ctx, a, dst, parts, func(r io.Reader, size int64, etag string) (ObjectInfo, error) {
		return a.put(ctx, dst, r, size, meta, etag)
	})
}

// awaitCopy waits until the copy res started onto dc (named key) is no
// longer pending, polling its properties with a growing delay; a cancelled
// ctx aborts the copy.
func (a *Azure) awaitCopy(ctx context.Context, dc *blockblob.Client, res blob.StartCopyFromURLResponse, key string) error {
	status := res.CopyStatus
	for delay := 10 * time.Millisecond; status != nil && *status == blob.CopyStatusTypePending; delay = min(delay*2, time.Second) {
		select {
		case <-ctx.Done():
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
			dc.AbortCopyFromURL(actx, deref(res.CopyID), nil)
			cancel()
			return ctx.Err()
		case <-time.After(delay):
		}
		dp, err := dc.GetProperties(ctx, nil)
		if err != nil {
			return azErr(err, key)
		}
		status = dp.CopyStatus
	}
	if status != nil && *status != blob.CopyStatusTypeSuccess {
		return fmt.Errorf("backend azure-blob: copy onto %q: status %s", key, *status)
	}
	return nil
}
