package bridge

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"

	"github.com/flashback-network/flashback/storage"
	"github.com/flashback-network/flashback/testservers"
)

// TestUploadPartCopy: parts copied from ranges of existing objects make the
// object (aws-sdk-go-v2 UploadPartCopy and minio-go ComposeObject), bad
// ranges are refused, the quota holds, and a key can copy only from its
// own reservation, only with write permission.
func TestUploadPartCopy(t *testing.T) {
	t.Run("local", func(t *testing.T) { testUploadPartCopy(t, newFixture(t, fixtureOpts{})) })
	// On an S3 backend the upload is the backend's own (storage.Uploader):
	// a copied part must land in it, or completion cannot use it.
	t.Run("s3", func(t *testing.T) {
		be := s3Backend(t, testservers.StartMinIO(t))
		testUploadPartCopy(t, newFixture(t, fixtureOpts{backendFor: func(string) storage.Backend { return be }}))
	})
}

func testUploadPartCopy(t *testing.T, f *fixture) {
	ctx := context.Background()
	c := f.sdk(keyW1)
	b := "res-1"
	src := randBytes(12<<20, 31)
	putBytes(t, c, b, "src", src)
	putBytes(t, f.sdk(keyW2), "res-2", "other", []byte("other reservation"))
	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &b, Key: aws.String("dst"),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c})
	if err != nil {
		t.Fatal(err)
	}
	copyPart := func(c *s3.Client, n int32, source, rng string) (*s3.UploadPartCopyOutput, error) {
		in := &s3.UploadPartCopyInput{Bucket: &b, Key: aws.String("dst"), UploadId: mp.UploadId, PartNumber: aws.Int32(n), CopySource: aws.String(source)}
		if rng != "" {
			in.CopySourceRange = aws.String(rng)
		}
		return c.UploadPartCopy(ctx, in)
	}
	cut := 5 << 20
	p1, err := copyPart(c, 1, b+"/src", fmt.Sprintf("bytes=0-%d", cut-1))
	if err != nil {
		t.Fatal(err)
	}
	p2, err := copyPart(c, 2, b+"/src", fmt.Sprintf("bytes=%d-%d", cut, len(src)-1))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(p1.CopyPartResult.ChecksumCRC32C), checksumOf(types.ChecksumAlgorithmCrc32c, src[:cut]); got != want {
		t.Fatalf("copied part checksum %q, want %q", got, want)
	}
	for _, rng := range []string{fmt.Sprintf("bytes=0-%d", len(src)), "bytes=10-5", "bytes=5-", "items=0-1"} {
		_, err := copyPart(c, 3, b+"/src", rng)
		wantCode(t, err, "InvalidArgument", 400)
	}
	_, err = copyPart(f.sdk(keyR1), 3, b+"/src", "")
	wantCode(t, err, "AccessDenied", 403)
	_, err = copyPart(c, 3, "res-2/other", "")
	wantCode(t, err, "AccessDenied", 403)
	_, err = copyPart(c, 3, b+"/missing", "")
	wantCode(t, err, "NoSuchKey", 404)
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &b, Key: aws.String("dst"), UploadId: mp.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{
			{PartNumber: aws.Int32(1), ETag: p1.CopyPartResult.ETag}, {PartNumber: aws.Int32(2), ETag: p2.CopyPartResult.ETag}}}}); err != nil {
		t.Fatal(err)
	}
	if got := getAll(t, c, b, "dst"); !bytes.Equal(got, src) {
		t.Fatalf("copied object differs (%d vs %d bytes)", len(got), len(src))
	}
	if u := f.b.Usage()["res-1"]; u.StoredBytes != 2*int64(len(src)) {
		t.Fatalf("stored %d, want %d", u.StoredBytes, 2*len(src))
	}

	partCopyMinioCompose(t, ctx, f, b, src, cut)
	partCopyQuota(t, ctx, f)
}

// partCopyMinioCompose: minio-go's ComposeObject is UploadPartCopy with ranges.
func partCopyMinioCompose(t *testing.T, ctx context.Context, f *fixture, b string, src []byte, cut int) {
	mc := f.minio(keyW1)
	if _, err := mc.ComposeObject(ctx, minio.CopyDestOptions{Bucket: b, Object: "composed"},
		minio.CopySrcOptions{Bucket: b, Object: "src", MatchRange: true, Start: 0, End: int64(cut - 1)},
		minio.CopySrcOptions{Bucket: b, Object: "src", MatchRange: true, Start: int64(len(src) - 100), End: int64(len(src) - 1)}); err != nil {
		t.Fatal(err)
	}
	obj, err := mc.GetObject(ctx, b, "composed", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(obj)
	if err != nil {
		t.Fatal(err)
	}
	if want := append(append([]byte{}, src[:cut]...), src[len(src)-100:]...); !bytes.Equal(got, want) {
		t.Fatalf("composed object differs (%d vs %d bytes)", len(got), len(want))
	}
}

// partCopyQuota: a part copy that would exceed the quota is refused and
// charges nothing.
func partCopyQuota(t *testing.T, ctx context.Context, f *fixture) {
	sc := f.sdk(keySmallW)
	sb := "res-small"
	putBytes(t, sc, sb, "src", make([]byte, 600<<10))
	smp, err := sc.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &sb, Key: aws.String("dst")})
	if err != nil {
		t.Fatal(err)
	}
	before := f.b.Usage()[sb].StoredBytes
	_, err = sc.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: &sb, Key: aws.String("dst"), UploadId: smp.UploadId,
		PartNumber: aws.Int32(1), CopySource: aws.String(sb + "/src")})
	wantCode(t, err, "QuotaExceeded", 403)
	if after := f.b.Usage()[sb].StoredBytes; after != before {
		t.Fatalf("refused part copy charged %d bytes", after-before)
	}
}
