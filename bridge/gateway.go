package bridge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/flashback-network/flashback/storage"
	vbackend "github.com/versity/versitygw/backend"
	"github.com/versity/versitygw/s3api/middlewares"
	"github.com/versity/versitygw/s3api/utils"
	"github.com/versity/versitygw/s3err"
	"github.com/versity/versitygw/s3response"
)

// gateway implements versitygw's storage.Backend on top of the units'
// storage backends: bucket = reservation, object key = "<reservation>/<key>"
// in the reservation's unit backend. Operations it does not implement answer
// NotImplemented (through the embedded BackendUnsupported).
//
// Authorization has already happened when these methods run (see iam.go);
// they enforce quota and egress and map errors to S3 ones.
type gateway struct {
	vbackend.BackendUnsupported
	b *Bridge
}

var _ vbackend.Backend = (*gateway)(nil)

// mpuDir is the hidden key prefix (inside a reservation) of pending
// multipart uploads; clients can neither see nor write keys under it.
const mpuDir = ".fb-mpu/"

func (g *gateway) String() string { return "flashback" }

// bucketRef is a resolved bucket.
type bucketRef struct {
	res Reservation
	be  storage.Backend
	st  *resState
}

func (r bucketRef) key(k string) string { return r.res.ID + "/" + encodeKey(k) }

func noSuchBucket(b string) error { return s3err.GetBucketErr(s3err.ErrNoSuchBucket, b) }

// bucket resolves a bucket name to its reservation, backend and accounting.
func (g *gateway) bucket(ctx context.Context, name string) (bucketRef, error) {
	res, be, ok := g.b.lookupRes(name)
	if !ok {
		return bucketRef{}, noSuchBucket(name)
	}
	st := g.b.state(res)
	if err := st.load(ctx, be); err != nil {
		return bucketRef{}, err
	}
	return bucketRef{res: res, be: be, st: st}, nil
}

func invalidArg(msg string) error {
	return s3err.APIError{Code: "InvalidArgument", Description: msg, HTTPStatusCode: http.StatusBadRequest}
}

func invalidKey(key, why string) error {
	return s3err.APIError{Code: "InvalidArgument", Description: fmt.Sprintf("Invalid object key %q: %s.", key, why), HTTPStatusCode: http.StatusBadRequest}
}

// objectKey validates a client's object key.
// object resolves a request's bucket and object key together.
func (g *gateway) object(ctx context.Context, bucket, key *string) (bucketRef, string, error) {
	br, err := g.bucket(ctx, deref(bucket))
	if err != nil {
		return bucketRef{}, "", err
	}
	k, err := objectKey(key)
	return br, k, err
}

func objectKey(p *string) (string, error) {
	if p == nil || *p == "" {
		return "", s3err.GetAPIError(s3err.ErrNoSuchKey)
	}
	k := *p
	if p, hidden := hiddenPrefix(k); hidden {
		return "", invalidKey(k, "the prefix "+p+" is reserved")
	}
	if len(k) > storage.MaxKeyLen {
		return "", s3err.GetKeyTooLongErr(int64(len(k)), storage.MaxKeyLen)
	}
	if err := storage.ValidateKey(encodeKey(k)); err != nil {
		return "", invalidKey(k, "not storable")
	}
	return k, nil
}

// s3Error maps a storage backend error to an S3 one.
func s3Error(err error, key string) error {
	if err == nil {
		return nil
	}
	if se, ok := asS3(err); ok {
		return se
	}
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return s3err.GetAPIError(s3err.ErrNoSuchKey)
	case errors.Is(err, storage.ErrInvalidRange):
		return s3err.GetAPIError(s3err.ErrInvalidRange)
	case errors.Is(err, storage.ErrInvalidKey):
		return invalidKey(key, "not storable")
	case errors.Is(err, storage.ErrSizeMismatch):
		return s3err.GetAPIError(s3err.ErrIncompleteBody)
	}
	return err
}

