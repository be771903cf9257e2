package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func (b *S3) Get(ctx context.Context, key string, rng *Range) (io.ReadCloser, ObjectInfo, error) {
	ctx = detach(ctx)
	full, err := b.full(key)
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	if err := checkRangeArg(rng); err != nil {
		return nil, ObjectInfo{}, err
	}
	in := &s3.GetObjectInput{Bucket: &b.bucket, Key: &full}
	if rng != nil {
		in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", rng.Start, rng.End))
	}
	out, err := b.c.GetObject(ctx, in)
	if err != nil {
		return nil, ObjectInfo{}, s3Err(err, key)
	}
	size := aws.ToInt64(out.ContentLength)
	if rng != nil {
		// Content-Range: bytes START-END/TOTAL
		cr := aws.ToString(out.ContentRange)
		i := strings.LastIndexByte(cr, '/')
		total, perr := strconv.ParseInt(cr[i+1:], 10, 64)
		if i < 0 || perr != nil {
			out.Body.Close()
			return nil, ObjectInfo{}, fmt.Errorf("backend s3: %q: bad Content-Range %q", key, cr)
		}
		size = total
	}
	user, etag := splitMeta(out.Metadata)
	if etag == "" {
		etag = trimETag(out.ETag)
	}
	return out.Body, ObjectInfo{
		Key: key, Size: size, ETag: etag, LastModified: aws.ToTime(out.LastModified).UTC(),
		ContentType: aws.ToString(out.ContentType), UserMeta: user,
	}, nil
}

func (b *S3) Head(ctx context.Context, key string) (ObjectInfo, error) {
	ctx = detach(ctx)
	info, _, err := b.head(ctx, key)
	return info, err
}

// head returns the object's info and its native (quoted) ETag.
func (b *S3) head(ctx context.Context, key string) (ObjectInfo, *string, error) {
	full, err := b.full(key)
	if err != nil {
		return ObjectInfo{}, nil, err
	}
	out, err := b.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b.bucket, Key: &full})
	if err != nil {
		return ObjectInfo{}, nil, s3Err(err, key)
	}
	user, etag := splitMeta(out.Metadata)
	if etag == "" {
		etag = trimETag(out.ETag)
	}
	return ObjectInfo{
		Key: key, Size: aws.ToInt64(out.ContentLength), ETag: etag, LastModified: aws.ToTime(out.LastModified).UTC(),
		ContentType: aws.ToString(out.ContentType), UserMeta: user,
	}, out.ETag, nil
}

func (b *S3) Delete(ctx context.Context, key string) error {
	ctx = detach(ctx)
	full, err := b.full(key)
	if err != nil {
		return err
	}
	_, err = b.c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b.bucket, Key: &full})
	if err = s3Err(err, key); errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

func (b *S3) List(ctx context.Context, prefix, startAfter string, limit int) ([]ObjectInfo, error) {
	ctx = detach(ctx)
	if err := validateListArg(prefix); err != nil {
		return nil, err
	}
	if err := validateListArg(startAfter); err != nil {
		return nil, err
	}
	limit = listLimit(limit)
	in := &s3.ListObjectsV2Input{Bucket: &b.bucket, Prefix: aws.String(b.prefix + prefix)}
	if startAfter != "" {
		in.StartAfter = aws.String(b.prefix + startAfter)
	}
	var out []ObjectInfo
	for len(out) < limit {
		in.MaxKeys = aws.Int32(int32(min(limit-len(out), 1000)))
		page, err := b.c.ListObjectsV2(ctx, in)
		if err != nil {
			return nil, s3Err(err, prefix)
		}
		for _, o := range page.Contents {
			k := strings.TrimPrefix(aws.ToString(o.Key), b.prefix)
			out = append(out, ObjectInfo{
				Key: k, Size: aws.ToInt64(o.Size), ETag: trimETag(o.ETag), LastModified: aws.ToTime(o.LastModified).UTC(),
			})
		}
		if !aws.ToBool(page.IsTruncated) || page.NextContinuationToken == nil {
			break
		}
		in.ContinuationToken = page.NextContinuationToken
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
