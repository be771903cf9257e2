package bridge

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func partSumField(p *s3.UploadPartOutput, a types.ChecksumAlgorithm) string {
	return aws.ToString(map[types.ChecksumAlgorithm]*string{
		types.ChecksumAlgorithmCrc32: p.ChecksumCRC32, types.ChecksumAlgorithmCrc32c: p.ChecksumCRC32C,
		types.ChecksumAlgorithmCrc64nvme: p.ChecksumCRC64NVME, types.ChecksumAlgorithmSha1: p.ChecksumSHA1,
		types.ChecksumAlgorithmSha256: p.ChecksumSHA256,
	}[a])
}

func completedWithSum(n int32, etag *string, a types.ChecksumAlgorithm, v string) types.CompletedPart {
	cp := types.CompletedPart{PartNumber: aws.Int32(n), ETag: etag}
	switch a {
	case types.ChecksumAlgorithmCrc32:
		cp.ChecksumCRC32 = &v
	case types.ChecksumAlgorithmCrc32c:
		cp.ChecksumCRC32C = &v
	case types.ChecksumAlgorithmCrc64nvme:
		cp.ChecksumCRC64NVME = &v
	case types.ChecksumAlgorithmSha1:
		cp.ChecksumSHA1 = &v
	case types.ChecksumAlgorithmSha256:
		cp.ChecksumSHA256 = &v
	}
	return cp
}

// compositeOf is S3's COMPOSITE checksum of parts: the checksum of the
// concatenated binary part checksums, "-<parts>".
func compositeOf(a types.ChecksumAlgorithm, parts [][]byte) string {
	var cat []byte
	for _, p := range parts {
		raw, _ := base64.StdEncoding.DecodeString(checksumOf(a, p))
		cat = append(cat, raw...)
	}
	return fmt.Sprintf("%s-%d", checksumOf(a, cat), len(parts))
}

// TestMultipartChecksums: an upload's parts carry its algorithm's checksum
// (a wrong one answers BadDigest), CompleteMultipartUpload answers the
// COMPOSITE or FULL_OBJECT checksum S3 computes, HEAD with checksum mode
// returns it, and GetObjectAttributes lists the parts with theirs; the
// upload's x-amz-tagging becomes the object's.
func TestMultipartChecksums(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	c := f.sdk(keyW1)
	b := "res-1"
	cases := []struct {
		algo types.ChecksumAlgorithm
		typ  types.ChecksumType
	}{
		{types.ChecksumAlgorithmSha256, types.ChecksumTypeComposite},
		{types.ChecksumAlgorithmSha1, types.ChecksumTypeComposite},
		{types.ChecksumAlgorithmCrc32c, types.ChecksumTypeComposite},
		{types.ChecksumAlgorithmCrc32, types.ChecksumTypeFullObject},
		{types.ChecksumAlgorithmCrc64nvme, types.ChecksumTypeFullObject},
	}
	parts := [][]byte{randBytes(5<<20, 21), randBytes(1000, 22)}
	for _, tc := range cases {
		t.Run(string(tc.algo)+"-"+string(tc.typ), func(t *testing.T) {
			checkMultipartChecksum(t, c, tc.algo, tc.typ, parts)
		})
	}
	// A part of another algorithm than the upload's is refused.
	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &b, Key: aws.String("mixed"), ChecksumAlgorithm: types.ChecksumAlgorithmSha256})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &b, Key: aws.String("mixed"), UploadId: mp.UploadId, PartNumber: aws.Int32(1),
		Body: strings.NewReader("x"), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
	if httpStatus(err) != 400 {
		t.Fatalf("part of another algorithm: %v", err)
	}
	// Without a checksum from the client the bridge computes the part's.
	out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &b, Key: aws.String("mixed"), UploadId: mp.UploadId, PartNumber: aws.Int32(1),
		Body: strings.NewReader("x")}, func(o *s3.Options) { o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired })
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("x"))
	if aws.ToString(out.ChecksumSHA256) != base64.StdEncoding.EncodeToString(sum[:]) {
		t.Fatalf("computed part checksum %q", aws.ToString(out.ChecksumSHA256))
	}
}

