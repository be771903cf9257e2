package bridge

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/flashback-network/flashback/storage"
	vbackend "github.com/versity/versitygw/backend"
	"github.com/versity/versitygw/s3err"
	"github.com/versity/versitygw/s3response"
)

func (g *gateway) CopyObject(ctx context.Context, in s3response.CopyObjectInput) (s3response.CopyObjectOutput, error) {
	var out s3response.CopyObjectOutput
	dst, dstKey, err := g.object(ctx, in.Bucket, in.Key)
	if err != nil {
		return out, err
	}
	src, srcKey, err := g.copySource(ctx, deref(in.CopySource))
	if err != nil {
		return out, err
	}
	sinfo, err := src.be.Head(ctx, src.key(srcKey))
	if err != nil {
		return out, s3Error(err, srcKey)
	}
	if err := vbackend.EvaluatePreconditions(sinfo.ETag, httpTime(sinfo.LastModified), preconditions(
		in.CopySourceIfMatch, in.CopySourceIfNoneMatch, in.CopySourceIfModifiedSince, in.CopySourceIfUnmodifiedSince)); err != nil {
		if errors.Is(err, s3err.GetAPIError(s3err.ErrNotModified)) {
			return out, s3err.GetPreconditionFailedErr(s3err.ConditionIfNoneMatch)
		}
		return out, err
	}
	if err := checkStorageClass(string(in.StorageClass)); err != nil {
		return out, err
	}
	replace := in.MetadataDirective == types.MetadataDirectiveReplace
	sameObject := src.res.ID == dst.res.ID && srcKey == dstKey
	ex, err := g.copyExtras(ctx, src, srcKey, sinfo, in)
	if err != nil {
		return out, err
	}
	if sameObject && !replace {
		return out, s3err.GetAPIError(s3err.ErrInvalidCopyDest)
	}

	bkey := dst.key(dstKey)
	var info storage.ObjectInfo
	var digest bodyDigest
	if src.be == dst.be && !replace {
		if info, digest, err = g.nativeCopy(ctx, src, srcKey, dst, bkey, sinfo.Size); err != nil {
			return out, s3Error(err, dstKey)
		}
	} else {
		// Stream the source into a Put (new metadata, or another backend).
		rc, sinfo2, err := src.be.Get(ctx, src.key(srcKey), nil)
		if err != nil {
			return out, s3Error(err, srcKey)
		}
		defer rc.Close()
		meta := storage.ObjectMeta{ContentType: sinfo2.ContentType, UserMeta: sinfo2.UserMeta}
		if replace {
			meta, err = objectMeta(deref(in.ContentType), in.Metadata,
				newObjectHeaders(in.CacheControl, in.Expires, in.ContentEncoding, in.ContentDisposition, in.ContentLanguage))
			if err != nil {
				return out, err
			}
		}
		meta.UserMeta = ex.streamed(meta.UserMeta)
		body, d, release := g.digestBody(rc, sinfo2.Size)
		defer release()
		digest = d
		info, err = g.write(ctx, dst, bkey, body, sinfo2.Size, meta, nil)
		if err != nil {
			return out, err
		}
		// Not client ingress: undo what write counted.
		dst.st.ingress.Add(-info.Size)
	}
	if err := g.afterWrite(ctx, dst, dstKey, info, ex.sum, ex.tags, ex.parts); err != nil {
		return out, err
	}
	g.putReceipt(ctx, dst, dstKey, info, digest, nil)
	out.CopyObjectResult = &s3response.CopyObjectResult{ETag: ptr(quote(info.ETag)), LastModified: ptr(info.LastModified)}
	return out, nil
}

// nativeCopy copies within one backend, under the destination's quota,
// and returns the copy's digest for its receipt (nil when the bridge signs
// none): no byte passed through, so the copy is read back to hash it.
func (g *gateway) nativeCopy(ctx context.Context, src bucketRef, srcKey string, dst bucketRef, bkey string, size int64) (storage.ObjectInfo, bodyDigest, error) {
	info, err := g.replaceKey(ctx, dst, bkey, keyWrite{size: size, reserve: true,
		op: func(ctx context.Context) (storage.ObjectInfo, error) {
			return dst.be.Copy(ctx, src.key(srcKey), bkey)
		}})
	if err != nil || !g.signing() {
		return info, nil, err
	}
	digest, _ := hashStored(ctx, dst, bkey, info.ETag)
	return info, digest, nil
}