func quote(etag string) string {
	if strings.HasPrefix(etag, `"`) {
		return etag
	}
	return `"` + etag + `"`
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var z T
	if p == nil {
		return z
	}
	return *p
}

// existing returns the size and ETag of the object at bkey, if any.
func existing(ctx context.Context, be storage.Backend, bkey string) (storage.ObjectInfo, bool, error) {
	info, err := be.Head(ctx, bkey)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.ObjectInfo{}, false, nil
	}
	if err != nil {
		return storage.ObjectInfo{}, false, err
	}
	return info, true, nil
}

// ---- buckets ----

func (g *gateway) ListBuckets(_ context.Context, in s3response.ListBucketsInput) (s3response.ListAllMyBucketsResult, error) {
	out := s3response.ListAllMyBucketsResult{Owner: s3response.CanonicalUser{ID: in.Owner}}
	k, ok := g.b.cfg.Keys.Lookup(in.Owner)
	if !ok {
		return out, nil
	}
	if _, _, ok := g.b.lookupRes(k.Bucket); ok && strings.HasPrefix(k.Bucket, in.Prefix) {
		out.Buckets.Bucket = append(out.Buckets.Bucket, s3response.ListAllMyBucketsEntry{
			Name: k.Bucket, BucketRegion: g.b.region, CreationDate: g.b.started,
		})
	}
	return out, nil
}

func (g *gateway) HeadBucket(ctx context.Context, in *s3.HeadBucketInput) (*s3.HeadBucketOutput, error) {
	if _, _, ok := g.b.lookupRes(deref(in.Bucket)); !ok {
		return nil, noSuchBucket(deref(in.Bucket))
	}
	return &s3.HeadBucketOutput{BucketRegion: &g.b.region}, nil
}

// GetBucketAcl returns an empty ACL (owner: the bridge's private root, no
// grants): nothing is allowed by ACL, everything goes through iam.
func (g *gateway) GetBucketAcl(_ context.Context, in *s3.GetBucketAclInput) ([]byte, error) {
	if _, _, ok := g.b.lookupRes(deref(in.Bucket)); !ok {
		return nil, noSuchBucket(deref(in.Bucket))
	}
	return []byte("{}"), nil
}

// CreateBucket succeeds, idempotently, on an existing reservation's bucket
// (iam already checked it is the caller's): `aws s3 mb` and `rclone mkdir`
// work. Other buckets cannot be created.
func (g *gateway) CreateBucket(_ context.Context, in *s3.CreateBucketInput, _ []byte) error {
	if _, _, ok := g.b.lookupRes(deref(in.Bucket)); ok {
		return nil
	}
	return s3err.APIError{Code: "AccessDenied", Description: "Buckets are reservations: create a reservation on chain instead.", HTTPStatusCode: http.StatusForbidden}
}

func (g *gateway) DeleteBucket(_ context.Context, bucket string) error {
	if _, _, ok := g.b.lookupRes(bucket); !ok {
		return noSuchBucket(bucket)
	}
	return s3err.APIError{Code: "AccessDenied", Description: "A reservation's bucket cannot be deleted; it ends with the reservation.", HTTPStatusCode: http.StatusForbidden}
}

func (g *gateway) GetBucketVersioning(_ context.Context, bucket string) (s3response.GetBucketVersioningOutput, error) {
	if _, _, ok := g.b.lookupRes(bucket); !ok {
		return s3response.GetBucketVersioningOutput{}, noSuchBucket(bucket)
	}
	return s3response.GetBucketVersioningOutput{}, nil
}

func (g *gateway) bucketConfigMissing(bucket string, code s3err.ErrorCode) ([]byte, error) {
	if _, _, ok := g.b.lookupRes(bucket); !ok {
		return nil, noSuchBucket(bucket)
	}
	return nil, s3err.GetAPIError(code)
}

func (g *gateway) GetBucketPolicy(_ context.Context, bucket string) ([]byte, error) {
	return g.bucketConfigMissing(bucket, s3err.ErrNoSuchBucketPolicy)
}

