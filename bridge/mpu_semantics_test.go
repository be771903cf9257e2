package bridge

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/flashback-network/flashback/storage"
)

// multipartObject uploads key in parts of the given sizes and completes
// it, returning the content, the parts and the upload id.
func multipartObject(t *testing.T, c *s3.Client, key string, sizes []int) ([]byte, []types.CompletedPart, string) {
	t.Helper()
	ctx := context.Background()
	b := aws.String("res-1")
	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: b, Key: &key})
	if err != nil {
		t.Fatal(err)
	}
	var all []byte
	var parts []types.CompletedPart
	for i, n := range sizes {
		data := randBytes(n, uint64(100+i))
		all = append(all, data...)
		up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: b, Key: &key, UploadId: mp.UploadId, PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(data)})
		if err != nil {
			t.Fatalf("part %d: %v", i+1, err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: up.ETag})
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: b, Key: &key, UploadId: mp.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		t.Fatal(err)
	}
	return all, parts, *mp.UploadId
}

// TestCompleteTwice: completing an upload already completed answers 200
// with the same result, as S3 does (a client retrying a completion whose
// answer it lost), while the object it made is there.
func TestCompleteTwice(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	c := f.sdk(keyW1)
	b, k := aws.String("res-1"), aws.String("twice")
	all, parts, id := multipartObject(t, c, "twice", []int{5 << 20, 1000})
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: k})
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: b, Key: k, UploadId: &id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		t.Fatalf("second completion: %v", err)
	}
	if aws.ToString(again.ETag) != aws.ToString(h.ETag) || aws.ToString(again.Key) != "twice" {
		t.Fatalf("second completion: etag %s key %s, want %s", aws.ToString(again.ETag), aws.ToString(again.Key), aws.ToString(h.ETag))
	}
	if got := getAll(t, c, "res-1", "twice"); !bytes.Equal(got, all) {
		t.Fatal("content changed by the second completion")
	}
	// A completed upload is not pending: not listed, no parts, no abort.
	lu, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: b})
	if err != nil || len(lu.Uploads) != 0 {
		t.Fatalf("completed upload listed: %v %+v", err, lu.Uploads)
	}
	_, err = c.ListParts(ctx, &s3.ListPartsInput{Bucket: b, Key: k, UploadId: &id})
	wantCode(t, err, "NoSuchUpload", 404)
	_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: b, Key: k, UploadId: &id, PartNumber: aws.Int32(3), Body: strings.NewReader("late")})
	wantCode(t, err, "NoSuchUpload", 404)
	if u := f.b.Usage()["res-1"]; u.StoredBytes != int64(len(all)) {
		t.Fatalf("stored %d, want the object's %d", u.StoredBytes, len(all))
	}
	// Once the object is replaced, the upload is gone.
	putBytes(t, c, "res-1", "twice", []byte("replaced"))
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: b, Key: k, UploadId: &id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	wantCode(t, err, "NoSuchUpload", 404)
}

// TestGetPartNumber: ?partNumber=N on GET and HEAD serves part N of a
// multipart object with x-amz-mp-parts-count; a part past the last answers
// 400 InvalidPartNumber.
func TestGetPartNumber(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	c := f.sdk(keyW1)
	b, k := aws.String("res-1"), aws.String("parts")
	sizes := []int{5 << 20, 5 << 20, 1234}
	all, _, _ := multipartObject(t, c, "parts", sizes)
	off := 0
	for i, n := range sizes {
		g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: k, PartNumber: aws.Int32(int32(i + 1))})
		if err != nil {
			t.Fatalf("GET part %d: %v", i+1, err)
		}
		got, err := io.ReadAll(g.Body)
		g.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, all[off:off+n]) || aws.ToInt32(g.PartsCount) != 3 {
			t.Fatalf("GET part %d: %d bytes (want %d, same content %v), parts count %d", i+1, len(got), n, bytes.Equal(got, all[off:off+n]), aws.ToInt32(g.PartsCount))
		}
		if want := fmt.Sprintf("bytes %d-%d/%d", off, off+n-1, len(all)); aws.ToString(g.ContentRange) != want {
			t.Fatalf("GET part %d: Content-Range %q, want %q", i+1, aws.ToString(g.ContentRange), want)
		}
		h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: k, PartNumber: aws.Int32(int32(i + 1))})
		if err != nil || aws.ToInt64(h.ContentLength) != int64(n) || aws.ToInt32(h.PartsCount) != 3 {
			t.Fatalf("HEAD part %d: %v length %d parts %d", i+1, err, aws.ToInt64(h.ContentLength), aws.ToInt32(h.PartsCount))
		}
		off += n
	}
	r := f.raw(t, keyW1, "GET", "/res-1/parts?partNumber=4", nil, nil)
	if r.status != 400 || !strings.Contains(r.body, "<Code>InvalidPartNumber</Code>") {
		t.Fatalf("GET part 4 of 3: %d %s", r.status, r.body)
	}
	if r := f.raw(t, keyW1, "HEAD", "/res-1/parts?partNumber=4", nil, nil); r.status != 400 {
		t.Fatalf("HEAD part 4 of 3: %d", r.status)
	}
	// An object not made by a multipart upload is one part.
	putBytes(t, c, "res-1", "single", []byte("one"))
	if got := f.raw(t, keyW1, "GET", "/res-1/single?partNumber=1", nil, nil); got.status != 200 || got.body != "one" || got.header.Get("X-Amz-Mp-Parts-Count") != "1" {
		t.Fatalf("GET part 1 of a single-part object: %d %q parts %q", got.status, got.body, got.header.Get("X-Amz-Mp-Parts-Count"))
	}
	if r := f.raw(t, keyW1, "GET", "/res-1/single?partNumber=2", nil, nil); r.status != 400 || !strings.Contains(r.body, "InvalidPartNumber") {
		t.Fatalf("GET part 2 of a single-part object: %d %s", r.status, r.body)
	}
}

