package bridge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/flashback-network/flashback/storage"
	vbackend "github.com/versity/versitygw/backend"
	"github.com/versity/versitygw/s3err"
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
