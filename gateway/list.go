package gateway

import (
	"context"
	"encoding/base64"
	"errors"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/versity/versitygw/s3err"
	"github.com/versity/versitygw/s3response"
)

// entry is one listed name: an object or a common prefix.
type entry struct {
	name string
	obj  *s3response.Object // nil for a common prefix
}

// page is one listing request, in V1 terms (marker: list after it).
type page struct {
	prefix, delimiter, marker string
	max                       int
}

// listMembers lists a page from each member and merges them: sorted,
// de-duplicated (of two copies of an object the newer wins). Each member
// returns its first max names after the marker, so the first max names of
// the union are exact. Every object was written to at least a quorum of
// members, so the union is complete as long as all but quorum-1 of them
// answered; fewer answers fail the listing rather than hide objects.
func (g *Gateway) listMembers(ctx context.Context, repo Repo, ms []Member, p page, need int) ([]entry, bool, error) {
	type answer struct {
		entries   []entry
		truncated bool
		err       error
	}
	answers := make([]answer, len(ms))
	var wg sync.WaitGroup
	for i, m := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := g.clients.get(m).s3.ListObjects(ctx, &s3.ListObjectsInput{
				Bucket: aws.String(m.ID), Prefix: nonEmpty(p.prefix), Delimiter: nonEmpty(p.delimiter),
				Marker: nonEmpty(p.marker), MaxKeys: aws.Int32(int32(max(p.max, 1))),
			})
			if err != nil {
				answers[i].err = err
				return
			}
			a := &answers[i]
			a.truncated = deref(out.IsTruncated)
			for _, o := range out.Contents {
				a.entries = append(a.entries, entry{name: deref(o.Key), obj: &s3response.Object{
					Key: o.Key, ETag: o.ETag, Size: o.Size, LastModified: o.LastModified, StorageClass: types.ObjectStorageClassStandard,
				}})
			}
			for _, cp := range out.CommonPrefixes {
				a.entries = append(a.entries, entry{name: deref(cp.Prefix)})
			}
		}()
	}
	wg.Wait()
	ok, truncated := 0, false
	byName := map[string]entry{}
	var lastErr error
	for _, a := range answers {
		if a.err != nil {
			lastErr = a.err
			continue
		}
		ok++
		truncated = truncated || a.truncated
		for _, e := range a.entries {
			old, seen := byName[e.name]
			if !seen || (e.obj != nil && old.obj != nil && deref(e.obj.LastModified).After(deref(old.obj.LastModified))) {
				byName[e.name] = e
			}
		}
	}
	if ok < need {
		if lastErr != nil && isClientError(lastErr) {
			return nil, false, toS3(lastErr)
		}
		return nil, false, unavailable("Too few members answered the listing to make it complete.")
	}
	out := make([]entry, 0, len(byName))
	for _, e := range byName {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	if len(out) > p.max {
		out, truncated = out[:p.max], true
	}
	return out, truncated, nil
}

// listing lists a page of the repository, in either mode.
func (b *backend) listing(ctx context.Context, bucket string, p page) ([]entry, bool, error) {
	r, err := b.repo(ctx, bucket)
	if err != nil {
		return nil, false, err
	}
	if p.max <= 0 {
		return nil, false, nil
	}
	if r.Mode == ModeNormal {
		es, trunc, err := b.g.listNormal(ctx, r, p)
		if err == nil && r.Encrypted {
			err = b.plainSizes(ctx, r, es)
		}
		return es, trunc, err
	}
	ms := r.readers()
	need := len(ms) - r.quorum(len(r.writers())) + 1
	es, trunc, err := b.g.listMembers(ctx, r, ms, p, max(need, 1))
	if err == nil && r.Encrypted {
		err = b.plainSizes(ctx, r, es)
	}
	return es, trunc, err
}

func split(es []entry) ([]s3response.Object, []types.CommonPrefix) {
	var objs []s3response.Object
	var cps []types.CommonPrefix
	for _, e := range es {
		if e.obj != nil {
			o := *e.obj
			o.Key = aws.String(e.name)
			objs = append(objs, o)
		} else {
			cps = append(cps, types.CommonPrefix{Prefix: aws.String(e.name)})
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

func (b *backend) ListObjects(ctx context.Context, in *s3.ListObjectsInput) (s3response.ListObjectsResult, error) {
	ctx, cancel := detach(ctx)
	defer cancel()
	p := page{prefix: deref(in.Prefix), delimiter: deref(in.Delimiter), marker: deref(in.Marker), max: maxKeys(in.MaxKeys)}
	es, trunc, err := b.listing(ctx, deref(in.Bucket), p)
	if err != nil {
		return s3response.ListObjectsResult{}, err
	}
	objs, cps := split(es)
	out := s3response.ListObjectsResult{
		Name: in.Bucket, Prefix: aws.String(p.prefix), Marker: aws.String(p.marker), MaxKeys: aws.Int32(int32(p.max)),
		Delimiter: nonEmpty(p.delimiter), IsTruncated: aws.Bool(trunc), Contents: objs, CommonPrefixes: cps,
		EncodingType: in.EncodingType,
	}
	if trunc && len(es) > 0 {
		out.NextMarker = aws.String(es[len(es)-1].name)
	}
	return out, nil
}

// Continuation tokens are the last name returned, opaque to clients.
func token(name string) string { return base64.RawURLEncoding.EncodeToString([]byte(name)) }

func untoken(t string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(t)
	if err != nil {
		return "", errors.New("bad token")
	}
	return string(b), nil
}

func (b *backend) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input) (s3response.ListObjectsV2Result, error) {
	ctx, cancel := detach(ctx)
	defer cancel()
	p := page{prefix: deref(in.Prefix), delimiter: deref(in.Delimiter), marker: deref(in.StartAfter), max: maxKeys(in.MaxKeys)}
	if t := deref(in.ContinuationToken); t != "" {
		m, err := untoken(t)
		if err != nil {
			return s3response.ListObjectsV2Result{}, apiErr("InvalidArgument", 400, "The continuation token provided is incorrect.")
		}
		p.marker = m
	}
	es, trunc, err := b.listing(ctx, deref(in.Bucket), p)
	if err != nil {
		return s3response.ListObjectsV2Result{}, err
	}
	objs, cps := split(es)
	out := s3response.ListObjectsV2Result{
		Name: in.Bucket, Prefix: aws.String(p.prefix), StartAfter: in.StartAfter, ContinuationToken: in.ContinuationToken,
		KeyCount: aws.Int32(int32(len(es))), MaxKeys: aws.Int32(int32(p.max)), Delimiter: nonEmpty(p.delimiter),
		IsTruncated: aws.Bool(trunc), Contents: objs, CommonPrefixes: cps, EncodingType: in.EncodingType,
	}
	if trunc && len(es) > 0 {
		out.NextContinuationToken = aws.String(token(es[len(es)-1].name))
	}
	return out, nil
}

var _ = s3err.ErrNoSuchKey
var _ = strings.Cut