// TestListMultipartUploadsPaging: prefix, key-marker and upload-id-marker
// paging visit every pending upload exactly once, and EncodingType=url is
// honoured and echoed.
func TestListMultipartUploadsPaging(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	c := f.sdk(keyW1)
	b := aws.String("res-1")
	var want []string
	for _, k := range []string{"a/1", "a/1", "a/1", "a/2", "a 3+x", "b/1"} {
		mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: b, Key: aws.String(k)})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, k+" "+*mp.UploadId)
	}
	sort.Strings(want)
	var got []string
	in := &s3.ListMultipartUploadsInput{Bucket: b, MaxUploads: aws.Int32(1)}
	for page := 0; ; page++ {
		if page > 20 {
			t.Fatalf("paging does not end; seen %v", got)
		}
		lu, err := c.ListMultipartUploads(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range lu.Uploads {
			got = append(got, *u.Key+" "+*u.UploadId)
		}
		if !aws.ToBool(lu.IsTruncated) {
			break
		}
		in.KeyMarker, in.UploadIdMarker = lu.NextKeyMarker, lu.NextUploadIdMarker
	}
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("paged uploads:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	lu, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: b, Prefix: aws.String("a/")})
	if err != nil || len(lu.Uploads) != 4 || aws.ToString(lu.Prefix) != "a/" {
		t.Fatalf("prefix a/: %v uploads %d prefix %q", err, len(lu.Uploads), aws.ToString(lu.Prefix))
	}
	// With a delimiter, one item a page: a/ (rolled up), "a 3+x", b/.
	var items []string
	in = &s3.ListMultipartUploadsInput{Bucket: b, Delimiter: aws.String("/"), MaxUploads: aws.Int32(1)}
	for page := 0; ; page++ {
		if page > 10 {
			t.Fatalf("delimited paging does not end; seen %v", items)
		}
		lu, err := c.ListMultipartUploads(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range lu.Uploads {
			items = append(items, *u.Key)
		}
		for _, p := range lu.CommonPrefixes {
			items = append(items, *p.Prefix)
		}
		if !aws.ToBool(lu.IsTruncated) {
			break
		}
		in.KeyMarker, in.UploadIdMarker = lu.NextKeyMarker, lu.NextUploadIdMarker
	}
	if strings.Join(items, ",") != "a 3+x,a/,b/" {
		t.Fatalf("delimited pages: %v, want [a 3+x a/ b/]", items)
	}
	r := f.raw(t, keyW1, "GET", "/res-1?uploads&encoding-type=url&prefix=a%20", nil, nil)
	if r.status != 200 || !strings.Contains(r.body, "<EncodingType>url</EncodingType>") ||
		!strings.Contains(r.body, "<Key>a+3%2Bx</Key>") || !strings.Contains(r.body, "<Prefix>a+</Prefix>") {
		t.Fatalf("encoding-type=url: %d %s", r.status, r.body)
	}
}

// TestAbortWhilePartStreams: a part still streaming when its upload is
// aborted leaves nothing behind that counts against the quota; and what a
// crash left behind (a part whose upload is gone) is removed when a bridge
// next uses the reservation.
func TestAbortWhilePartStreams(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, fixtureOpts{dir: dir})
	ctx := context.Background()
	c := f.sdk(keyW1)
	b, k := aws.String("res-1"), aws.String("aborted")
	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: b, Key: k})
	if err != nil {
		t.Fatal(err)
	}
	const total = 2 << 20
	sp := startSlowPut(t, f, keyW1, "/res-1/aborted", "partNumber=1&uploadId="+*mp.UploadId, total)
	if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: b, Key: k, UploadId: mp.UploadId}); err != nil {
		t.Fatal(err)
	}
	r := sp.finish(t, total-(1<<20))
	if r.err != nil {
		t.Fatal(r.err)
	}
	hidden := func(be storage.Backend) []storage.ObjectInfo {
		objs, err := be.List(ctx, "res-1/"+mpuDir, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		return objs
	}
	if left := hidden(f.local); len(left) != 0 {
		t.Fatalf("part upload answered %d; left behind: %+v", r.status, left)
	}
	if u := f.b.Usage()["res-1"]; u.StoredBytes != 0 {
		t.Fatalf("stored %d after the abort", u.StoredBytes)
	}

	// A crash between an abort and the removal of a part: the part stays
	// on disk without its upload. The next bridge removes it.
	orphan := "res-1/" + mpuDir + strings.Repeat("ab", 16) + "/p00001"
	if _, err := f.local.Put(ctx, orphan, bytes.NewReader(make([]byte, 4096)), 4096, storage.ObjectMeta{}); err != nil {
		t.Fatal(err)
	}
	f2 := newFixture(t, fixtureOpts{dir: dir})
	if _, err := f2.sdk(keyW1).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	if u := f2.b.Usage()["res-1"]; u.StoredBytes != 0 {
		t.Fatalf("stored %d after restart with an orphaned part", u.StoredBytes)
	}
	if left := hidden(f2.local); len(left) != 0 {
		t.Fatalf("orphaned part not removed: %+v", left)
	}
}
