package bridge

import (
	"context"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/valyala/fasthttp"
	"github.com/versity/versitygw/s3err"
	"github.com/versity/versitygw/s3response"
)

// What the listing calls answer beyond what versitygw passes the backend:
// versitygw v1.8.0 does not hand the backend the encoding-type parameter
// (nor whether an empty continuation-token was sent), so they are read
// from the request; and it passes every absent string parameter as a
// pointer to "", which must not come back as an empty element.

// requestQuery returns a query parameter of the request being served and
// whether it was present.
func requestQuery(ctx context.Context, name string) (string, bool) {
	rc, ok := ctx.(*fasthttp.RequestCtx)
	if !ok {
		return "", false
	}
	args := rc.QueryArgs()
	if !args.Has(name) {
		return "", false
	}
	return string(args.Peek(name)), true
}

// listEncoding is the request's encoding-type: "" or "url"; anything else
// is refused as S3 does.
func listEncoding(ctx context.Context) (types.EncodingType, error) {
	v, ok := requestQuery(ctx, "encoding-type")
	if !ok || v == "" {
		return "", nil
	}
	if strings.EqualFold(v, string(types.EncodingTypeUrl)) {
		return types.EncodingTypeUrl, nil
	}
	return "", invalidArg("Invalid Encoding Method specified in Request")
}

// urlEncode encodes a key (or prefix, marker, delimiter) for an
// EncodingType=url answer: what S3 does and clients undo with a query
// unescape ("+" is a space, so a literal "+" is %2B); "/" stays.
func urlEncode(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "%2F", "/")
}

func encodePtr(enc types.EncodingType, p *string) *string {
	if p == nil || enc != types.EncodingTypeUrl {
		return p
	}
	return ptr(urlEncode(*p))
}

// finishListing applies encoding and owner to a page of objects and
// common prefixes.
func finishListing(enc types.EncodingType, owner *types.Owner, objs []s3response.Object, cps []types.CommonPrefix) {
	for i := range objs {
		objs[i].Key = encodePtr(enc, objs[i].Key)
		objs[i].Owner = owner
	}
	for i := range cps {
		cps[i].Prefix = encodePtr(enc, cps[i].Prefix)
	}
}

// listOwner is the Owner of listed objects: the reservation, which owns
// every object of its bucket.
func listOwner(br bucketRef) *types.Owner {
	return &types.Owner{ID: ptr(br.res.ID), DisplayName: ptr(br.res.ID)}
}

func finishListV1(ctx context.Context, br bucketRef, out *s3response.ListObjectsResult) error {
	enc, err := listEncoding(ctx)
	if err != nil {
		return err
	}
	out.Delimiter = nonEmptyPtr(out.Delimiter)
	// ListObjects (v1) always returns the owner.
	finishListing(enc, listOwner(br), out.Contents, out.CommonPrefixes)
	out.EncodingType = enc
	out.Prefix = encodePtr(enc, out.Prefix)
	out.Marker = encodePtr(enc, out.Marker)
	out.NextMarker = encodePtr(enc, out.NextMarker)
	out.Delimiter = encodePtr(enc, out.Delimiter)
	return nil
}

func finishListV2(ctx context.Context, br bucketRef, fetchOwner bool, out *s3response.ListObjectsV2Result) error {
	enc, err := listEncoding(ctx)
	if err != nil {
		return err
	}
	out.Delimiter = nonEmptyPtr(out.Delimiter)
	var owner *types.Owner
	if fetchOwner {
		owner = listOwner(br)
	}
	finishListing(enc, owner, out.Contents, out.CommonPrefixes)
	if tok, sent := requestQuery(ctx, "continuation-token"); sent && tok == "" {
		out.ContinuationToken = ptr("")
	}
	out.EncodingType = enc
	out.Prefix = encodePtr(enc, out.Prefix)
	out.StartAfter = encodePtr(enc, out.StartAfter)
	out.Delimiter = encodePtr(enc, out.Delimiter)
	return nil
}

func nonEmptyPtr(p *string) *string {
	if p == nil || *p == "" {
		return nil
	}
	return p
}

// maxDeleteObjects is S3's limit of keys in one DeleteObjects request.
const maxDeleteObjects = 1000

func checkDeleteCount(n int) error {
	if n > maxDeleteObjects {
		return s3err.GetAPIError(s3err.ErrMalformedXML)
	}
	return nil
}

// finishUploadsList applies the encoding type to a ListMultipartUploads
// answer.
func finishUploadsList(ctx context.Context, out *s3response.ListMultipartUploadsResult) error {
	enc, err := listEncoding(ctx)
	if err != nil {
		return err
	}
	if enc != types.EncodingTypeUrl {
		return nil
	}
	out.EncodingType = string(enc)
	for _, p := range []*string{&out.KeyMarker, &out.NextKeyMarker, &out.Delimiter, &out.Prefix} {
		*p = urlEncode(*p)
	}
	for i := range out.Uploads {
		out.Uploads[i].Key = urlEncode(out.Uploads[i].Key)
	}
	for i := range out.CommonPrefixes {
		out.CommonPrefixes[i].Prefix = urlEncode(out.CommonPrefixes[i].Prefix)
	}
	return nil
}
