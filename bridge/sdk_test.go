package bridge

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

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
	sdkBuckets(t, ctx, c, b)
	data, etag := sdkPutGet(t, ctx, f, c, b)
	sdkRangesAndConditions(t, ctx, c, b, data, etag)
	sdkCopy(t, ctx, c, b, data, etag)
	sdkDeletes(t, ctx, f, c, b)
}

// sdkBuckets: the own bucket is listed and "creatable" (idempotently).
func sdkBuckets(t *testing.T, ctx context.Context, c *s3.Client, b string) {
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
}

// sdkPutGet stores dir/obj.bin and reads it back (whole and head); it
// returns the content and its ETag.
func sdkPutGet(t *testing.T, ctx context.Context, f *fixture, c *s3.Client, b string) ([]byte, *string) {
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
	return data, out.ETag
}

// sdkRangesAndConditions reads ranges of dir/obj.bin and checks
// conditional requests against its ETag.
func sdkRangesAndConditions(t *testing.T, ctx context.Context, c *s3.Client, b string, data []byte, etag *string) {
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
	_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: aws.String("dir/obj.bin"), Range: aws.String("bytes=400000-")})
	wantCode(t, err, "InvalidRange", 416)

	// Conditional requests.
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: aws.String("dir/obj.bin"), IfNoneMatch: etag})
	if httpStatus(err) != http.StatusNotModified {
		t.Fatalf("If-None-Match: want 304, got %v", err)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: aws.String("dir/obj.bin"), IfMatch: aws.String(`"nope"`)})
	wantCode(t, err, "PreconditionFailed", 412)
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("dir/obj.bin"), Body: strings.NewReader("x"), IfNoneMatch: aws.String("*")})
	wantCode(t, err, "PreconditionFailed", 412)
}

// sdkCopy copies dir/obj.bin, keeping and replacing metadata.
func sdkCopy(t *testing.T, ctx context.Context, c *s3.Client, b string, data []byte, etag *string) {
	cp, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &b, Key: aws.String("copy.bin"), CopySource: aws.String("res-1/dir/obj.bin")})
	if err != nil {
		t.Fatal(err)
	}
	if *cp.CopyObjectResult.ETag != *etag {
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
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("copy.bin")})
	if err != nil || h.Metadata["color"] != "red" || aws.ToString(h.ContentType) != "text/x-new" || *h.ContentLength != int64(len(data)) {
		t.Fatalf("copy replace: %v %+v", err, h)
	}
}

// sdkDeletes covers missing and zero-byte objects, Delete and
// DeleteObjects, and checks nothing stays charged once all is deleted.
func sdkDeletes(t *testing.T, ctx context.Context, f *fixture, c *s3.Client, b string) {
	// Missing objects.
	_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: aws.String("missing")})
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