func (g *gateway) GetObjectLockConfiguration(_ context.Context, bucket string) ([]byte, error) {
	return g.bucketConfigMissing(bucket, s3err.ErrObjectLockConfigurationNotFound)
}

func (g *gateway) GetBucketWebsite(_ context.Context, bucket string) ([]byte, error) {
	return g.bucketConfigMissing(bucket, s3err.ErrNoSuchWebsiteConfiguration)
}

func (g *gateway) GetBucketOwnershipControls(_ context.Context, bucket string) (types.ObjectOwnership, error) {
	if _, _, ok := g.b.lookupRes(bucket); !ok {
		return "", noSuchBucket(bucket)
	}
	return types.ObjectOwnershipBucketOwnerEnforced, nil
}

func (g *gateway) GetBucketTagging(_ context.Context, bucket string) (map[string]string, error) {
	_, err := g.bucketConfigMissing(bucket, s3err.ErrBucketTaggingNotFound)
	return nil, err
}

// ---- objects ----

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

// objectRange resolves a Range header against an object's size: the
// backend range (nil: whole object), the length served and the
// Content-Range header value ("" when not a range response).
func objectRange(hdr string, size int64) (*storage.Range, int64, string, error) {
	start, length, ok, err := vbackend.ParseObjectRange(size, hdr)
	if err != nil {
		return nil, 0, "", err
	}
	if !ok {
		return nil, size, "", nil
	}
	end := start + length - 1
	return &storage.Range{Start: start, End: end}, length, fmt.Sprintf("bytes %d-%d/%d", start, end, size), nil
}

func preconditions(ifMatch, ifNoneMatch *string, ifMod, ifUnmod *time.Time) vbackend.PreConditions {
	return vbackend.PreConditions{IfMatch: ifMatch, IfNoneMatch: ifNoneMatch, IfModSince: ifMod, IfUnmodeSince: ifUnmod}
}

func hasPreconditions(p vbackend.PreConditions) bool {
	return p.IfMatch != nil || p.IfNoneMatch != nil || p.IfModSince != nil || p.IfUnmodeSince != nil
}

