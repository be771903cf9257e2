package bridge

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/tags"
)

func tagsOf(t *testing.T, c *s3.Client, bucket, key string) map[string]string {
	t.Helper()
	out, err := c.GetObjectTagging(context.Background(), &s3.GetObjectTaggingInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatalf("GetObjectTagging %s: %v", key, err)
	}
	m := map[string]string{}
	for _, tg := range out.TagSet {
		m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	return m
}

func tagSet(m map[string]string) *types.Tagging {
	var ts []types.Tag
	for k, v := range m {
		ts = append(ts, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return &types.Tagging{TagSet: ts}
}

// tagTest is the state TestObjectTagging's steps share: a bridge and the
// clients of res-1's write, admin and read keys.
type tagTest struct {
	t       *testing.T
	ctx     context.Context
	f       *fixture
	w, a, r *s3.Client
	b       string
}

// wantTags is the tag set the objects "w" and "a" are created with.
var wantTags = map[string]string{"project": "blue sky", "owner": "ops/é"}

// longTags has a key of 128 and a value of 256 bytes, S3's limits.
var longTags = map[string]string{strings.Repeat("k", 128): strings.Repeat("v", 256)}

func (e *tagTest) put(c *s3.Client, key, tagging string) error {
	in := &s3.PutObjectInput{Bucket: &e.b, Key: &key, Body: strings.NewReader("content of " + key)}
	if tagging != "" {
		in.Tagging = &tagging
	}
	_, err := c.PutObject(e.ctx, in)
	return err
}

// TestObjectTagging: x-amz-tagging on PUT is stored (write and admin keys),
// Put/Get/DeleteObjectTagging work for a write key and are read-only for a
// read key, S3's limits apply, CopyObject copies or replaces the tags per
// directive, an overwrite or delete drops them, and they survive a restart.
func TestObjectTagging(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, fixtureOpts{dir: dir})
	e := &tagTest{t: t, ctx: context.Background(), f: f, w: f.sdk(keyW1), a: f.sdk(keyA1), r: f.sdk(keyR1), b: "res-1"}
	e.onPut()
	e.taggingCalls()
	e.limits()
	e.copyAndOverwrite()
	e.restart(dir)
}

// onPut: x-amz-tagging on PUT, by a write and an admin key, and the tag
// count on GET and HEAD.
func (e *tagTest) onPut() {
	t, ctx, w, a, r, b := e.t, e.ctx, e.w, e.a, e.r, e.b
	want := wantTags
	hdr := url.Values{"project": {"blue sky"}, "owner": {"ops/é"}}.Encode()
	if err := e.put(w, "w", hdr); err != nil {
		t.Fatalf("PUT with x-amz-tagging by a write key: %v", err)
	}
	if got := tagsOf(t, w, b, "w"); !maps.Equal(got, want) {
		t.Fatalf("tags %v, want %v", got, want)
	}
	if err := e.put(a, "a", hdr); err != nil {
		t.Fatal(err)
	}
	if got := tagsOf(t, r, b, "a"); !maps.Equal(got, want) {
		t.Fatalf("admin-key tags %v, want %v (read by a read key)", got, want)
	}
	if g, err := r.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: aws.String("a")}); err != nil || aws.ToInt32(g.TagCount) != 2 {
		t.Fatalf("GET x-amz-tagging-count: %v", err)
	} else {
		g.Body.Close()
	}
	if h, err := r.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("a")}); err != nil || aws.ToInt32(h.TagCount) != 2 {
		t.Fatalf("HEAD x-amz-tagging-count: %v", err)
	}
}

// taggingCalls: Put/Get/DeleteObjectTagging by a write key, refused to a
// read key.
func (e *tagTest) taggingCalls() {
	t, ctx, w, r, b := e.t, e.ctx, e.w, e.r, e.b
	if _, err := w.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: &b, Key: aws.String("w"), Tagging: tagSet(map[string]string{"x": "1"})}); err != nil {
		t.Fatal(err)
	}
	if got := tagsOf(t, w, b, "w"); !maps.Equal(got, map[string]string{"x": "1"}) {
		t.Fatalf("after PutObjectTagging: %v", got)
	}
	_, err := r.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: &b, Key: aws.String("w"), Tagging: tagSet(map[string]string{"y": "2"})})
	wantCode(t, err, "AccessDenied", 403)
	_, err = r.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: &b, Key: aws.String("w")})
	wantCode(t, err, "AccessDenied", 403)
	if err := e.put(r, "r", "k=v"); apiCode(err) != "AccessDenied" {
		t.Fatalf("read key PUT: %v", err)
	}
	if _, err := w.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: &b, Key: aws.String("w")}); err != nil {
		t.Fatal(err)
	}
	if got := tagsOf(t, w, b, "w"); len(got) != 0 {
		t.Fatalf("after DeleteObjectTagging: %v", got)
	}
	_, err = w.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: &b, Key: aws.String("missing")})
	wantCode(t, err, "NoSuchKey", 404)
	_, err = w.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: &b, Key: aws.String("missing"), Tagging: tagSet(map[string]string{"x": "1"})})
	wantCode(t, err, "NoSuchKey", 404)

}

