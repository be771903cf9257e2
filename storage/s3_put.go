package storage

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func (b *S3) Put(ctx context.Context, key string, r io.Reader, size int64, meta ObjectMeta) (ObjectInfo, error) {
	ctx = detach(ctx)
	return b.put(ctx, key, r, size, meta, "")
}

// put uploads r; etag, when set, is stored (in metadata) as the ETag to
// report instead of the content MD5 (Compose).
func (b *S3) put(ctx context.Context, key string, r io.Reader, size int64, meta ObjectMeta, etag string) (ObjectInfo, error) {
	full, err := b.full(key)
	if err != nil {
		return ObjectInfo{}, err
	}
	info := ObjectInfo{Key: key, ContentType: meta.ContentType, UserMeta: normMeta(meta.UserMeta)}
	// S3 reports the MD5 as the ETag of a single PutObject; only uploads
	// that may go multipart need to compute it here.
	single := size >= 0 && size <= b.maxSinglePut
	pr := newPutReader(ctx, r, size, !single)
	if single {
		return b.putStreamed(ctx, key, full, pr, size, meta, etag, info)
	}
	partSize := b.partSize
	if size > 0 {
		if ps := (size + maxParts - 1) / maxParts; ps > partSize {
			partSize = (ps + 1<<20 - 1) &^ (1<<20 - 1)
		}
	}
	first := make([]byte, partSize)
	n, eof, err := readFull(pr, first)
	if err != nil {
		return ObjectInfo{}, err
	}
	if eof {
		if err := pr.check(); err != nil {
			return ObjectInfo{}, err
		}
		out, err := b.c.PutObject(ctx, &s3.PutObjectInput{
			Bucket: &b.bucket, Key: &full, Body: bytes.NewReader(first[:n]), ContentLength: aws.Int64(int64(n)),
			ContentType: nonEmpty(meta.ContentType), Metadata: s3Meta(meta.UserMeta, etag),
		}, b.putOpts...)
		if err != nil {
			return ObjectInfo{}, s3Err(err, key)
		}
		info.Size, info.ETag, info.LastModified = int64(n), cmp.Or(etag, trimETag(out.ETag)), time.Now().UTC()
		return info, nil
	}
	mpETag, err := b.multipartPut(ctx, full, pr, first[:n], int(partSize), meta)
	if err != nil {
		return ObjectInfo{}, s3Err(err, key)
	}
	info.Size, info.LastModified = pr.n, time.Now().UTC()
	info.ETag = b.restoreMD5ETag(ctx, full, pr, mpETag, meta, etag)
	return info, nil
}

// putStreamed stores an object of known size (at most maxSinglePut) with
// one streamed PutObject, nothing buffered.
func (b *S3) putStreamed(ctx context.Context, key, full string, pr *putReader, size int64, meta ObjectMeta, etag string, info ObjectInfo) (ObjectInfo, error) {
	var body io.Reader = pr
	if size == 0 {
		if _, err := pr.Read(nil); err != io.EOF {
			return ObjectInfo{}, err // more than 0 bytes
		}
		body = http.NoBody
	}
	out, err := b.c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &b.bucket, Key: &full, Body: body, ContentLength: aws.Int64(size),
		ContentType: nonEmpty(meta.ContentType), Metadata: s3Meta(meta.UserMeta, etag),
	}, b.putOpts...)
	if cerr := pr.check(); cerr != nil && err != nil {
		return ObjectInfo{}, cerr // the reader's error is the cause
	}
	if err != nil {
		return ObjectInfo{}, s3Err(err, key)
	}
	info.Size, info.ETag, info.LastModified = size, cmp.Or(etag, trimETag(out.ETag)), time.Now().UTC()
	return info, nil
}

// restoreMD5ETag returns the ETag to report for an object just stored by
// multipart upload (ETag mpETag). The multipart ETag is not the content's
// MD5: rewrite the metadata to carry it (a server-side copy onto itself,
// conditional on nobody having replaced the object meanwhile). Past 5 GiB
// CopyObject cannot, and the multipart ETag stays.
func (b *S3) restoreMD5ETag(ctx context.Context, full string, pr *putReader, mpETag string, meta ObjectMeta, etag string) string {
	md5hex := cmp.Or(etag, pr.sum())
	if pr.n > maxS3SinglePut {
		return mpETag
	}
	src := b.bucket + "/" + escapeKey(full)
	_, err := b.c.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket: &b.bucket, Key: &full, CopySource: &src, CopySourceIfMatch: aws.String(`"` + mpETag + `"`),
		MetadataDirective: types.MetadataDirectiveReplace,
		ContentType:       nonEmpty(meta.ContentType), Metadata: s3Meta(meta.UserMeta, md5hex),
	})
	if err != nil {
		return mpETag
	}
	return md5hex
}

// multipartPut uploads pr (after first) as a multipart upload and returns
// the ETag; on any failure the upload is aborted (no parts are kept).
func (b *S3) multipartPut(ctx context.Context, full string, pr *putReader, first []byte, partSize int, meta ObjectMeta) (string, error) {
	cr, err := b.c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: &b.bucket, Key: &full, ContentType: nonEmpty(meta.ContentType), Metadata: s3Meta(meta.UserMeta, ""),
	})
	if err != nil {
		return "", err
	}
	var mu sync.Mutex
	var parts []types.CompletedPart
	_, err = uploadParts(ctx, pr, first, partSize, b.conc, func(ctx context.Context, num int, data []byte) error {
		if num > maxParts {
			return fmt.Errorf("object larger than %d parts of %d bytes", maxParts, partSize)
		}
		out, err := b.c.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: &b.bucket, Key: &full, UploadId: cr.UploadId, PartNumber: aws.Int32(int32(num)),
			Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
		}, b.putOpts...)
		if err != nil {
			return err
		}
		mu.Lock()
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(int32(num))})
		mu.Unlock()
		return nil
	})
	if err == nil {
		err = pr.check()
	}
	if err == nil {
		return b.complete(ctx, full, cr.UploadId, parts)
	}
	b.abort(ctx, full, cr.UploadId)
	return "", err
}

func (b *S3) complete(ctx context.Context, full string, uploadID *string, parts []types.CompletedPart) (string, error) {
	sort.Slice(parts, func(i, j int) bool { return *parts[i].PartNumber < *parts[j].PartNumber })
	out, err := b.c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &b.bucket, Key: &full, UploadId: uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		b.abort(ctx, full, uploadID)
		return "", err
	}
	return trimETag(out.ETag), nil
}

// abort drops a multipart upload, even when ctx is already cancelled.
func (b *S3) abort(ctx context.Context, full string, uploadID *string) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	b.c.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: &b.bucket, Key: &full, UploadId: uploadID})
}
