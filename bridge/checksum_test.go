package bridge

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	"hash/crc64"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// crc64NVME is the CRC-64/NVME polynomial (reflected), as S3 uses it.
var crc64NVME = crc64.MakeTable(0x9a6c9329ac4bc9b5)

// checksumOf is the base64 S3 checksum of data for algorithm a, computed
// independently of the bridge.
func checksumOf(a types.ChecksumAlgorithm, data []byte) string {
	var sum []byte
	switch a {
	case types.ChecksumAlgorithmCrc32:
		sum = binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(data))
	case types.ChecksumAlgorithmCrc32c:
		sum = binary.BigEndian.AppendUint32(nil, crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)))
	case types.ChecksumAlgorithmCrc64nvme:
		sum = binary.BigEndian.AppendUint64(nil, crc64.Checksum(data, crc64NVME))
	case types.ChecksumAlgorithmSha1:
		s := sha1.Sum(data)
		sum = s[:]
	case types.ChecksumAlgorithmSha256:
		s := sha256.Sum256(data)
		sum = s[:]
	}
	return base64.StdEncoding.EncodeToString(sum)
}

var allChecksums = []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmCrc32c,
	types.ChecksumAlgorithmCrc64nvme, types.ChecksumAlgorithmSha1, types.ChecksumAlgorithmSha256}

// withSum sets the checksum field of algorithm a on a PutObject input.
func withSum(in *s3.PutObjectInput, a types.ChecksumAlgorithm, v string) {
	switch a {
	case types.ChecksumAlgorithmCrc32:
		in.ChecksumCRC32 = &v
	case types.ChecksumAlgorithmCrc32c:
		in.ChecksumCRC32C = &v
	case types.ChecksumAlgorithmCrc64nvme:
		in.ChecksumCRC64NVME = &v
	case types.ChecksumAlgorithmSha1:
		in.ChecksumSHA1 = &v
	case types.ChecksumAlgorithmSha256:
		in.ChecksumSHA256 = &v
	}
}

func headSum(h *s3.HeadObjectOutput, a types.ChecksumAlgorithm) string {
	return aws.ToString(map[types.ChecksumAlgorithm]*string{
		types.ChecksumAlgorithmCrc32: h.ChecksumCRC32, types.ChecksumAlgorithmCrc32c: h.ChecksumCRC32C,
		types.ChecksumAlgorithmCrc64nvme: h.ChecksumCRC64NVME, types.ChecksumAlgorithmSha1: h.ChecksumSHA1,
		types.ChecksumAlgorithmSha256: h.ChecksumSHA256,
	}[a])
}

func getSum(g *s3.GetObjectOutput, a types.ChecksumAlgorithm) string {
	return aws.ToString(map[types.ChecksumAlgorithm]*string{
		types.ChecksumAlgorithmCrc32: g.ChecksumCRC32, types.ChecksumAlgorithmCrc32c: g.ChecksumCRC32C,
		types.ChecksumAlgorithmCrc64nvme: g.ChecksumCRC64NVME, types.ChecksumAlgorithmSha1: g.ChecksumSHA1,
		types.ChecksumAlgorithmSha256: g.ChecksumSHA256,
	}[a])
}

// TestChecksumsStored: every checksum type sent as a header is verified (a
// wrong one answers BadDigest and stores nothing) and stored: HEAD and GET
// with checksum mode return it, and GetObjectAttributes reports it.
func TestChecksumsStored(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	c := f.sdk(keyW1)
	b := "res-1"
	data := randBytes(100_000, 7)
	for _, a := range allChecksums {
		t.Run(string(a), func(t *testing.T) {
			key := "sum-" + string(a)
			in := &s3.PutObjectInput{Bucket: &b, Key: &key, Body: bytes.NewReader(data), ChecksumAlgorithm: a}
			withSum(in, a, checksumOf(a, []byte("not the data")))
			_, err := c.PutObject(ctx, in)
			wantCode(t, err, "BadDigest", 400)
			if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b, Key: &key}); httpStatus(err) != 404 {
				t.Fatalf("object stored despite a wrong %s: %v", a, err)
			}
			want := checksumOf(a, data)
			in = &s3.PutObjectInput{Bucket: &b, Key: &key, Body: bytes.NewReader(data), ChecksumAlgorithm: a}
			withSum(in, a, want)
			if _, err := c.PutObject(ctx, in); err != nil {
				t.Fatal(err)
			}
			h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b, Key: &key, ChecksumMode: types.ChecksumModeEnabled})
			if err != nil {
				t.Fatal(err)
			}
			if got := headSum(h, a); got != want {
				t.Fatalf("HEAD %s = %q, want %q", a, got, want)
			}
			if h.ChecksumType != types.ChecksumTypeFullObject {
				t.Fatalf("HEAD checksum type %q", h.ChecksumType)
			}
			if len(h.Metadata) != 0 {
				t.Fatalf("bookkeeping leaked into user metadata: %v", h.Metadata)
			}
			g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: &key, ChecksumMode: types.ChecksumModeEnabled})
			if err != nil {
				t.Fatal(err)
			}
			g.Body.Close()
			if got := getSum(g, a); got != want {
				t.Fatalf("GET %s = %q, want %q", a, got, want)
			}
			attrs, err := c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: &b, Key: &key,
				ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesEtag, types.ObjectAttributesChecksum,
					types.ObjectAttributesObjectSize, types.ObjectAttributesStorageClass, types.ObjectAttributesObjectParts}})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToInt64(attrs.ObjectSize) != int64(len(data)) || aws.ToString(attrs.ETag) == "" ||
				attrs.StorageClass != types.StorageClassStandard || attrs.Checksum == nil {
				t.Fatalf("attributes: %+v", attrs)
			}
			if got := aws.ToString(map[types.ChecksumAlgorithm]*string{
				types.ChecksumAlgorithmCrc32: attrs.Checksum.ChecksumCRC32, types.ChecksumAlgorithmCrc32c: attrs.Checksum.ChecksumCRC32C,
				types.ChecksumAlgorithmCrc64nvme: attrs.Checksum.ChecksumCRC64NVME, types.ChecksumAlgorithmSha1: attrs.Checksum.ChecksumSHA1,
				types.ChecksumAlgorithmSha256: attrs.Checksum.ChecksumSHA256,
			}[a]); got != want {
				t.Fatalf("attributes checksum %q, want %q", got, want)
			}
		})
	}
	// A client cannot forge the stored checksum through user metadata.
	key := "forged"
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: &key, Body: bytes.NewReader(data),
		Metadata: map[string]string{metaChecksum: "SHA256 FULL_OBJECT " + checksumOf(types.ChecksumAlgorithmSha256, nil)}}); err != nil {
		t.Fatal(err)
	}
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b, Key: &key, ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(h.ChecksumSHA256) != "" {
		t.Fatalf("forged checksum served: %q", aws.ToString(h.ChecksumSHA256))
	}
}
