package storage

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// S3Config configures a backend on an S3 or S3-compatible bucket.
type S3Config struct {
	// Endpoint of an S3-compatible service ("http://127.0.0.1:9000");
	// empty means AWS for Region.
	Endpoint string `json:"endpoint,omitempty"`
	Region   string `json:"region,omitempty"` // default us-east-1
	Bucket   string `json:"bucket"`
	// Prefix is put in front of every key ("flashback/unit1/").
	Prefix string `json:"prefix,omitempty"`
	// PathStyle addresses the bucket as ENDPOINT/BUCKET (MinIO and most
	// S3-compatible servers) rather than BUCKET.ENDPOINT.
	PathStyle bool `json:"path_style,omitempty"`
	// Static credentials; when AccessKeyID is empty the AWS default chain
	// (environment, shared config, instance role...) is used.
	AccessKeyID     string `json:"access_key_id,omitempty"`
	SecretAccessKey string `json:"secret_access_key,omitempty"`
	SessionToken    string `json:"session_token,omitempty"`
	// PartSize of multipart uploads, used for uploads of unknown size (each
	// in-flight part is buffered). Default 8 MiB, at least 5 MiB.
	PartSize int64 `json:"part_size,omitempty"`
	// Concurrency: parts uploaded in parallel by one multipart upload.
	// Default 2.
	Concurrency int `json:"concurrency,omitempty"`
	// MaxSinglePut: objects of known size up to this are streamed in one
	// PutObject (no buffering); larger ones use multipart. Default 5 GiB.
	MaxSinglePut int64 `json:"max_single_put,omitempty"`
	// HTTPClient, if set, replaces the SDK's HTTP client (tests).
	HTTPClient *http.Client `json:"-"`
}

const (
	minPartSize     = 5 << 20
	maxParts        = 10000
	maxS3SinglePut  = 5 << 30
	copyPartSize    = 1 << 30
	cleanupTimeout  = 30 * time.Second
	defaultPartSize = 8 << 20
)

// S3 is a backend on an S3-compatible bucket.
type S3 struct {
	c            *s3.Client
	bucket       string
	prefix       string
	partSize     int64
	conc         int
	maxSinglePut int64
	putOpts      []func(*s3.Options)
}

var _ Composer = (*S3)(nil)

// NewS3 builds an S3 backend. It does not contact the service.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("backend s3: bucket is empty")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	var awsCfg aws.Config
	if cfg.AccessKeyID != "" {
		awsCfg = aws.Config{
			Region: cfg.Region,
			Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(
				cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken)),
		}
	} else {
		var err error
		awsCfg, err = awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(cfg.Region))
		if err != nil {
			return nil, fmt.Errorf("backend s3: %w", err)
		}
	}
	if cfg.HTTPClient != nil {
		awsCfg.HTTPClient = cfg.HTTPClient
	}
	plainHTTP := strings.HasPrefix(strings.ToLower(cfg.Endpoint), "http://")
	c := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
		if plainHTTP {
			// Over plain HTTP the SDK can only add a checksum (or sign the
			// payload) by reading the body twice, which a stream cannot do.
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		}
	})
	b := &S3{
		c: c, bucket: cfg.Bucket, prefix: cfg.Prefix,
		partSize: cfg.PartSize, conc: cfg.Concurrency, maxSinglePut: cfg.MaxSinglePut,
	}
	if b.partSize == 0 {
		b.partSize = defaultPartSize
	}
	if b.partSize < minPartSize {
		b.partSize = minPartSize
	}
	if b.conc <= 0 {
		b.conc = 2
	}
	if b.maxSinglePut <= 0 || b.maxSinglePut > maxS3SinglePut {
		b.maxSinglePut = maxS3SinglePut
	}
	if plainHTTP {
		// Stream bodies unsigned (UNSIGNED-PAYLOAD) rather than hashing
		// them first; over HTTPS the SDK sends a trailing checksum instead.
		b.putOpts = []func(*s3.Options){s3.WithAPIOptions(v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)}
	}
	return b, nil
}

// Client is the underlying SDK client (tests create buckets with it).
func (b *S3) Client() *s3.Client { return b.c }

func (b *S3) full(key string) (string, error) {
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	return b.prefix + key, nil
}

// s3Err maps SDK errors to the package's.
func s3Err(err error, key string) error {
	if err == nil {
		return nil
	}
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return fmt.Errorf("%w: %q", ErrNotFound, key)
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return fmt.Errorf("%w: %q", ErrNotFound, key)
		case "InvalidRange":
			return fmt.Errorf("%w: %q: %v", ErrInvalidRange, key, err)
		case "KeyTooLongError":
			return fmt.Errorf("%w %q: longer than the service allows: %v", ErrInvalidKey, key, err)
		}
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case http.StatusNotFound:
			return fmt.Errorf("%w: %q", ErrNotFound, key)
		case http.StatusRequestedRangeNotSatisfiable:
			return fmt.Errorf("%w: %q", ErrInvalidRange, key)
		}
	}
	return fmt.Errorf("backend s3: %q: %w", key, err)
}

func trimETag(e *string) string { return strings.Trim(aws.ToString(e), `"`) }

// s3Meta is the metadata sent to S3: user metadata plus, when etag is set,
// the ETag to report (objects whose native ETag is not their MD5).
func s3Meta(user map[string]string, etag string) map[string]string {
	m := normMeta(user)
	if etag != "" {
		if m == nil {
			m = map[string]string{}
		}
		m[metaETag] = etag
	}
	return m
}

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
		// Known size: one streamed PutObject, nothing buffered.
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
	md5hex := cmp.Or(etag, pr.sum())
	info.ETag = mpETag
	// The multipart ETag is not the content's MD5: rewrite the metadata to
	// carry it (a server-side copy onto itself, conditional on nobody having
	// replaced the object meanwhile). Past 5 GiB CopyObject cannot, and the
	// multipart ETag stays.
	if pr.n <= maxS3SinglePut {
		src := b.bucket + "/" + escapeKey(full)
		_, err := b.c.CopyObject(ctx, &s3.CopyObjectInput{
			Bucket: &b.bucket, Key: &full, CopySource: &src, CopySourceIfMatch: aws.String(`"` + mpETag + `"`),
			MetadataDirective: types.MetadataDirectiveReplace,
			ContentType:       nonEmpty(meta.ContentType), Metadata: s3Meta(meta.UserMeta, md5hex),
		})
		if err == nil {
			info.ETag = md5hex
		}
	}
	return info, nil
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

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// escapeKey escapes a key for x-amz-copy-source (path segments kept).
func escapeKey(k string) string {
	var sb strings.Builder
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("-_.~/!$&'()*+,;=:@", c) >= 0 {
			sb.WriteByte(c)
		} else {
			fmt.Fprintf(&sb, "%%%02X", c)
		}
	}
	return sb.String()
}

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

func (b *S3) Copy(ctx context.Context, src, dst string) (ObjectInfo, error) {
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