func (g *gateway) GetObject(ctx context.Context, in *s3.GetObjectInput) (*s3.GetObjectOutput, error) {
	br, key, err := g.object(ctx, in.Bucket, in.Key)
	if err != nil {
		return nil, err
	}
	bkey := br.key(key)
	rangeHdr := deref(in.Range)
	pre := preconditions(in.IfMatch, in.IfNoneMatch, in.IfModifiedSince, in.IfUnmodifiedSince)
	var partsCount int32
	if in.PartNumber != nil {
		// versitygw refuses a Range with a partNumber: the part is the range.
		info, err := br.be.Head(ctx, bkey)
		if err != nil {
			return nil, s3Error(err, key)
		}
		if rangeHdr, partsCount, err = g.partRange(ctx, br, key, info, *in.PartNumber); err != nil {
			return nil, err
		}
	}

	var (
		rng     *storage.Range
		length  int64
		crange  string
		rc      io.ReadCloser
		info    storage.ObjectInfo
		release = func() {}
	)
	if rangeHdr == "" && !hasPreconditions(pre) && in.PartNumber == nil {
		// Fast path: one backend call.
		rc, info, err = br.be.Get(ctx, bkey, nil)
		if err != nil {
			return nil, s3Error(err, key)
		}
		length = info.Size
		if err := br.st.reserveEgress(br.res, length); err != nil {
			rc.Close()
			return nil, err
		}
	} else {
		info, err = br.be.Head(ctx, bkey)
		if err != nil {
			return nil, s3Error(err, key)
		}
		if err := vbackend.EvaluatePreconditions(info.ETag, httpTime(info.LastModified), pre); err != nil {
			return nil, notModifiedHeaders(ctx, info, err)
		}
		rng, length, crange, err = objectRange(rangeHdr, info.Size)
		if err != nil {
			return nil, err
		}
		if err := br.st.reserveEgress(br.res, length); err != nil {
			return nil, err
		}
		release = func() {
			br.st.mu.Lock()
			br.st.egressReserved -= length
			br.st.mu.Unlock()
		}
		rc, info, err = br.be.Get(ctx, bkey, rng)
		if err != nil {
			release()
			return nil, s3Error(err, key)
		}
	}
	out := getOutput(info, &egressReader{rc: rc, r: br.st, m: g.b.metrics, reserved: length, limit: length}, length)
	if crange != "" {
		out.ContentRange = &crange
	}
	if in.PartNumber != nil {
		out.PartsCount = &partsCount
	}
	if err := g.getExtras(ctx, br, key, info.UserMeta, out, in.ChecksumMode); err != nil {
		out.Body.Close()
		return nil, err
	}
	return out, nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (g *gateway) HeadObject(ctx context.Context, in *s3.HeadObjectInput) (*s3.HeadObjectOutput, error) {
	br, key, err := g.object(ctx, in.Bucket, in.Key)
	if err != nil {
		return nil, err
	}
	info, err := br.be.Head(ctx, br.key(key))
	if err != nil {
		return nil, s3Error(err, key)
	}
	rangeHdr := deref(in.Range)
	var partsCount int32
	if in.PartNumber != nil {
		if rangeHdr, partsCount, err = g.partRange(ctx, br, key, info, *in.PartNumber); err != nil {
			return nil, err
		}
	}
	if err := vbackend.EvaluatePreconditions(info.ETag, httpTime(info.LastModified),
		preconditions(in.IfMatch, in.IfNoneMatch, in.IfModifiedSince, in.IfUnmodifiedSince)); err != nil {
		return nil, notModifiedHeaders(ctx, info, err)
	}
	_, length, crange, err := objectRange(rangeHdr, info.Size)
	if err != nil {
		return nil, err
	}
	user, h := storedMeta(info)
	out := &s3.HeadObjectOutput{
		ContentLength:      &length,
		ETag:               ptr(quote(info.ETag)),
		LastModified:       ptr(info.LastModified),
		ContentType:        nonEmpty(info.ContentType),
		Metadata:           responseMeta(user),
		AcceptRanges:       ptr("bytes"),
		CacheControl:       nonEmpty(h.CacheControl),
		ExpiresString:      nonEmpty(h.Expires),
		ContentEncoding:    nonEmpty(h.ContentEncoding),
		ContentDisposition: nonEmpty(h.ContentDisposition),
		ContentLanguage:    nonEmpty(h.ContentLanguage),
	}
	if crange != "" {
		out.ContentRange = &crange
	}
	if in.PartNumber != nil {
		out.PartsCount = &partsCount
	}
	if err := g.headExtras(ctx, br, key, info.UserMeta, out, in.ChecksumMode); err != nil {
		return nil, err
	}
	return out, nil
}

func (g *gateway) DeleteObject(ctx context.Context, in *s3.DeleteObjectInput) (*s3.DeleteObjectOutput, error) {
	br, key, err := g.object(ctx, in.Bucket, in.Key)
	if err != nil {
		return nil, err
	}
	if err := g.deleteKey(ctx, br, br.key(key)); err != nil {
		return nil, s3Error(err, key)
	}
	if err := g.putExtra(ctx, br, key, objectExtra{}); err != nil {
		return nil, err
	}
	return &s3.DeleteObjectOutput{}, nil
}

func (g *gateway) DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput) (s3response.DeleteResult, error) {
	var out s3response.DeleteResult
	br, err := g.bucket(ctx, deref(in.Bucket))
	if err != nil {
		return out, err
	}
	if in.Delete == nil {
		return out, nil
	}
	if err := checkDeleteCount(len(in.Delete.Objects)); err != nil {
		return out, err
	}
	for _, obj := range in.Delete.Objects {
		key, err := objectKey(obj.Key)
		if err == nil {
			err = s3Error(g.deleteKey(ctx, br, br.key(key)), key)
		}
		if err == nil {
			err = g.putExtra(ctx, br, key, objectExtra{})
		}
		if err != nil {
			code, msg := "InternalError", err.Error()
			if se, ok := err.(s3err.S3Error); ok {
				code, msg = se.BaseError().Code, se.BaseError().Description
			}
			out.Error = append(out.Error, types.Error{Key: obj.Key, Code: &code, Message: &msg})
			continue
		}
		out.Deleted = append(out.Deleted, types.DeletedObject{Key: obj.Key})
	}
	return out, nil
}

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
	if src.be == dst.be && !replace {
		// Native copy, under the destination's quota.
		info, err = g.replaceKey(ctx, dst, bkey, keyWrite{size: sinfo.Size, reserve: true,
			op: func(ctx context.Context) (storage.ObjectInfo, error) {
				return dst.be.Copy(ctx, src.key(srcKey), bkey)
			}})
		if err != nil {
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
		info, err = g.write(ctx, dst, bkey, rc, sinfo2.Size, meta, nil)
		if err != nil {
			return out, err
		}
		// Not client ingress: undo what write counted.
		dst.st.ingress.Add(-info.Size)
	}
	if err := g.afterWrite(ctx, dst, dstKey, info, ex.sum, ex.tags, ex.parts); err != nil {
		return out, err
	}
	out.CopyObjectResult = &s3response.CopyObjectResult{ETag: ptr(quote(info.ETag)), LastModified: ptr(info.LastModified)}
	return out, nil
}

