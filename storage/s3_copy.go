package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func (b *S3) Copy(ctx context.Context, src, dst string) (ObjectInfo, error) {
	return b.copyWithMeta(ctx, src, dst, nil)
}

var _ metaCopier = (*S3)(nil)

// copyWithMeta is Copy; edit, when set, makes the destination's user
// metadata from the source's.
func (b *S3) copyWithMeta(ctx context.Context, src, dst string, edit func(map[string]string) map[string]string) (ObjectInfo, error) {
	ctx = detach(ctx)
	fsrc, err := b.full(src)
	if err != nil {
		return ObjectInfo{}, err
	}
	fdst, err := b.full(dst)
	if err != nil {
		return ObjectInfo{}, err
	}
	info, ifMatch, err := b.head(ctx, src)
	if err != nil {
		return ObjectInfo{}, err
	}
	if edit != nil {
		info.UserMeta = normMeta(edit(info.UserMeta))
	}
	if info.Size <= maxS3SinglePut {
		source := b.bucket + "/" + escapeKey(fsrc)
		_, err := b.c.CopyObject(ctx, &s3.CopyObjectInput{
			Bucket: &b.bucket, Key: &fdst, CopySource: &source, CopySourceIfMatch: ifMatch,
			MetadataDirective: types.MetadataDirectiveReplace,
			ContentType:       nonEmpty(info.ContentType), Metadata: s3Meta(info.UserMeta, info.ETag),
		})
		if err != nil {
			return ObjectInfo{}, s3Err(err, src)
		}
	} else {
		var ranges []copyRange
		for off := int64(0); off < info.Size; off += copyPartSize {
			ranges = append(ranges, copyRange{key: fsrc, start: off, end: min(off+copyPartSize, info.Size) - 1, ifMatch: ifMatch})
		}
		if _, err := b.multipartCopy(ctx, fdst, ranges, ObjectMeta{ContentType: info.ContentType, UserMeta: info.UserMeta}, info.ETag); err != nil {
			return ObjectInfo{}, s3Err(err, src)
		}
	}
	info.Key, info.LastModified = dst, time.Now().UTC()
	return info, nil
}

type copyRange struct {
	key        string
	start, end int64 // inclusive; end < 0: whole object
	ifMatch    *string
}

// multipartCopy assembles dst from server-side copies of ranges.
func (b *S3) multipartCopy(ctx context.Context, fdst string, ranges []copyRange, meta ObjectMeta, etag string) (string, error) {
	if len(ranges) > maxParts {
		return "", fmt.Errorf("more than %d parts", maxParts)
	}
	cr, err := b.c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: &b.bucket, Key: &fdst, ContentType: nonEmpty(meta.ContentType), Metadata: s3Meta(meta.UserMeta, etag),
	})
	if err != nil {
		return "", err
	}
	parts := make([]types.CompletedPart, len(ranges))
	for i, r := range ranges {
		source := b.bucket + "/" + escapeKey(r.key)
		in := &s3.UploadPartCopyInput{
			Bucket: &b.bucket, Key: &fdst, UploadId: cr.UploadId, PartNumber: aws.Int32(int32(i + 1)),
			CopySource: &source, CopySourceIfMatch: r.ifMatch,
		}
		if r.end >= 0 {
			in.CopySourceRange = aws.String(fmt.Sprintf("bytes=%d-%d", r.start, r.end))
		}
		out, err := b.c.UploadPartCopy(ctx, in)
		if err != nil {
			b.abort(ctx, fdst, cr.UploadId)
			return "", err
		}
		parts[i] = types.CompletedPart{ETag: out.CopyPartResult.ETag, PartNumber: aws.Int32(int32(i + 1))}
	}
	return b.complete(ctx, fdst, cr.UploadId, parts)
}

// Compose builds dst from the parts with server-side part copies
// (UploadPartCopy): no data goes through the bridge. S3 requires every part
// but the last to be at least 5 MiB; if not, Compose falls back to
// streaming the parts through Put.
func (b *S3) Compose(ctx context.Context, dst string, parts []string, meta ObjectMeta) (ObjectInfo, error) {
	ctx = detach(ctx)
	if len(parts) == 0 {
		return ObjectInfo{}, errors.New("backend: compose needs at least one part")
	}
	fdst, err := b.full(dst)
	if err != nil {
		return ObjectInfo{}, err
	}
	ranges := make([]copyRange, len(parts))
	var total int64
	small := false
	for i, p := range parts {
		fp, err := b.full(p)
		if err != nil {
			return ObjectInfo{}, err
		}
		h, rawETag, err := b.head(ctx, p)
		if err != nil {
			return ObjectInfo{}, fmt.Errorf("compose part %q: %w", p, err)
		}
		size := h.Size
		if (size < minPartSize && i < len(parts)-1) || size > maxS3SinglePut {
			small = true
		}
		total += size
		ranges[i] = copyRange{key: fp, end: -1, ifMatch: rawETag}
	}
	if small {
		return streamCompose(ctx, b, dst, parts, func(r io.Reader, size int64, etag string) (ObjectInfo, error) {
			return b.put(ctx, dst, r, size, meta, etag)
		})
	}
	etag, err := b.multipartCopy(ctx, fdst, ranges, meta, "")
	if err != nil {
		return ObjectInfo{}, s3Err(err, dst)
	}
	return ObjectInfo{Key: dst, Size: total, ETag: etag, LastModified: time.Now().UTC(),
		ContentType: meta.ContentType, UserMeta: normMeta(meta.UserMeta)}, nil
}
