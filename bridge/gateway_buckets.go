package bridge

import (
	"context"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/versity/versitygw/s3err"
	"github.com/versity/versitygw/s3response"
)

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
