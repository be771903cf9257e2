package bridge

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestSDK(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", useTLS), func(t *testing.T) {
			f := newFixture(t, fixtureOpts{tls: useTLS})
			testSDKObjects(t, f)
			testSDKList(t, f)
			testSDKMultipart(t, f)
			testSDKPresign(t, f)
			if useTLS && !f.sniff.seen("STREAMING-UNSIGNED-PAYLOAD-TRAILER") {
				// Over TLS the SDK's default is aws-chunked with a
				// trailing CRC32; make sure that path was exercised.
				t.Errorf("SDK never sent STREAMING-UNSIGNED-PAYLOAD-TRAILER; modes seen: %v", f.sniff.modes)
			}
			t.Logf("payload modes seen: %v", f.sniff.modes)
		})
	}
}

func testSDKObjects(t *testing.T, f *fixture) {
	ctx := context.Background()
	c := f.sdk(keyW1)
	b := "res-1"

	// The own bucket is listed and "creatable" (idempotently).
	lb, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(lb.Buckets) != 1 || *lb.Buckets[0].Name != "res-1" {
		t.Fatalf("ListBuckets: %+v", lb.Buckets)
	}
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatalf("CreateBucket own reservation: %v", err)
	}
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatalf("HeadBucket: %v", err)
	}

	data := randBytes(300_000, 1)
	out, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &b, Key: aws.String("dir/obj.bin"), Body: bytes.NewReader(data),
		ContentType: aws.String("application/x-test"), Metadata: map[string]string{"color": "blue"},
	})
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(data)
	if want := `"` + hex.EncodeToString(sum[:]) + `"`; *out.ETag != want {
		t.Fatalf("etag %s, want %s", *out.ETag, want)
	}
	if got := getAll(t, c, b, "dir/obj.bin"); !bytes.Equal(got, data) {
		t.Fatal("content mismatch")
	}
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("dir/obj.bin")})
	if err != nil {
		t.Fatal(err)
	}
	if *h.ContentLength != int64(len(data)) || aws.ToString(h.ContentType) != "application/x-test" || h.Metadata["color"] != "blue" {
		t.Fatalf("head: len %d type %q meta %v", *h.ContentLength, aws.ToString(h.ContentType), h.Metadata)
	}

	// A non-seekable body of known length: over TLS the SDK streams it
	// aws-chunked with a trailing CRC32 (its default), which the bridge
	// verifies and echoes.
	if strings.HasPrefix(f.url, "https") {
		po, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("streamed"),
			Body: struct{ io.Reader }{bytes.NewReader(data)}, ContentLength: aws.Int64(int64(len(data)))})
		if err != nil {
			t.Fatalf("streamed put: %v", err)
		}
		if aws.ToString(po.ChecksumCRC32) == "" {
			t.Errorf("streamed put: no CRC32 echoed")
		}
		if got := getAll(t, c, b, "streamed"); !bytes.Equal(got, data) {
			t.Fatal("streamed content mismatch")
		}
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b, Key: aws.String("streamed")}); err != nil {
			t.Fatal(err)
		}
	}

	// Ranges.
	for _, rg := range []struct {
		hdr        string
		start, end int
	}{{"bytes=0-0", 0, 0}, {"bytes=100-199", 100, 199}, {"bytes=299990-", 299990, 299999}, {"bytes=-10", 299990, 299999}, {"bytes=299000-999999", 299000, 299999}} {
		g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: aws.String("dir/obj.bin"), Range: aws.String(rg.hdr)})
		if err != nil {
			t.Fatalf("range %s: %v", rg.hdr, err)
		}
		got, _ := io.ReadAll(g.Body)
		g.Body.Close()
		if !bytes.Equal(got, data[rg.start:rg.end+1]) {
			t.Fatalf("range %s: got %d bytes", rg.hdr, len(got))
		}
		if want := fmt.Sprintf("bytes %d-%d/%d", rg.start, rg.end, len(data)); aws.ToString(g.ContentRange) != want {
			t.Fatalf("range %s: content-range %q want %q", rg.hdr, aws.ToString(g.ContentRange), want)
		}
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: aws.String("dir/obj.bin"), Range: aws.String("bytes=400000-")})
	wantCode(t, err, "InvalidRange", 416)

	// Conditional requests.
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: aws.String("dir/obj.bin"), IfNoneMatch: out.ETag})
	if httpStatus(err) != http.StatusNotModified {
		t.Fatalf("If-None-Match: want 304, got %v", err)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: aws.String("dir/obj.bin"), IfMatch: aws.String(`"nope"`)})
	wantCode(t, err, "PreconditionFailed", 412)
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("dir/obj.bin"), Body: strings.NewReader("x"), IfNoneMatch: aws.String("*")})
	wantCode(t, err, "PreconditionFailed", 412)

	// Copy, keeping and replacing metadata.
	cp, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &b, Key: aws.String("copy.bin"), CopySource: aws.String("res-1/dir/obj.bin")})
	if err != nil {
		t.Fatal(err)
	}
	if *cp.CopyObjectResult.ETag != *out.ETag {
		t.Fatalf("copy etag %s", *cp.CopyObjectResult.ETag)
	}
	if got := getAll(t, c, b, "copy.bin"); !bytes.Equal(got, data) {
		t.Fatal("copy content mismatch")
	}
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &b, Key: aws.String("copy.bin"), CopySource: aws.String("res-1/copy.bin"),
		MetadataDirective: types.MetadataDirectiveReplace, Metadata: map[string]string{"color": "red"}, ContentType: aws.String("text/x-new")})
	if err != nil {
		t.Fatal(err)
	}
	h, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("copy.bin")})
	if err != nil || h.Metadata["color"] != "red" || aws.ToString(h.ContentType) != "text/x-new" || *h.ContentLength != int64(len(data)) {
		t.Fatalf("copy replace: %v %+v", err, h)
	}

	// Missing objects.
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: aws.String("missing")})
	wantCode(t, err, "NoSuchKey", 404)

	// Zero-byte object.
	putBytes(t, c, b, "empty", nil)
	if got := getAll(t, c, b, "empty"); len(got) != 0 {
		t.Fatal("empty object not empty")
	}

	// Delete and delete multiple.
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b, Key: aws.String("empty")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b, Key: aws.String("empty")}); err != nil {
		t.Fatalf("deleting a missing key: %v", err)
	}
	for i := 0; i < 3; i++ {
		putBytes(t, c, b, fmt.Sprintf("multi/%d", i), []byte("x"))
	}
	dm, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &b, Delete: &types.Delete{Objects: []types.ObjectIdentifier{
		{Key: aws.String("multi/0")}, {Key: aws.String("multi/1")}, {Key: aws.String("multi/2")}, {Key: aws.String("multi/none")},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(dm.Deleted) != 4 || len(dm.Errors) != 0 {
		t.Fatalf("DeleteObjects: deleted %d errors %v", len(dm.Deleted), dm.Errors)
	}
	lo, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &b, Prefix: aws.String("multi/")})
	if err != nil || len(lo.Contents) != 0 {
		t.Fatalf("after DeleteObjects: %v %d", err, len(lo.Contents))
	}
	for _, k := range []string{"dir/obj.bin", "copy.bin"} {
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b, Key: &k}); err != nil {
			t.Fatal(err)
		}
	}
	if u := f.b.Usage()["res-1"]; u.StoredBytes != 0 {
		t.Fatalf("stored bytes after deleting everything: %d", u.StoredBytes)
	}
}

