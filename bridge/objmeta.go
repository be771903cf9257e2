package bridge

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/flashback-network/flashback/storage"
	"github.com/valyala/fasthttp"
	"github.com/versity/versitygw/s3err"
)

// The standard headers S3 stores with an object and returns on GET and
// HEAD (Cache-Control, Expires, Content-Encoding, Content-Disposition,
// Content-Language) travel through the storage backends as user metadata
// under reserved keys: every backend stores user metadata, and the bridge
// takes them out again before answering. Client metadata keys under the
// reserved prefix (reservedMetaPrefix) are refused, so nothing a client
// sends can pose as them.

// objectHeaders are the stored standard headers of an object ("": absent).
type objectHeaders struct {
	CacheControl, Expires, ContentEncoding, ContentDisposition, ContentLanguage string
}

var headerMetaKeys = [...]string{"flashback-cache-control", "flashback-expires", "flashback-content-encoding",
	"flashback-content-disposition", "flashback-content-language"}

func (h *objectHeaders) fields() [5]*string {
	return [5]*string{&h.CacheControl, &h.Expires, &h.ContentEncoding, &h.ContentDisposition, &h.ContentLanguage}
}

// newObjectHeaders collects the standard headers of a request. The
// aws-chunked content coding describes the request's transfer, not the
// object: S3 drops it.
func newObjectHeaders(cacheControl, expires, contentEncoding, contentDisposition, contentLanguage *string) objectHeaders {
	var enc []string
	for _, c := range strings.Split(deref(contentEncoding), ",") {
		if c = strings.TrimSpace(c); c != "" && !strings.EqualFold(c, "aws-chunked") {
			enc = append(enc, c)
		}
	}
	return objectHeaders{CacheControl: deref(cacheControl), Expires: deref(expires), ContentEncoding: strings.Join(enc, ","),
		ContentDisposition: deref(contentDisposition), ContentLanguage: deref(contentLanguage)}
}

// objectMeta builds what a write stores: the content type, the client's
// user metadata (RFC 2047 encoded words decoded, as S3 does before
// storing) and the standard headers.
func objectMeta(contentType string, user map[string]string, h objectHeaders) (storage.ObjectMeta, error) {
	m := storage.ObjectMeta{ContentType: contentType}
	var dec mime.WordDecoder
	for k, v := range user {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, reservedMetaPrefix) {
			return m, invalidArg(fmt.Sprintf("User metadata keys starting with %q are reserved (x-amz-meta-%s).", reservedMetaPrefix, k))
		}
		if strings.Contains(v, "=?") {
			if d, err := dec.DecodeHeader(v); err == nil {
				v = d
			}
		}
		if m.UserMeta == nil {
			m.UserMeta = make(map[string]string, len(user)+len(headerMetaKeys))
		}
		m.UserMeta[lk] = v
	}
	for i, f := range h.fields() {
		if *f == "" {
			continue
		}
		if m.UserMeta == nil {
			m.UserMeta = make(map[string]string, len(headerMetaKeys))
		}
		m.UserMeta[headerMetaKeys[i]] = *f
	}
	return m, nil
}

// storedMeta rebuilds what a stored object's metadata says: the client's
// user metadata and the standard headers.
func storedMeta(info storage.ObjectInfo) (map[string]string, objectHeaders) {
	var h objectHeaders
	var user map[string]string
	fields := h.fields()
	for k, v := range info.UserMeta {
		if strings.HasPrefix(k, reservedMetaPrefix) {
			for i, hk := range headerMetaKeys {
				if k == hk {
					*fields[i] = v
				}
			}
			continue
		}
		if user == nil {
			user = make(map[string]string, len(info.UserMeta))
		}
		user[k] = v
	}
	return user, h
}

// responseMeta is user metadata as S3 returns it: values with non-ASCII
// characters RFC 2047 encoded (mail-safe), others as they are.
func responseMeta(user map[string]string) map[string]string {
	out := make(map[string]string, len(user))
	for k, v := range user {
		out[k] = encodeMetaValue(v)
	}
	return out
}

func encodeMetaValue(v string) string {
	for i := 0; i < len(v); i++ {
		if v[i] >= utf8.RuneSelf {
			return strings.ReplaceAll(mime.BEncoding.Encode("UTF-8", v), "=?UTF-8?b?", "=?UTF-8?B?")
		}
	}
	return v
}

// checkStorageClass refuses storage classes other than STANDARD, the only
// one a unit offers (S3: InvalidStorageClass). An absent class is STANDARD.
func checkStorageClass(c string) error {
	if c == "" || c == string(types.StorageClassStandard) {
		return nil
	}
	return s3err.APIError{Code: "InvalidStorageClass",
		Description:    fmt.Sprintf("The storage class you specified is not valid: %q (only STANDARD is offered).", c),
		HTTPStatusCode: http.StatusBadRequest}
}

// requestHeader reads a header of the request being served: versitygw
// hands the backend the request's fasthttp context, and some inputs
// (x-amz-storage-class on PutObject) are not passed on by it.
func requestHeader(ctx context.Context, name string) string {
	if rc, ok := ctx.(*fasthttp.RequestCtx); ok {
		return string(rc.Request.Header.Peek(name))
	}
	return ""
}

// getOutput is a GetObject answer for a stored object: its body (length
// bytes), validators and stored headers.
func getOutput(info storage.ObjectInfo, body io.ReadCloser, length int64) *s3.GetObjectOutput {
	user, h := storedMeta(info)
	return &s3.GetObjectOutput{
		Body:               body,
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
}
