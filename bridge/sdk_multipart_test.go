package bridge

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

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
	sdkMultipartAbort(t, ctx, f, c, b, k)
}

// sdkMultipartAbort: abort drops the parts; then, with the completed
// object k deleted, nothing stays charged.
func sdkMultipartAbort(t *testing.T, ctx context.Context, f *fixture, c *s3.Client, b, k string) {
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