func testSDKList(t *testing.T, f *fixture) {
	ctx := context.Background()
	c := f.sdk(keyW1)
	b := "res-1"
	keys := []string{"a.txt", "b/1", "b/2", "b/c/3", "c", "d/1", "e.txt", "f/g/h"}
	for i := 0; i < 25; i++ {
		keys = append(keys, fmt.Sprintf("many/%03d", i))
	}
	for _, k := range keys {
		putBytes(t, c, b, k, []byte(k))
	}
	// A pending multipart upload must not show in listings.
	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &b, Key: aws.String("hidden")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &b, Key: aws.String("hidden"), UploadId: mp.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("part")}); err != nil {
		t.Fatal(err)
	}
	defer c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &b, Key: aws.String("hidden"), UploadId: mp.UploadId})

	sorted := append([]string(nil), keys...)
	sort.Strings(sorted)

	// v2, no delimiter, paginated by 4.
	var got []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &b, MaxKeys: aws.Int32(4)})
	pages := 0
	for p.HasMorePages() {
		pg, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, o := range pg.Contents {
			got = append(got, *o.Key)
			if *o.Size != int64(len(*o.Key)) {
				t.Fatalf("size of %s: %d", *o.Key, *o.Size)
			}
		}
	}
	if strings.Join(got, ",") != strings.Join(sorted, ",") || pages != (len(keys)+3)/4 {
		t.Fatalf("v2 listing (%d pages): %v", pages, got)
	}

	// v2 with delimiter, paginated by 2.
	got = nil
	p = s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &b, Delimiter: aws.String("/"), MaxKeys: aws.Int32(2)})
	for p.HasMorePages() {
		pg, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range pg.Contents {
			got = append(got, *o.Key)
		}
		for _, cp := range pg.CommonPrefixes {
			got = append(got, *cp.Prefix)
		}
	}
	sort.Strings(got)
	if want := "a.txt,b/,c,d/,e.txt,f/,many/"; strings.Join(got, ",") != want {
		t.Fatalf("v2 delimiter listing: %v want %s", got, want)
	}

	// v2 with prefix and delimiter.
	lo, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &b, Prefix: aws.String("b/"), Delimiter: aws.String("/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(lo.Contents) != 2 || len(lo.CommonPrefixes) != 1 || *lo.CommonPrefixes[0].Prefix != "b/c/" {
		t.Fatalf("prefix b/: %d objects, prefixes %v", len(lo.Contents), lo.CommonPrefixes)
	}
	// StartAfter.
	lo, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &b, StartAfter: aws.String("many/020")})
	if err != nil || len(lo.Contents) == 0 || *lo.Contents[0].Key != "many/021" {
		t.Fatalf("start-after: %v %v", err, lo.Contents)
	}

	// v1 with markers, paginated by 3, with delimiter.
	got = nil
	marker := ""
	for {
		lv1, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: &b, Delimiter: aws.String("/"), MaxKeys: aws.Int32(3), Marker: aws.String(marker)})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range lv1.Contents {
			got = append(got, *o.Key)
		}
		for _, cp := range lv1.CommonPrefixes {
			got = append(got, *cp.Prefix)
		}
		if !aws.ToBool(lv1.IsTruncated) {
			break
		}
		marker = aws.ToString(lv1.NextMarker)
	}
	sort.Strings(got)
	if want := "a.txt,b/,c,d/,e.txt,f/,many/"; strings.Join(got, ",") != want {
		t.Fatalf("v1 delimiter listing: %v want %s", got, want)
	}
	// v1 without delimiter.
	lv1, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: &b, Prefix: aws.String("many/"), MaxKeys: aws.Int32(10)})
	if err != nil || len(lv1.Contents) != 10 || !aws.ToBool(lv1.IsTruncated) {
		t.Fatalf("v1: %v %d", err, len(lv1.Contents))
	}

	for _, k := range keys {
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b, Key: aws.String(k)}); err != nil {
			t.Fatal(err)
		}
	}
}