// ---- listing ----

// listEntry is one entry of a listing: an object or a common prefix.
type listEntry struct {
	obj    *storage.ObjectInfo // key relative to the bucket
	prefix string
}

func (e listEntry) name() string {
	if e.obj != nil {
		return e.obj.Key
	}
	return e.prefix
}

// maxUTF8 sorts after every valid UTF-8 continuation of a key.
const maxUTF8 = "\U0010FFFF"

// list returns up to max entries after marker (exclusive) under prefix,
// rolling keys up to common prefixes at delimiter, hiding multipart parts,
// and whether more entries follow.
func (g *gateway) list(ctx context.Context, br bucketRef, prefix, delimiter, marker string, max int) ([]listEntry, bool, error) {
	if max <= 0 {
		return nil, false, nil
	}
	base := br.res.ID + "/"
	after := ""
	if marker != "" {
		after = base + encodeKey(marker)
	}
	// A marker that is a common prefix: skip everything under it.
	if delimiter != "" && marker != "" && strings.HasPrefix(marker, prefix) && strings.HasSuffix(marker, delimiter) {
		after = base + encodeKey(marker) + maxUTF8
	}
	var out []listEntry
	lastPrefix := ""
	// One entry more than a page: a full page then tells it is truncated
	// without another (empty) backend list.
	batchLen := max + 1
	for {
		batch, err := br.be.List(ctx, base+encodePrefix(prefix), after, batchLen)
		if err != nil {
			return nil, false, err
		}
		for i := range batch {
			o := batch[i]
			rel := strings.TrimPrefix(o.Key, base)
			after = o.Key
			if p, hidden := hiddenPrefix(rel); hidden {
				after = base + p + maxUTF8
				break
			}
			rel = decodeKey(rel)
			if !strings.HasPrefix(rel, prefix) || (marker != "" && rel <= marker) {
				continue
			}
			if delimiter != "" {
				if i := strings.Index(rel[len(prefix):], delimiter); i >= 0 {
					cp := rel[:len(prefix)+i+len(delimiter)]
					if cp == lastPrefix || (marker != "" && cp <= marker) {
						continue
					}
					if len(out) == max {
						return out, true, nil
					}
					lastPrefix = cp
					out = append(out, listEntry{prefix: cp})
					after = base + encodeKey(cp) + maxUTF8
					break
				}
			}
			if len(out) == max {
				return out, true, nil
			}
			o.Key = rel
			out = append(out, listEntry{obj: &o})
		}
		if len(batch) == 0 {
			return out, false, nil
		}
		// Re-list from the new position unless the batch was exhausted
		// without jumping and was short (end of listing).
		if len(batch) < batchLen && after == batch[len(batch)-1].Key {
			return out, false, nil
		}
	}
}

