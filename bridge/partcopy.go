package bridge

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/flashback-network/flashback/storage"
	vbackend "github.com/versity/versitygw/backend"
	"github.com/versity/versitygw/s3err"
	"github.com/versity/versitygw/s3response"
)

// UploadPartCopy makes part N of an upload from a byte range (or all) of an
// existing object. Authorization has been checked by versitygw (write on
// the destination, read on the source; a key reaches only its own
// reservation); the part is written like an uploaded one: under the
// destination's quota, with the upload's checksum algorithm. The bytes come
// from the bridge's own storage, so they are not client ingress.
func (g *gateway) UploadPartCopy(ctx context.Context, in *s3.UploadPartCopyInput) (s3response.CopyPartResult, error) {
	var out s3response.CopyPartResult
	br, key, err := g.object(ctx, in.Bucket, in.Key)
	if err != nil {
		return out, err
	}
	id := deref(in.UploadId)
	m, err := g.upload(ctx, br, id, key)
	if err != nil {
		return out, err
	}
	n := deref(in.PartNumber)
	if n < 1 || n > 10000 {
		return out, s3err.GetInvalidArgumentErr(s3err.InvalidArgPartNumber, strconv.Itoa(int(n)))
	}
	src, srcKey, err := g.copySource(ctx, deref(in.CopySource))
	if err != nil {
		return out, err
	}
	sinfo, err := src.be.Head(ctx, src.key(srcKey))
	if err != nil {
		return out, s3Error(err, srcKey)
	}
	if err := vbackend.EvaluatePreconditions(sinfo.ETag, sinfo.LastModified, preconditions(
		in.CopySourceIfMatch, in.CopySourceIfNoneMatch, in.CopySourceIfModifiedSince, in.CopySourceIfUnmodifiedSince)); err != nil {
		if errors.Is(err, s3err.GetAPIError(s3err.ErrNotModified)) {
			return out, s3err.GetPreconditionFailedErr(s3err.ConditionIfNoneMatch)
		}
		return out, err
	}
	rng, length, err := copySourceRange(deref(in.CopySourceRange), sinfo.Size)
	if err != nil {
		return out, err
	}
	rc, _, err := src.be.Get(ctx, src.key(srcKey), rng)
	if err != nil {
		return out, s3Error(err, srcKey)
	}
	defer rc.Close()
	body, sum, err := partBody(m, rc, func() (types.ChecksumAlgorithm, string) { return "", "" })
	if err != nil {
		return out, err
	}
	var meta storage.ObjectMeta
	sealChecksum(&meta, sum, false)
	// The part goes where UploadPart would put it: into the backend's own
	// upload when there is one (else completion would not see it).
	var info storage.ObjectInfo
	if m.Native != "" {
		info, err = g.nativePart(ctx, br, m, n, body, length)
	} else {
		info, err = g.write(ctx, br, partKey(br, id, n), body, length, meta, nil)
	}
	if err != nil {
		return out, err
	}
	br.st.ingress.Add(-info.Size)
	if err := g.partStillWanted(ctx, br, id, key, n); err != nil {
		return out, err
	}
	a, v := sum()
	if err := g.keepPartSum(ctx, br, id, n, info, objChecksum{algo: a, typ: types.ChecksumTypeFullObject, value: v}); err != nil {
		return out, err
	}
	f := toFields(a, v)
	return s3response.CopyPartResult{
		LastModified: info.LastModified, ETag: ptr(quote(info.ETag)),
		ChecksumCRC32: f.CRC32, ChecksumCRC32C: f.CRC32C, ChecksumCRC64NVME: f.CRC64NVME, ChecksumSHA1: f.SHA1, ChecksumSHA256: f.SHA256,
	}, nil
}

// copySource resolves an x-amz-copy-source header to a bucket and key.
func (g *gateway) copySource(ctx context.Context, hdr string) (bucketRef, string, error) {
	bucket, obj, versionID, err := vbackend.ParseCopySource(hdr)
	if err != nil {
		return bucketRef{}, "", err
	}
	if err := noVersions(obj, versionID); err != nil {
		return bucketRef{}, "", err
	}
	src, err := g.bucket(ctx, bucket)
	if err != nil {
		return bucketRef{}, "", err
	}
	key, err := objectKey(&obj)
	return src, key, err
}

// copySourceRange parses x-amz-copy-source-range: "bytes=first-last", both
// given, within the source (S3 refuses an open-ended range). Empty: the
// whole source.
func copySourceRange(hdr string, size int64) (*storage.Range, int64, error) {
	if hdr == "" {
		return nil, size, nil
	}
	if strings.HasSuffix(hdr, "-") {
		return nil, 0, s3err.GetInvalidArgumentErr(s3err.InvalidArgCopySourceRange, hdr)
	}
	start, length, err := vbackend.ParseCopySourceRange(size, hdr)
	if err != nil {
		return nil, 0, err
	}
	return &storage.Range{Start: start, End: start + length - 1}, length, nil
}
