package bridge

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/flashback-network/flashback/storage"
	"github.com/flashback-network/flashback/testservers"
)

// s3Backend is a storage.S3 on a fresh bucket of a test MinIO.
func s3Backend(t *testing.T, endpoint string) *storage.S3 {
	t.Helper()
	be, err := storage.NewS3(context.Background(), storage.S3Config{
		Endpoint: endpoint, PathStyle: true, Bucket: "unit", Prefix: "u/",
		AccessKeyID: testservers.MinIOUser, SecretAccessKey: testservers.MinIOPassword,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := be.Client().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("unit")}); err != nil {
		t.Fatal(err)
	}
	return be
}

// TestMultipartNativeS3: over an S3 backend, multipart uploads go into the
// backend's own upload (no part objects, nothing copied at completion),
// with the same client-visible semantics and accounting as on local disk.
func TestMultipartNativeS3(t *testing.T) {
	be := s3Backend(t, testservers.StartMinIO(t))
	f := newFixture(t, fixtureOpts{backendFor: func(string) storage.Backend { return be }})
	testSDKMultipart(t, f)
	// Nothing but the completed objects is left in the backend bucket, and
	// no part ever was an object there (a native upload has none).
	ctx := context.Background()
	objs, err := be.List(ctx, "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		// A completed upload's metadata stays a while (completedTTL), to
		// answer a repeated completion.
		if strings.Contains(o.Key, mpuDir) && !strings.HasSuffix(o.Key, "/meta") {
			t.Errorf("backend still holds %q after the uploads ended", o.Key)
		}
	}
	ups, err := be.Client().ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("unit")})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups.Uploads) != 0 {
		t.Errorf("%d backend uploads left pending", len(ups.Uploads))
	}

	// While an upload is pending its part lives in the backend's upload,
	// not as an object, and is charged; aborting gives it back.
	c := f.sdk(keyW1)
	before := f.b.Usage()["res-1"].StoredBytes
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("res-1"), Key: aws.String("pending")})
	if err != nil {
		t.Fatal(err)
	}
	meta := f.b.Usage()["res-1"].StoredBytes - before // the upload's metadata object
	part := bytes.Repeat([]byte("p"), 6<<20)
	if _, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("res-1"), Key: aws.String("pending"),
		UploadId: cr.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(part)}); err != nil {
		t.Fatal(err)
	}
	if u := f.b.Usage()["res-1"].StoredBytes; u != before+meta+int64(len(part)) {
		t.Errorf("stored bytes with a pending part: %d, want %d", u, before+meta+int64(len(part)))
	}
	objs, _ = be.List(ctx, "res-1/", "", 0)
	for _, o := range objs {
		if o.Size == int64(len(part)) {
			t.Errorf("the pending part is an object in the backend: %q", o.Key)
		}
	}
	ups, err = be.Client().ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("unit")})
	if err != nil || len(ups.Uploads) != 1 {
		t.Fatalf("backend uploads while one is pending: %+v, %v", ups.Uploads, err)
	}
	if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("res-1"), Key: aws.String("pending"), UploadId: cr.UploadId}); err != nil {
		t.Fatal(err)
	}
	if u := f.b.Usage()["res-1"].StoredBytes; u != before {
		t.Errorf("stored bytes after abort: %d, want %d", u, before)
	}
	ups, _ = be.Client().ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("unit")})
	if len(ups.Uploads) != 0 {
		t.Errorf("abort left %d backend uploads", len(ups.Uploads))
	}
}

// TestNativePendingPartsSurviveRestart: over an S3 backend (and an Azure
// one, TestNativeAzurePendingPartsSurviveRestart) a pending upload's parts
// live in the backend's own upload, not as objects; a bridge
// restarted while the upload is pending still counts them in the
// reservation's stored bytes, and gives them back when the upload is
// completed or aborted through the new bridge.
func TestNativePendingPartsSurviveRestart(t *testing.T) {
	testNativePendingPartsSurviveRestart(t, s3Backend(t, testservers.StartMinIO(t)))
}

func testNativePendingPartsSurviveRestart(t *testing.T, be storage.Backend) {
	f := newFixture(t, fixtureOpts{backendFor: func(string) storage.Backend { return be }})
	ctx := context.Background()
	c := f.sdk(keyW1)
	putBytes(t, c, "res-1", "plain", make([]byte, 1000))
	part := bytes.Repeat([]byte("q"), 5<<20)
	var ids []*string
	for _, key := range []string{"to-complete", "to-abort"} {
		cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("res-1"), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("res-1"), Key: aws.String(key),
			UploadId: cr.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(part)}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, cr.UploadId)
	}
	before := f.b.Usage()["res-1"].StoredBytes
	if want := int64(1000 + 2*len(part)); before != want {
		t.Fatalf("stored bytes before the restart: %d, want %d", before, want)
	}

	f2 := newFixture(t, fixtureOpts{backendFor: func(string) storage.Backend { return be }})
	c2 := f2.sdk(keyW1)
	getAll(t, c2, "res-1", "plain")
	if after := f2.b.Usage()["res-1"].StoredBytes; after != before {
		t.Fatalf("stored bytes after the restart: %d, want %d (the pending parts)", after, before)
	}
	lp, err := c2.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("res-1"), Key: aws.String("to-complete"), UploadId: ids[0]})
	if err != nil || len(lp.Parts) != 1 {
		t.Fatalf("ListParts after the restart: %+v %v", lp, err)
	}
	if _, err := c2.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("res-1"), Key: aws.String("to-complete"),
		UploadId: ids[0], MultipartUpload: &s3types.CompletedMultipartUpload{Parts: []s3types.CompletedPart{
			{PartNumber: aws.Int32(1), ETag: lp.Parts[0].ETag}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c2.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("res-1"), Key: aws.String("to-abort"), UploadId: ids[1]}); err != nil {
		t.Fatal(err)
	}
	if u := f2.b.Usage()["res-1"].StoredBytes; u != int64(1000+len(part)) {
		t.Fatalf("stored bytes after completing one upload and aborting the other: %d, want %d", u, 1000+len(part))
	}
}