func toObjects(entries []listEntry) ([]s3response.Object, []types.CommonPrefix) {
	var objs []s3response.Object
	var cps []types.CommonPrefix
	for _, e := range entries {
		if e.obj != nil {
			o := e.obj
			objs = append(objs, s3response.Object{
				Key: ptr(o.Key), ETag: ptr(quote(o.ETag)), Size: ptr(o.Size),
				LastModified: ptr(o.LastModified), StorageClass: types.ObjectStorageClassStandard,
			})
		} else {
			cps = append(cps, types.CommonPrefix{Prefix: ptr(e.prefix)})
		}
	}
	return objs, cps
}

func maxKeys(p *int32) int {
	if p == nil || *p < 0 || *p > 1000 {
		return 1000
	}
	return int(*p)
}

func (g *gateway) ListObjects(ctx context.Context, in *s3.ListObjectsInput) (s3response.ListObjectsResult, error) {
	br, err := g.bucket(ctx, deref(in.Bucket))
	if err != nil {
		return s3response.ListObjectsResult{}, err
	}
	max := maxKeys(in.MaxKeys)
	entries, truncated, err := g.list(ctx, br, deref(in.Prefix), deref(in.Delimiter), deref(in.Marker), max)
	if err != nil {
		return s3response.ListObjectsResult{}, s3Error(err, "")
	}
	objs, cps := toObjects(entries)
	out := s3response.ListObjectsResult{
		Name: in.Bucket, Prefix: in.Prefix, Marker: in.Marker, MaxKeys: ptr(int32(max)),
		Delimiter: in.Delimiter, IsTruncated: &truncated, Contents: objs, CommonPrefixes: cps,
	}
	if truncated && len(entries) > 0 {
		out.NextMarker = ptr(entries[len(entries)-1].name())
	}
	if err := finishListV1(ctx, br, &out); err != nil {
		return s3response.ListObjectsResult{}, err
	}
	return out, nil
}

func (g *gateway) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input) (s3response.ListObjectsV2Result, error) {
	br, err := g.bucket(ctx, deref(in.Bucket))
	if err != nil {
		return s3response.ListObjectsV2Result{}, err
	}
	max := maxKeys(in.MaxKeys)
	marker := deref(in.StartAfter)
	if tok := deref(in.ContinuationToken); tok != "" {
		m, err := decodeToken(tok)
		if err != nil {
			return s3response.ListObjectsV2Result{}, invalidArg("The continuation token provided is incorrect.")
		}
		marker = m
	}
	entries, truncated, err := g.list(ctx, br, deref(in.Prefix), deref(in.Delimiter), marker, max)
	if err != nil {
		return s3response.ListObjectsV2Result{}, s3Error(err, "")
	}
	objs, cps := toObjects(entries)
	out := s3response.ListObjectsV2Result{
		Name: in.Bucket, Prefix: in.Prefix, MaxKeys: ptr(int32(max)), Delimiter: in.Delimiter,
		IsTruncated: &truncated, Contents: objs, CommonPrefixes: cps, KeyCount: ptr(int32(len(entries))),
	}
	if deref(in.ContinuationToken) != "" {
		out.ContinuationToken = in.ContinuationToken
	}
	if deref(in.StartAfter) != "" {
		out.StartAfter = in.StartAfter
	}
	if truncated && len(entries) > 0 {
		out.NextContinuationToken = ptr(encodeToken(entries[len(entries)-1].name()))
	}
	if err := finishListV2(ctx, br, deref(in.FetchOwner), &out); err != nil {
		return s3response.ListObjectsV2Result{}, err
	}
	return out, nil
}
