package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

var _ Uploader = (*S3)(nil)

// CreateUpload starts a multipart upload on the backend bucket.
func (b *S3) CreateUpload(ctx context.Context, key string, meta ObjectMeta) (string, error) {
	ctx = detach(ctx)
	full, err := b.full(key)
	if err != nil {
		return "", err
	}
	out, err := b.c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: &b.bucket, Key: &full, ContentType: nonEmpty(meta.ContentType), Metadata: s3Meta(meta.UserMeta, ""),
	})
	if err != nil {
		return "", s3Err(err, key)
	}
	return aws.ToString(out.UploadId), nil
}

// PutUploadPart streams one part straight into the backend's upload.
func (b *S3) PutUploadPart(ctx context.Context, key, uploadID string, num int, r io.Reader, size int64) (UploadPart, error) {
	ctx = detach(ctx)
	full, err := b.full(key)
	if err != nil {
		return UploadPart{}, err
	}
	if num < 1 || num > maxParts {
		return UploadPart{}, fmt.Errorf("backend s3: part number %d out of 1..%d", num, maxParts)
	}
	if size < 0 {
		return UploadPart{}, fmt.Errorf("backend s3: part %d has no declared size", num)
	}
	pr := newPutReader(ctx, r, size, false)
	var body io.Reader = pr
	if size == 0 {
		if _, err := pr.Read(nil); err != io.EOF {
			return UploadPart{}, err
		}
		body = http.NoBody
	}
	out, err := b.c.UploadPart(ctx, &s3.UploadPartInput{
		Bucket: &b.bucket, Key: &full, UploadId: &uploadID, PartNumber: aws.Int32(int32(num)),
		Body: body, ContentLength: aws.Int64(size),
	}, b.putOpts...)
	if cerr := pr.check(); cerr != nil && err != nil {
		return UploadPart{}, cerr
	}
	if err != nil {
		return UploadPart{}, s3Err(err, key)
	}
	return UploadPart{Num: num, ETag: trimETag(out.ETag), Size: size, LastModified: time.Now().UTC()}, nil
}

// UploadParts lists the backend upload's parts.
func (b *S3) UploadParts(ctx context.Context, key, uploadID string) ([]UploadPart, error) {
	ctx = detach(ctx)
	full, err := b.full(key)
	if err != nil {
		return nil, err
	}
	in := &s3.ListPartsInput{Bucket: &b.bucket, Key: &full, UploadId: &uploadID}
	var out []UploadPart
	for {
		page, err := b.c.ListParts(ctx, in)
		if err != nil {
			return nil, s3UploadErr(err, key)
		}
		for _, p := range page.Parts {
			out = append(out, UploadPart{Num: int(aws.ToInt32(p.PartNumber)), ETag: trimETag(p.ETag),
				Size: aws.ToInt64(p.Size), LastModified: aws.ToTime(p.LastModified).UTC()})
		}
		if !aws.ToBool(page.IsTruncated) || page.NextPartNumberMarker == nil {
			return out, nil
		}
		in.PartNumberMarker = page.NextPartNumberMarker
	}
}

// CompleteUpload completes the backend's upload: metadata work only.
func (b *S3) CompleteUpload(ctx context.Context, key, uploadID string, parts []UploadPart) (ObjectInfo, error) {
	ctx = detach(ctx)
	full, err := b.full(key)
	if err != nil {
		return ObjectInfo{}, err
	}
	cps := make([]types.CompletedPart, len(parts))
	var total int64
	for i, p := range parts {
		cps[i] = types.CompletedPart{PartNumber: aws.Int32(int32(p.Num)), ETag: aws.String(`"` + p.ETag + `"`)}
		total += p.Size
	}
	out, err := b.c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &b.bucket, Key: &full, UploadId: &uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: cps},
	})
	if err != nil {
		return ObjectInfo{}, s3UploadErr(err, key)
	}
	return ObjectInfo{Key: key, Size: total, ETag: trimETag(out.ETag), LastModified: time.Now().UTC()}, nil
}

// AbortUpload drops the backend's upload.
func (b *S3) AbortUpload(ctx context.Context, key, uploadID string) error {
	ctx = detach(ctx)
	full, err := b.full(key)
	if err != nil {
		return err
	}
	_, err = b.c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &b.bucket, Key: &full, UploadId: &uploadID})
	if err = s3UploadErr(err, key); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}

// s3UploadErr maps NoSuchUpload to ErrNotFound, else like s3Err.
func s3UploadErr(err error, key string) error {
	var nsu *types.NoSuchUpload
	var ae smithy.APIError
	if errors.As(err, &nsu) || (errors.As(err, &ae) && ae.ErrorCode() == "NoSuchUpload") {
		return fmt.Errorf("%w: upload of %q", ErrNotFound, key)
	}
	return s3Err(err, key)
}
