package bridge

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/flashback-network/flashback/storage"
	"github.com/valyala/fasthttp"
	"github.com/versity/versitygw/s3err"
)

// notModifiedHeaders adds the object's ETag and Last-Modified to a 304
// answer, as S3 (and RFC 9110) does: caches revalidate with them.
// versitygw sends only the status for a backend error, keeping the headers
// already set on the response, so they are set here. Other errors pass
// unchanged.
func notModifiedHeaders(ctx context.Context, info storage.ObjectInfo, err error) error {
	if !errors.Is(err, s3err.GetAPIError(s3err.ErrNotModified)) {
		return err
	}
	if rc, ok := ctx.(*fasthttp.RequestCtx); ok {
		rc.Response.Header.Set("ETag", quote(info.ETag))
		rc.Response.Header.Set("Last-Modified", info.LastModified.UTC().Format(http.TimeFormat))
	}
	return err
}

// httpTime is a modification time as HTTP dates carry it, to the second:
// If-Modified-Since and If-Unmodified-Since are compared with it, so that
// the Last-Modified a client was given is "not modified since" itself.
func httpTime(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }
