package bridge

import (
	"context"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	vbackend "github.com/versity/versitygw/backend"
	"github.com/versity/versitygw/s3err"
)

// Object tags live in the object's extras (see extras.go): they can change
// without the content. S3's limits apply: at most maxObjectTags tags, keys
// of 1 to 128 and values of at most 256 characters (Unicode characters,
// counted after URL decoding).
const (
	maxObjectTags = 10
	maxTagKeyLen  = 128
	maxTagValLen  = 256
)

// checkTags enforces S3's limits on an object's tag set.
func checkTags(tags map[string]string) error {
	if len(tags) > maxObjectTags {
		return s3err.GetAPIError(s3err.ErrObjectTaggingLimited)
	}
	for k, v := range tags {
		if n := utf8.RuneCountInString(k); n == 0 || n > maxTagKeyLen {
			return s3err.GetInvalidTagErr(s3err.ErrInvalidTagKey, k, "")
		}
		if utf8.RuneCountInString(v) > maxTagValLen {
			return s3err.GetInvalidTagErr(s3err.ErrInvalidTagValue, k, v)
		}
	}
	return nil
}

// parseTagHeader parses and checks an x-amz-tagging header (URL query form).
func parseTagHeader(h *string) (map[string]string, error) {
	tags, err := vbackend.ParseObjectTags(deref(h))
	if err != nil {
		return nil, err
	}
	if err := checkTags(tags); err != nil {
		return nil, err
	}
	if len(tags) == 0 {
		return nil, nil
	}
	return tags, nil
}

// noVersions refuses a versionId other than the null version: reservations
// are not versioned.
func noVersions(key, versionID string) error {
	if versionID != "" && versionID != "null" {
		return s3err.GetNoSuchVersionErr(key, versionID)
	}
	return nil
}

// taggedObject resolves an object that must exist for a tagging call.
func (g *gateway) taggedObject(ctx context.Context, bucket, object, versionID string) (bucketRef, string, error) {
	br, key, err := g.object(ctx, &bucket, &object)
	if err != nil {
		return br, key, err
	}
	if err := noVersions(key, versionID); err != nil {
		return br, key, err
	}
	if _, err := br.be.Head(ctx, br.key(key)); err != nil {
		return br, key, s3Error(err, key)
	}
	return br, key, nil
}

func (g *gateway) GetObjectTagging(ctx context.Context, bucket, object, versionID string) (map[string]string, error) {
	br, key, err := g.taggedObject(ctx, bucket, object, versionID)
	if err != nil {
		return nil, err
	}
	e, err := g.getExtra(ctx, br, key)
	if err != nil {
		return nil, err
	}
	if e.Tags == nil {
		return map[string]string{}, nil
	}
	return e.Tags, nil
}

// setTags replaces the tags of an existing object, keeping its other extras.
func (g *gateway) setTags(ctx context.Context, bucket, object, versionID string, tags map[string]string) error {
	br, key, err := g.taggedObject(ctx, bucket, object, versionID)
	if err != nil {
		return err
	}
	unlock := g.b.locks.lock(extraKey(br, key) + "#tags")
	defer unlock()
	e, err := g.getExtra(ctx, br, key)
	if err != nil {
		return err
	}
	e.Tags = tags
	return g.putExtra(ctx, br, key, e)
}

func (g *gateway) PutObjectTagging(ctx context.Context, bucket, object, versionID string, tags map[string]string) error {
	if err := checkTags(tags); err != nil {
		return err
	}
	return g.setTags(ctx, bucket, object, versionID, tags)
}

func (g *gateway) DeleteObjectTagging(ctx context.Context, bucket, object, versionID string) error {
	return g.setTags(ctx, bucket, object, versionID, nil)
}

// copyTags is the tag set of a CopyObject's destination: the source's
// (directive COPY, the default) or the request's x-amz-tagging (REPLACE).
func (g *gateway) copyTags(ctx context.Context, src bucketRef, srcKey string, directive types.TaggingDirective, header *string) (map[string]string, error) {
	if directive == types.TaggingDirectiveReplace {
		return parseTagHeader(header)
	}
	e, err := g.getExtra(ctx, src, srcKey)
	return e.Tags, err
}

// tagCount is an object's number of tags for x-amz-tagging-count (nil when
// it has none; no backend call for objects without extras).
func (g *gateway) tagCount(ctx context.Context, br bucketRef, key string) (*int32, error) {
	e, err := g.getExtra(ctx, br, key)
	if err != nil || len(e.Tags) == 0 {
		return nil, err
	}
	return ptr(int32(len(e.Tags))), nil
}