func testSDKMultipart(t *testing.T, f *fixture) {
	ctx := context.Background()
	c := f.sdk(keyW1)
	b, k := "res-1", "big/multi.bin"
	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &b, Key: &k, ContentType: aws.String("application/x-mp"),
		Metadata: map[string]string{"origin": "mp"}})
	if err != nil {
		t.Fatal(err)
	}
	sizes := []int{5 << 20, 5 << 20, 1234}
	var all []byte
	var parts []types.CompletedPart
	for i, n := range sizes {
		data := randBytes(n, uint64(10+i))
		all = append(all, data...)
		up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &b, Key: &k, UploadId: mp.UploadId, PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(data)})
		if err != nil {
			t.Fatalf("part %d: %v", i+1, err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: up.ETag, ChecksumCRC32: up.ChecksumCRC32})
	}
	lp, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: &b, Key: &k, UploadId: mp.UploadId})
	if err != nil || len(lp.Parts) != 3 || *lp.Parts[2].Size != 1234 {
		t.Fatalf("ListParts: %v %+v", err, lp)
	}
	lp, err = c.ListParts(ctx, &s3.ListPartsInput{Bucket: &b, Key: &k, UploadId: mp.UploadId, MaxParts: aws.Int32(2)})
	if err != nil || len(lp.Parts) != 2 || !aws.ToBool(lp.IsTruncated) {
		t.Fatalf("ListParts paged: %v %+v", err, lp)
	}
	lu, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &b})
	if err != nil || len(lu.Uploads) != 1 || *lu.Uploads[0].Key != k || *lu.Uploads[0].UploadId != *mp.UploadId {
		t.Fatalf("ListMultipartUploads: %v %+v", err, lu.Uploads)
	}
	// Parts count towards stored bytes while pending.
	if u := f.b.Usage()["res-1"]; u.StoredBytes < int64(len(all)) {
		t.Fatalf("stored %d while parts pending (%d)", u.StoredBytes, len(all))
	}
	// Wrong order and unknown parts are rejected.
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &b, Key: &k, UploadId: mp.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{parts[1], parts[0]}}})
	wantCode(t, err, "InvalidPartOrder", 400)
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &b, Key: &k, UploadId: mp.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: aws.String(`"00000000000000000000000000000000"`)}}}})
	wantCode(t, err, "InvalidPart", 400)

	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &b, Key: &k, UploadId: mp.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		t.Fatal(err)
	}
	if got := getAll(t, c, b, k); !bytes.Equal(got, all) {
		t.Fatalf("multipart content mismatch (%d vs %d bytes)", len(got), len(all))
	}
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b, Key: &k})
	if err != nil || aws.ToString(h.ContentType) != "application/x-mp" || h.Metadata["origin"] != "mp" {
		t.Fatalf("multipart head: %v %+v", err, h)
	}
	lu, err = c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &b})
	if err != nil || len(lu.Uploads) != 0 {
		t.Fatalf("uploads left after complete: %v %+v", err, lu.Uploads)
	}
	if u := f.b.Usage()["res-1"]; u.StoredBytes != int64(len(all)) {
		t.Fatalf("stored %d after complete, want %d", u.StoredBytes, len(all))
	}

	// Abort drops the parts.
	mp2, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &b, Key: aws.String("aborted")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &b, Key: aws.String("aborted"), UploadId: mp2.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(make([]byte, 1000))}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &b, Key: aws.String("aborted"), UploadId: mp2.UploadId}); err != nil {
		t.Fatal(err)
	}
	_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &b, Key: aws.String("aborted"), UploadId: mp2.UploadId, PartNumber: aws.Int32(2), Body: strings.NewReader("x")})
	wantCode(t, err, "NoSuchUpload", 404)
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b, Key: &k}); err != nil {
		t.Fatal(err)
	}
	if u := f.b.Usage()["res-1"]; u.StoredBytes != 0 {
		t.Fatalf("stored %d after abort and delete", u.StoredBytes)
	}
}