// limits: at most 10 tags, keys of 128 and values of 256 bytes, as S3.
func (e *tagTest) limits() {
	t, ctx, w, b := e.t, e.ctx, e.w, e.b
	ten := map[string]string{}
	for i := range 10 {
		ten[fmt.Sprintf("k%d", i)] = "v"
	}
	if _, err := w.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: &b, Key: aws.String("w"), Tagging: tagSet(ten)}); err != nil {
		t.Fatalf("10 tags: %v", err)
	}
	eleven := maps.Clone(ten)
	eleven["k10"] = "v"
	_, err := w.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: &b, Key: aws.String("w"), Tagging: tagSet(eleven)})
	wantCode(t, err, "BadRequest", 400)
	elevenHdr := url.Values{}
	for k, v := range eleven {
		elevenHdr.Set(k, v)
	}
	wantCode(t, e.put(w, "eleven", elevenHdr.Encode()), "BadRequest", 400)
	if _, err := w.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("eleven")}); httpStatus(err) != 404 {
		t.Fatalf("object stored despite refused tags: %v", err)
	}
	long := longTags
	if _, err := w.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: &b, Key: aws.String("w"), Tagging: tagSet(long)}); err != nil {
		t.Fatalf("key of 128 and value of 256 bytes: %v", err)
	}
	_, err = w.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: &b, Key: aws.String("w"), Tagging: tagSet(map[string]string{strings.Repeat("k", 129): "v"})})
	wantCode(t, err, "InvalidTag", 400)
	_, err = w.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: &b, Key: aws.String("w"), Tagging: tagSet(map[string]string{"k": strings.Repeat("v", 257)})})
	wantCode(t, err, "InvalidTag", 400)
	wantCode(t, e.put(w, "longval", "k="+strings.Repeat("v", 257)), "InvalidTag", 400)
	if got := tagsOf(t, w, b, "w"); !maps.Equal(got, long) {
		t.Fatalf("refused tag sets changed the tags: %v", got)
	}

}

// copyAndOverwrite: CopyObject per tagging directive; an overwrite or a
// delete drops the tags; tags are not listed as objects.
func (e *tagTest) copyAndOverwrite() {
	t, ctx, w, b := e.t, e.ctx, e.w, e.b
	want := wantTags
	// CopyObject: COPY (default) keeps the source's tags, REPLACE takes
	// the request's.
	if _, err := w.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &b, Key: aws.String("copied"), CopySource: aws.String(b + "/a")}); err != nil {
		t.Fatal(err)
	}
	if got := tagsOf(t, w, b, "copied"); !maps.Equal(got, want) {
		t.Fatalf("copy (COPY): %v, want %v", got, want)
	}
	if _, err := w.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &b, Key: aws.String("replaced"), CopySource: aws.String(b + "/a"),
		TaggingDirective: types.TaggingDirectiveReplace, Tagging: aws.String("new=tag")}); err != nil {
		t.Fatal(err)
	}
	if got := tagsOf(t, w, b, "replaced"); !maps.Equal(got, map[string]string{"new": "tag"}) {
		t.Fatalf("copy (REPLACE): %v", got)
	}
	if _, err := w.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &b, Key: aws.String("a"), CopySource: aws.String(b + "/a"),
		TaggingDirective: types.TaggingDirectiveReplace, MetadataDirective: types.MetadataDirectiveReplace}); err != nil {
		t.Fatal(err)
	}
	if got := tagsOf(t, w, b, "a"); len(got) != 0 {
		t.Fatalf("copy onto itself, REPLACE without tags: %v", got)
	}

	// An overwrite without tags drops them; a delete too.
	if err := e.put(w, "copied", ""); err != nil {
		t.Fatal(err)
	}
	if got := tagsOf(t, w, b, "copied"); len(got) != 0 {
		t.Fatalf("overwrite kept tags: %v", got)
	}
	if _, err := w.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b, Key: aws.String("replaced")}); err != nil {
		t.Fatal(err)
	}
	if err := e.put(w, "replaced", ""); err != nil {
		t.Fatal(err)
	}
	if got := tagsOf(t, w, b, "replaced"); len(got) != 0 {
		t.Fatalf("re-created object has the deleted one's tags: %v", got)
	}

	// Tags are not objects: the listing shows the objects only.
	lo, err := w.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &b})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range lo.Contents {
		names = append(names, aws.ToString(o.Key))
	}
	if strings.Join(names, ",") != "a,copied,replaced,w" {
		t.Fatalf("listing: %v", names)
	}
	_, err = w.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: aws.String(metaDir + "cors.xml")})
	wantCode(t, err, "InvalidArgument", 400)

}

// restart: a restarted bridge (and minio-go) sees the tags, and its usage
// counts the objects' bytes only, as this one's does.
func (e *tagTest) restart(dir string) {
	t, ctx, w, b := e.t, e.ctx, e.w, e.b
	f, long := e.f, longTags
	lo, err := w.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &b})
	if err != nil {
		t.Fatal(err)
	}
	var objBytes int64
	for _, o := range lo.Contents {
		objBytes += aws.ToInt64(o.Size)
	}
	if got := f.b.Usage()["res-1"].StoredBytes; got != objBytes {
		t.Fatalf("stored %d, objects hold %d", got, objBytes)
	}
	f2 := newFixture(t, fixtureOpts{dir: dir})
	mc := f2.minio(keyW1)
	got, err := mc.GetObjectTagging(ctx, b, "w", minio.GetObjectTaggingOptions{})
	if err != nil || !maps.Equal(got.ToMap(), long) {
		t.Fatalf("minio-go after restart: %v %v", err, got)
	}
	nt, _ := tags.NewTags(map[string]string{"via": "minio"}, true)
	if err := mc.PutObjectTagging(ctx, b, "w", nt, minio.PutObjectTaggingOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := tagsOf(t, f.sdk(keyW1), b, "w"); got["via"] != "minio" {
		t.Fatalf("minio-go PutObjectTagging: %v", got)
	}
	if got := f2.b.Usage()["res-1"].StoredBytes; got != objBytes {
		t.Fatalf("stored after restart %d, objects hold %d", got, objBytes)
	}
}
