package bridge

import (
	"context"
	"io"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/flashback-network/flashback/storage"
	vbackend "github.com/versity/versitygw/backend"
	"github.com/versity/versitygw/s3api/middlewares"
	"github.com/versity/versitygw/s3api/utils"
	"github.com/versity/versitygw/s3err"
	"github.com/versity/versitygw/s3response"
)

// bodyChecksum prepares checksum verification of a PutObject or UploadPart
// body: a trailing checksum (aws-chunked) is verified by versitygw's chunk
// reader; a checksum header is verified here with a hash reader, which
// fails the read at EOF with BadDigest. It returns the reader to store and a
// function giving the (algorithm, value) to echo once the body is read.
func bodyChecksum(body io.Reader, algo types.ChecksumAlgorithm, sums map[types.ChecksumAlgorithm]*string) (io.Reader, func() (types.ChecksumAlgorithm, string), error) {
	if body == nil {
		return http.NoBody, func() (types.ChecksumAlgorithm, string) { return "", "" }, nil
	}
	if cr, ok := body.(middlewares.ChecksumReader); ok && cr.Algorithm() != "" {
		return body, func() (types.ChecksumAlgorithm, string) {
			return types.ChecksumAlgorithm(strings.ToUpper(cr.Algorithm())), cr.Checksum()
		}, nil
	}
	for a, v := range sums {
		if v == nil || *v == "" {
			continue
		}
		hr, err := utils.NewHashReader(body, *v, utils.HashType(strings.ToLower(string(a))))
		if err != nil {
			return nil, nil, err
		}
		val := *v
		return hr, func() (types.ChecksumAlgorithm, string) { return a, val }, nil
	}
	return body, func() (types.ChecksumAlgorithm, string) { return "", "" }, nil
}

// checksumFields is the output form of one checksum.
type checksumFields struct {
	CRC32, CRC32C, CRC64NVME, SHA1, SHA256 *string
}

func toFields(a types.ChecksumAlgorithm, v string) checksumFields {
	var f checksumFields
	if v == "" {
		return f
	}
	switch a {
	case types.ChecksumAlgorithmCrc32:
		f.CRC32 = &v
	case types.ChecksumAlgorithmCrc32c:
		f.CRC32C = &v
	case types.ChecksumAlgorithmCrc64nvme:
		f.CRC64NVME = &v
	case types.ChecksumAlgorithmSha1:
		f.SHA1 = &v
	case types.ChecksumAlgorithmSha256:
		f.SHA256 = &v
	}
	return f
}

// write stores body (size bytes) at bkey under the reservation's quota: the
// quota is checked before any byte is read, the body is limited to size,
// and on any failure nothing is visible and nothing is charged. It returns
// the stored object's info.
func (g *gateway) write(ctx context.Context, br bucketRef, bkey string, body io.Reader, size int64,
	meta storage.ObjectMeta, check func(old storage.ObjectInfo, exists bool) error) (storage.ObjectInfo, error) {
	if size < 0 {
		return storage.ObjectInfo{}, s3err.GetAPIError(s3err.ErrMissingContentLength)
	}
	w := keyWrite{size: size, reserve: true, check: check,
		op: func(ctx context.Context) (storage.ObjectInfo, error) {
			lb := &limitedBody{r: body, max: size, res: br.st, m: g.b.metrics}
			info, err := br.be.Put(ctx, bkey, lb, size, meta)
			return info, s3Error(bodyError(lb, err), br.name(bkey))
		}}
	if rp, ok := br.be.(storage.Replacer); ok {
		w.replace = func(ctx context.Context) (storage.ObjectInfo, storage.Replaced, error) {
			lb := &limitedBody{r: body, max: size, res: br.st, m: g.b.metrics}
			info, old, err := rp.PutReplace(ctx, bkey, lb, size, meta)
			return info, old, s3Error(bodyError(lb, err), br.name(bkey))
		}
	}
	info, err := g.replaceKey(ctx, br, bkey, w)
	if err != nil {
		return storage.ObjectInfo{}, err
	}
	br.st.ingress.Add(info.Size)
	return info, nil
}

func (g *gateway) PutObject(ctx context.Context, in s3response.PutObjectInput) (s3response.PutObjectOutput, error) {
	br, key, err := g.object(ctx, in.Bucket, in.Key)
	if err != nil {
		return s3response.PutObjectOutput{}, err
	}
	body, sum, err := bodyChecksum(in.Body, in.ChecksumAlgorithm, map[types.ChecksumAlgorithm]*string{
		types.ChecksumAlgorithmCrc32: in.ChecksumCRC32, types.ChecksumAlgorithmCrc32c: in.ChecksumCRC32C,
		types.ChecksumAlgorithmSha1: in.ChecksumSHA1, types.ChecksumAlgorithmSha256: in.ChecksumSHA256,
		types.ChecksumAlgorithmCrc64nvme: in.ChecksumCRC64NVME,
	})
	if err != nil {
		return s3response.PutObjectOutput{}, err
	}
	body, digest, release := g.digestBody(body, deref(in.ContentLength), in.Body)
	defer release()
	if err := checkStorageClass(requestHeader(ctx, "X-Amz-Storage-Class")); err != nil {
		return s3response.PutObjectOutput{}, err
	}
	tags, err := parseTagHeader(in.Tagging)
	if err != nil {
		return s3response.PutObjectOutput{}, err
	}
	meta, err := objectMeta(deref(in.ContentType), in.Metadata,
		newObjectHeaders(in.CacheControl, in.Expires, in.ContentEncoding, in.ContentDisposition, in.ContentLanguage))
	if err != nil {
		return s3response.PutObjectOutput{}, err
	}
	sealChecksum(&meta, sum, headerChecksum(in.ChecksumCRC32, in.ChecksumCRC32C, in.ChecksumCRC64NVME, in.ChecksumSHA1, in.ChecksumSHA256))
	var check func(storage.ObjectInfo, bool) error
	if in.IfMatch != nil || in.IfNoneMatch != nil { // else nothing to check: no Head needed
		check = func(old storage.ObjectInfo, exists bool) error {
			return vbackend.EvaluateObjectPutPreconditions(old.ETag, in.IfMatch, in.IfNoneMatch, exists)
		}
	}
	info, err := g.write(ctx, br, br.key(key), body, deref(in.ContentLength), meta, check)
	if err != nil {
		return s3response.PutObjectOutput{}, err
	}
	a, v := sum()
	if err := g.afterWrite(ctx, br, key, info, objChecksum{algo: a, typ: types.ChecksumTypeFullObject, value: v}, tags, nil); err != nil {
		return s3response.PutObjectOutput{}, err
	}
	g.putReceipt(ctx, br, key, info, digest, nil)
	f := toFields(a, v)
	out := s3response.PutObjectOutput{
		ETag: quote(info.ETag), Size: &info.Size,
		ChecksumCRC32: f.CRC32, ChecksumCRC32C: f.CRC32C, ChecksumCRC64NVME: f.CRC64NVME,
		ChecksumSHA1: f.SHA1, ChecksumSHA256: f.SHA256,
	}
	if v != "" {
		out.ChecksumType = types.ChecksumTypeFullObject
	}
	return out, nil
}
