package gateway

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	vbackend "github.com/versity/versitygw/backend"
	"github.com/versity/versitygw/s3err"
	"github.com/versity/versitygw/s3response"
)

// backend implements versitygw's storage backend over repositories.
// Authorization has happened when its methods run (iam.go). Operations it
// does not implement answer NotImplemented.
type backend struct {
	vbackend.BackendUnsupported
	g *Gateway
}

var _ vbackend.Backend = (*backend)(nil)

func (b *backend) String() string { return "flashback-gateway" }

func deref[T any](p *T) T {
	var z T
	if p == nil {
		return z
	}
	return *p
}

func ptr[T any](v T) *T { return &v }

func noSuchBucket(name string) error { return s3err.GetBucketErr(s3err.ErrNoSuchBucket, name) }

func apiErr(code string, status int, msg string) error {
	return s3err.APIError{Code: code, Description: msg, HTTPStatusCode: status}
}

func unavailable(msg string) error {
	return apiErr("ServiceUnavailable", http.StatusServiceUnavailable, msg)
}

// detach returns the context for the members' requests of one client
// request: not the server's request context, which the server reuses once
// the handler returns (a GET's body streams after that, and the HTTP
// client watches its request's context until then).
func detach(context.Context) (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}

// repo resolves a bucket name.
func (b *backend) repo(ctx context.Context, bucket string) (Repo, error) {
	r, err := b.g.dir.Repo(ctx, bucket)
	if errors.Is(err, ErrNotFound) {
		return Repo{}, noSuchBucket(bucket)
	}
	if err != nil {
		return Repo{}, unavailable("The repository directory is not available: " + err.Error())
	}
	if r.Mode != ModeMirror && r.Mode != ModeNormal {
		return Repo{}, unavailable("The repository has an unknown mode " + r.Mode + ".")
	}
	return r, nil
}

// target is where an object request goes: the repository, the members that
// hold the key (all of them in mirror mode, the folder's in normal mode)
// and the key on those members.
type target struct {
	repo    Repo
	members []Member
	key     string
}

// object resolves a request's bucket and key.
func (b *backend) object(ctx context.Context, bucket, key *string) (target, error) {
	r, err := b.repo(ctx, deref(bucket))
	if err != nil {
		return target{}, err
	}
	k := deref(key)
	if k == "" {
		return target{}, s3err.GetAPIError(s3err.ErrNoSuchKey)
	}
	if len(k) > 1024 {
		return target{}, s3err.GetKeyTooLongErr(int64(len(k)), 1024)
	}
	if r.Mode == ModeMirror {
		return target{repo: r, members: r.Members, key: k}, nil
	}
	folder, rest, ok := strings.Cut(k, "/")
	m, known := r.member(folder)
	if !ok || !known || rest == "" {
		return target{}, apiErr("InvalidArgument", http.StatusBadRequest,
			"Keys of a normal repository start with a member folder (<reservation>/...); "+k+" does not name one.")
	}
	return target{repo: r, members: []Member{m}, key: rest}, nil
}

func (b *backend) ListBuckets(ctx context.Context, in s3response.ListBucketsInput) (s3response.ListAllMyBucketsResult, error) {
	out := s3response.ListAllMyBucketsResult{Owner: s3response.CanonicalUser{ID: in.Owner}}
	k, err := b.g.dir.Key(ctx, in.Owner)
	if err != nil {
		return out, nil
	}
	if _, err := b.g.dir.Repo(ctx, k.Repo); err == nil && strings.HasPrefix(k.Repo, in.Prefix) {
		out.Buckets.Bucket = append(out.Buckets.Bucket, s3response.ListAllMyBucketsEntry{
			Name: k.Repo, BucketRegion: b.g.cfg.Region, CreationDate: b.g.started,
		})
	}
	return out, nil
}

func (b *backend) HeadBucket(ctx context.Context, in *s3.HeadBucketInput) (*s3.HeadBucketOutput, error) {
	if _, err := b.repo(ctx, deref(in.Bucket)); err != nil {
		return nil, err
	}
	return &s3.HeadBucketOutput{BucketRegion: &b.g.cfg.Region}, nil
}

// GetBucketAcl returns an empty ACL: nothing is allowed by ACL, all goes
// through iam.
func (b *backend) GetBucketAcl(ctx context.Context, in *s3.GetBucketAclInput) ([]byte, error) {
	if _, err := b.repo(ctx, deref(in.Bucket)); err != nil {
		return nil, err
	}
	return []byte("{}"), nil
}

// CreateBucket succeeds on the key's own repository (so `aws s3 mb` works);
// repositories are created on chain.
func (b *backend) CreateBucket(ctx context.Context, in *s3.CreateBucketInput, _ []byte) error {
	if _, err := b.repo(ctx, deref(in.Bucket)); err == nil {
		return nil
	}
	return apiErr("AccessDenied", http.StatusForbidden, "Buckets are repositories: create one on chain (flashback repo create).")
}

func (b *backend) GetBucketVersioning(ctx context.Context, bucket string) (s3response.GetBucketVersioningOutput, error) {
	_, err := b.repo(ctx, bucket)
	return s3response.GetBucketVersioningOutput{}, err
}

func (b *backend) GetBucketPolicy(ctx context.Context, bucket string) ([]byte, error) {
	if _, err := b.repo(ctx, bucket); err != nil {
		return nil, err
	}
	return nil, s3err.GetAPIError(s3err.ErrNoSuchBucketPolicy)
}

func (b *backend) GetBucketOwnershipControls(ctx context.Context, bucket string) (types.ObjectOwnership, error) {
	if _, err := b.repo(ctx, bucket); err != nil {
		return "", err
	}
	return types.ObjectOwnershipBucketOwnerEnforced, nil
}

func (b *backend) configMissing(ctx context.Context, bucket string, code s3err.ErrorCode) ([]byte, error) {
	if _, err := b.repo(ctx, bucket); err != nil {
		return nil, err
	}
	return nil, s3err.GetAPIError(code)
}

func (b *backend) GetObjectLockConfiguration(ctx context.Context, bucket string) ([]byte, error) {
	return b.configMissing(ctx, bucket, s3err.ErrObjectLockConfigurationNotFound)
}

func (b *backend) GetBucketWebsite(ctx context.Context, bucket string) ([]byte, error) {
	return b.configMissing(ctx, bucket, s3err.ErrNoSuchWebsiteConfiguration)
}

func (b *backend) GetBucketTagging(ctx context.Context, bucket string) (map[string]string, error) {
	_, err := b.configMissing(ctx, bucket, s3err.ErrBucketTaggingNotFound)
	return nil, err
}

func (b *backend) GetBucketCors(ctx context.Context, bucket string) ([]byte, error) {
	return b.configMissing(ctx, bucket, s3err.ErrNoSuchCORSConfiguration)
}
