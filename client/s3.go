package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/flashback-network/flashback/receipt"
)

// S3 data plane helpers: a reservation is a bucket (named by the
// reservation id) at its provider's bridge, reached path-style with SigV4
// in region us-east-1 and an access key made by Signer.CreateAccessKey.

// S3Region is the region the bridges sign for.
const S3Region = "us-east-1"

// NewS3 returns an S3 client for a bridge endpoint (http(s)://host:port)
// with a static access key: path-style addressing, region us-east-1,
// request checksums when the operation supports them.
func NewS3(endpoint, accessKeyID, secret string) *s3.Client {
	return s3.New(s3.Options{
		Region:                     S3Region,
		BaseEndpoint:               aws.String(strings.TrimRight(endpoint, "/")),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(accessKeyID, secret, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
		HTTPClient:                 &countingDoer{inner: awshttp.NewBuildableClient()},
	})
}

// S3 is NewS3, for symmetry with the rest of the SDK.
func (c *Client) S3(endpoint, accessKeyID, secret string) *s3.Client {
	return NewS3(endpoint, accessKeyID, secret)
}

// Bucket is one reservation's bucket at its provider's bridge.
type Bucket struct {
	S3       *s3.Client
	Name     string // the reservation id
	Endpoint string
}

// NewBucket opens reservation's bucket at endpoint with an access key.
func NewBucket(endpoint, reservation, accessKeyID, secret string) *Bucket {
	return &Bucket{S3: NewS3(endpoint, accessKeyID, secret), Name: reservation, Endpoint: endpoint}
}

// Bucket opens the bucket of a key just created.
func (k *CreatedKey) Bucket() *Bucket {
	return NewBucket(k.Endpoint, k.Reservation, k.AccessKeyID, k.Secret)
}

// Object describes a stored object.
type Object struct {
	Key          string    `json:"key"`
	Size         int64     `json:"bytes"`
	ETag         string    `json:"etag"`
	LastModified time.Time `json:"last_modified"`
	ContentType  string    `json:"content_type,omitempty"`
	// Receipt is the bridge's verified receipt of the write that made the
	// object (uploads and copies; see s3_receipt.go), ReceiptProblem why a
	// receipt it sent was refused.
	Receipt        *receipt.Receipt `json:"receipt,omitempty"`
	ReceiptProblem string           `json:"receipt_problem,omitempty"`
}

// IsNotReady says whether err is what a bridge answers for a key or a
// reservation it has not learned yet (it syncs every block): an unknown
// access key or an unknown bucket.
func IsNotReady(err error) bool {
	switch S3Code(err) {
	case "InvalidAccessKeyId", "NoSuchBucket":
		return true
	}
	return false
}

// S3Code is the S3 error code of err ("NoSuchKey", ...), or "".
func S3Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// WaitReady waits until the bridge accepts the bucket's key (a key made a
// moment ago is served within a block or two), for up to timeout.
func (b *Bucket) WaitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		_, err := b.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b.Name), MaxKeys: aws.Int32(1)})
		if err == nil || !IsNotReady(err) {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the bridge at %s did not accept the new key for %s within %s: %w", b.Endpoint, b.Name, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// Stat returns an object's metadata.
func (b *Bucket) Stat(ctx context.Context, key string) (*Object, error) {
	out, err := b.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key)})
	if err != nil {
		return nil, err
	}
	return &Object{Key: key, Size: aws.ToInt64(out.ContentLength), ETag: trimETag(out.ETag),
		LastModified: aws.ToTime(out.LastModified), ContentType: aws.ToString(out.ContentType)}, nil
}

// List returns every object whose key starts with prefix, in key order.
func (b *Bucket) List(ctx context.Context, prefix string) ([]Object, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(b.Name)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	var objs []Object
	p := s3.NewListObjectsV2Paginator(b.S3, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, o := range page.Contents {
			objs = append(objs, Object{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), ETag: trimETag(o.ETag), LastModified: aws.ToTime(o.LastModified)})
		}
	}
	return objs, nil
}

// Delete removes an object (no error if it does not exist: S3 semantics);
// Remove does the same and returns the bridge's receipt.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	_, err := b.Remove(ctx, key)
	return err
}

// Download streams an object to w and returns its metadata.
func (b *Bucket) Download(ctx context.Context, key string, w io.Writer, progress Progress) (*Object, error) {
	out, err := b.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key)})
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	o := &Object{Key: key, Size: -1, ETag: trimETag(out.ETag), LastModified: aws.ToTime(out.LastModified), ContentType: aws.ToString(out.ContentType)}
	if out.ContentLength != nil {
		o.Size = *out.ContentLength
	}
	var r io.Reader = out.Body
	if progress != nil {
		r = &progressReader{r: out.Body, f: func(n int64) { progress(n, o.Size) }}
	}
	n, err := io.Copy(w, r)
	if err != nil {
		return nil, fmt.Errorf("download %s/%s: %w", b.Name, key, err)
	}
	if o.Size >= 0 && n != o.Size {
		return nil, fmt.Errorf("download %s/%s: got %d of %d bytes", b.Name, key, n, o.Size)
	}
	o.Size = n
	return o, nil
}

// DownloadFile downloads an object to path through a temporary file in the
// same directory, so path is either the whole object or untouched.
func (b *Bucket) DownloadFile(ctx context.Context, key, path string, progress Progress) (*Object, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".fbpart-*")
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	o, err := b.Download(ctx, key, f, progress)
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(0o644); err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return nil, err
	}
	ok = true
	return o, nil
}
