package storage

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
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
