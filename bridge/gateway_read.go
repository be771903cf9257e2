package bridge

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/flashback-network/flashback/storage"
	vbackend "github.com/versity/versitygw/backend"
)

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