// checkMultipartChecksum runs one upload of parts to res-1 with checksum
// algorithm algo and type typ through TestMultipartChecksums' checks.
func checkMultipartChecksum(t *testing.T, c *s3.Client, algo types.ChecksumAlgorithm, typ types.ChecksumType, parts [][]byte) {
	ctx := context.Background()
	b := "res-1"
	key := "mp-" + string(algo)
	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &b, Key: &key,
		ChecksumAlgorithm: algo, ChecksumType: typ, Tagging: aws.String("kind=multipart")})
	if err != nil {
		t.Fatal(err)
	}
	// A wrong part checksum is BadDigest.
	wrong := checksumOf(algo, []byte("other"))
	_, err = c.UploadPart(ctx, withPartSum(&s3.UploadPartInput{Bucket: &b, Key: &key, UploadId: mp.UploadId,
		PartNumber: aws.Int32(1), Body: bytes.NewReader(parts[1])}, algo, wrong))
	wantCode(t, err, "BadDigest", 400)

	var done []types.CompletedPart
	for i, data := range parts {
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &b, Key: &key, UploadId: mp.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(data), ChecksumAlgorithm: algo})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := partSumField(out, algo), checksumOf(algo, data); got != want {
			t.Fatalf("part %d checksum %q, want %q", i+1, got, want)
		}
		done = append(done, completedWithSum(int32(i+1), out.ETag, algo, partSumField(out, algo)))
	}
	lp, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: &b, Key: &key, UploadId: mp.UploadId})
	if err != nil || len(lp.Parts) != 2 || lp.ChecksumAlgorithm != algo || lp.ChecksumType != typ {
		t.Fatalf("ListParts: %v %+v", err, lp)
	}
	for i, p := range lp.Parts {
		if got := completedSum(types.CompletedPart{ChecksumCRC32: p.ChecksumCRC32, ChecksumCRC32C: p.ChecksumCRC32C,
			ChecksumCRC64NVME: p.ChecksumCRC64NVME, ChecksumSHA1: p.ChecksumSHA1, ChecksumSHA256: p.ChecksumSHA256}, algo); got != checksumOf(algo, parts[i]) {
			t.Fatalf("ListParts part %d checksum %q", i+1, got)
		}
	}
	// A listed part checksum that is not the stored one: InvalidPart.
	bad := append([]types.CompletedPart{completedWithSum(1, done[0].ETag, algo, wrong)}, done[1:]...)
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &b, Key: &key, UploadId: mp.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: bad}})
	wantCode(t, err, "InvalidPart", 400)

	cm, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &b, Key: &key, UploadId: mp.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
	if err != nil {
		t.Fatal(err)
	}
	want := compositeOf(algo, parts)
	if typ == types.ChecksumTypeFullObject {
		want = checksumOf(algo, bytes.Join(parts, nil))
	}
	got := aws.ToString(map[types.ChecksumAlgorithm]*string{
		types.ChecksumAlgorithmCrc32: cm.ChecksumCRC32, types.ChecksumAlgorithmCrc32c: cm.ChecksumCRC32C,
		types.ChecksumAlgorithmCrc64nvme: cm.ChecksumCRC64NVME, types.ChecksumAlgorithmSha1: cm.ChecksumSHA1,
		types.ChecksumAlgorithmSha256: cm.ChecksumSHA256,
	}[algo])
	if got != want || cm.ChecksumType != typ {
		t.Fatalf("complete checksum %q (%s), want %q (%s)", got, cm.ChecksumType, want, typ)
	}
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b, Key: &key, ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	if headSum(h, algo) != want || h.ChecksumType != typ {
		t.Fatalf("HEAD checksum %q (%s), want %q", headSum(h, algo), h.ChecksumType, want)
	}
	attrs, err := c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: &b, Key: &key,
		ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesObjectParts, types.ObjectAttributesObjectSize}})
	if err != nil {
		t.Fatal(err)
	}
	if attrs.ObjectParts == nil || len(attrs.ObjectParts.Parts) != 2 || aws.ToInt64(attrs.ObjectParts.Parts[1].Size) != 1000 {
		t.Fatalf("attributes parts: %+v", attrs.ObjectParts)
	}
	if tags := tagsOf(t, c, b, key); tags["kind"] != "multipart" {
		t.Fatalf("upload tags not on the object: %v", tags)
	}
}

// withPartSum sets the checksum field of algorithm a on an UploadPart input.
func withPartSum(up *s3.UploadPartInput, a types.ChecksumAlgorithm, v string) *s3.UploadPartInput {
	switch a {
	case types.ChecksumAlgorithmCrc32:
		up.ChecksumCRC32 = &v
	case types.ChecksumAlgorithmCrc32c:
		up.ChecksumCRC32C = &v
	case types.ChecksumAlgorithmCrc64nvme:
		up.ChecksumCRC64NVME = &v
	case types.ChecksumAlgorithmSha1:
		up.ChecksumSHA1 = &v
	case types.ChecksumAlgorithmSha256:
		up.ChecksumSHA256 = &v
	}
	return up
}
