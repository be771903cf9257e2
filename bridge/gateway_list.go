package bridge

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/flashback-network/flashback/storage"
	"github.com/versity/versitygw/s3response"
)

// listEntry is one entry of a listing: an object or a common prefix.
type listEntry struct {
	obj    *storage.ObjectInfo // key relative to the bucket
	prefix string
}

func (e listEntry) name() string {
	if e.obj != nil {
		return e.obj.Key
	}
	return e.prefix
}

// maxUTF8 sorts after every valid UTF-8 continuation of a key.
const maxUTF8 = "\U0010FFFF"

// list returns up to max entries after marker (exclusive) under prefix,
// rolling keys up to common prefixes at delimiter, hiding multipart parts,
// and whether more entries follow.
func (g *gateway) list(ctx context.Context, br bucketRef, prefix, delimiter, marker string, max int) ([]listEntry, bool, error) {
	if max <= 0 {
		return nil, false, nil
	}
	base := br.res.ID + "/"
	after := ""
	if marker != "" {
		after = base + encodeKey(marker)
	}
	// A marker that is a common prefix: skip everything under it.
	if delimiter != "" && marker != "" && strings.HasPrefix(marker, prefix) && strings.HasSuffix(marker, delimiter) {
		after = base + encodeKey(marker) + maxUTF8
	}
	var out []listEntry
	lastPrefix := ""
	// One entry more than a page: a full page then tells it is truncated
	// without another (empty) backend list.
	batchLen := max + 1
	for {
		batch, err := br.be.List(ctx, base+encodePrefix(prefix), after, batchLen)
		if err != nil {
			return nil, false, err
		}
		for i := range batch {
			o := batch[i]
			rel := strings.TrimPrefix(o.Key, base)
			after = o.Key
			if p, hidden := hiddenPrefix(rel); hidden {
				after = base + p + maxUTF8
				break
			}
			rel = decodeKey(rel)
			if !strings.HasPrefix(rel, prefix) || (marker != "" && rel <= marker) {
				continue
			}
			if delimiter != "" {
				if i := strings.Index(rel[len(prefix):], delimiter); i >= 0 {
					cp := rel[:len(prefix)+i+len(delimiter)]
					if cp == lastPrefix || (marker != "" && cp <= marker) {
						continue
					}
					if len(out) == max {
						return out, true, nil
					}
					lastPrefix = cp
					out = append(out, listEntry{prefix: cp})
					after = base + encodeKey(cp) + maxUTF8
					break
				}
			}
			if len(out) == max {
				return out, true, nil
			}
			o.Key = rel
			out = append(out, listEntry{obj: &o})
		}
		if len(batch) == 0 {
			return out, false, nil
		}
		// Re-list from the new position unless the batch was exhausted
		// without jumping and was short (end of listing).
		if len(batch) < batchLen && after == batch[len(batch)-1].Key {
			return out, false, nil
		}
	}
}

func toObjects(entries []listEntry) ([]s3response.Object, []types.CommonPrefix) {
	var objs []s3response.Object
	var cps []types.CommonPrefix
	for _, e := range entries {
		if e.obj != nil {
			o := e.obj
			objs = append(objs, s3response.Object{
				Key: ptr(o.Key), ETag: ptr(quote(o.ETag)), Size: ptr(o.Size),
				LastModified: ptr(o.LastModified), StorageClass: types.ObjectStorageClassStandard,
			})
		} else {
			cps = append(cps, types.CommonPrefix{Prefix: ptr(e.prefix)})
		}
	}
	return objs, cps
}

func maxKeys(p *int32) int {
	if p == nil || *p < 0 || *p > 1000 {
		return 1000
	}
	return int(*p)
}

func (g *gateway) ListObjects(ctx context.Context, in *s3.ListObjectsInput) (s3response.ListObjectsResult, error) {
	br, err := g.bucket(ctx, deref(in.Bucket))
	if err != nil {
		return s3response.ListObjectsResult{}, err
	}
	max := maxKeys(in.MaxKeys)
	entries, truncated, err := g.list(ctx, br, deref(in.Prefix), deref(in.Delimiter), deref(in.Marker), max)
	if err != nil {
		return s3response.ListObjectsResult{}, s3Error(err, "")
	}
	objs, cps := toObjects(entries)
	out := s3response.ListObjectsResult{
		Name: in.Bucket, Prefix: in.Prefix, Marker: in.Marker, MaxKeys: ptr(int32(max)),
		Delimiter: in.Delimiter, IsTruncated: &truncated, Contents: objs, CommonPrefixes: cps,
	}
	if truncated && len(entries) > 0 {
		out.NextMarker = ptr(entries[len(entries)-1].name())
	}
	if err := finishListV1(ctx, br, &out); err != nil {
		return s3response.ListObjectsResult{}, err
	}
	return out, nil
}

func (g *gateway) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input) (s3response.ListObjectsV2Result, error) {
	br, err := g.bucket(ctx, deref(in.Bucket))
	if err != nil {
		return s3response.ListObjectsV2Result{}, err
	}
	max := maxKeys(in.MaxKeys)
	marker := deref(in.StartAfter)
	if tok := deref(in.ContinuationToken); tok != "" {
		m, err := decodeToken(tok)
		if err != nil {
			return s3response.ListObjectsV2Result{}, invalidArg("The continuation token provided is incorrect.")
		}
		marker = m
	}
	entries, truncated, err := g.list(ctx, br, deref(in.Prefix), deref(in.Delimiter), marker, max)
	if err != nil {
		return s3response.ListObjectsV2Result{}, s3Error(err, "")
	}
	objs, cps := toObjects(entries)
	out := s3response.ListObjectsV2Result{
		Name: in.Bucket, Prefix: in.Prefix, MaxKeys: ptr(int32(max)), Delimiter: in.Delimiter,
		IsTruncated: &truncated, Contents: objs, CommonPrefixes: cps, KeyCount: ptr(int32(len(entries))),
	}
	if deref(in.ContinuationToken) != "" {
		out.ContinuationToken = in.ContinuationToken
	}
	if deref(in.StartAfter) != "" {
		out.StartAfter = in.StartAfter
	}
	if truncated && len(entries) > 0 {
		out.NextContinuationToken = ptr(encodeToken(entries[len(entries)-1].name()))
	}
	if err := finishListV2(ctx, br, deref(in.FetchOwner), &out); err != nil {
		return s3response.ListObjectsV2Result{}, err
	}
	return out, nil
}