func testSDKPresign(t *testing.T, f *fixture) {
	ctx := context.Background()
	c := f.sdk(keyW1)
	pc := s3.NewPresignClient(c)
	b, k := "res-1", "presigned.txt"
	hc := httpClient(true)

	put, err := pc.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: &k}, s3.WithPresignExpires(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPut, put.URL, strings.NewReader("hello presigned"))
	for h, v := range put.SignedHeader {
		req.Header[h] = v
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("presigned PUT: %d %s", resp.StatusCode, body)
	}

	get, err := pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: &k}, s3.WithPresignExpires(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	resp, err = hc.Get(get.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "hello presigned" {
		t.Fatalf("presigned GET: %d %q", resp.StatusCode, body)
	}

	// Tampering with a presigned URL breaks its signature.
	resp, err = hc.Get(strings.Replace(get.URL, "presigned.txt", "presigned.txx", 1))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(body), "<Code>SignatureDoesNotMatch</Code>") {
		t.Fatalf("tampered presigned GET: %d %s", resp.StatusCode, body)
	}

	// Expired.
	exp, err := pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: &k}, s3.WithPresignExpires(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2100 * time.Millisecond)
	resp, err = hc.Get(exp.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(body), "<Code>AccessDenied</Code>") || !strings.Contains(string(body), "expired") {
		t.Fatalf("expired presigned GET: %d %s", resp.StatusCode, body)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b, Key: &k}); err != nil {
		t.Fatal(err)
	}
}

func TestBadDigest(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	c := f.sdk(keyW1)
	b := "res-1"
	wrong := md5.Sum([]byte("something else"))
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("bad"), Body: strings.NewReader("the content"),
		ContentMD5: aws.String(base64.StdEncoding.EncodeToString(wrong[:]))})
	wantCode(t, err, "BadDigest", 400)
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("bad")})
	if httpStatus(err) != 404 {
		t.Fatalf("object stored despite BadDigest: %v", err)
	}
	// A large body (streamed, not buffered by the server) too.
	big := randBytes(6<<20, 3)
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("bad"), Body: bytes.NewReader(big),
		ContentMD5: aws.String(base64.StdEncoding.EncodeToString(wrong[:]))})
	wantCode(t, err, "BadDigest", 400)
	// And a part.
	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &b, Key: aws.String("badmp")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &b, Key: aws.String("badmp"), UploadId: mp.UploadId, PartNumber: aws.Int32(1),
		Body: strings.NewReader("part"), ContentMD5: aws.String(base64.StdEncoding.EncodeToString(wrong[:]))})
	wantCode(t, err, "BadDigest", 400)
	// A correct Content-MD5 works.
	good := md5.Sum([]byte("the content"))
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("good"), Body: strings.NewReader("the content"),
		ContentMD5: aws.String(base64.StdEncoding.EncodeToString(good[:]))}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &b, Key: aws.String("badmp"), UploadId: mp.UploadId}); err != nil {
		t.Fatal(err)
	}
	if u := f.b.Usage()["res-1"]; u.StoredBytes != int64(len("the content")) {
		t.Fatalf("stored %d, want %d", u.StoredBytes, len("the content"))
	}
}
