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
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/flashback-network/flashback/storage"
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
		t.Run(string(a), func(t *testing.T) { checkStoredChecksum(t, ctx, c, b, a, data) })
	}
	// A copy (native, or streamed with new metadata) keeps the checksum.
	for _, md := range []types.MetadataDirective{types.MetadataDirectiveCopy, types.MetadataDirectiveReplace} {
		dst := "copy-" + string(md)
		if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &b, Key: &dst, CopySource: aws.String(b + "/sum-SHA256"),
			MetadataDirective: md}); err != nil {
			t.Fatal(err)
		}
		h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b, Key: &dst, ChecksumMode: types.ChecksumModeEnabled})
		if err != nil || aws.ToString(h.ChecksumSHA256) != checksumOf(types.ChecksumAlgorithmSha256, data) {
			t.Fatalf("copy (%s) checksum: %v %q", md, err, aws.ToString(h.ChecksumSHA256))
		}
	}
	// A client cannot forge the stored checksum through user metadata: the
	// bridge's reserved keys are refused, not silently dropped.
	key := "forged"
	forged := map[string]string{metaChecksum: "SHA256 FULL_OBJECT " + checksumOf(types.ChecksumAlgorithmSha256, nil)}
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: &key, Body: bytes.NewReader(data), Metadata: forged})
	wantCode(t, err, "InvalidArgument", 400)
	_, err = c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &b, Key: &key, Metadata: forged})
	wantCode(t, err, "InvalidArgument", 400)
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &b, Key: &key, CopySource: aws.String(b + "/sum-SHA256"),
		MetadataDirective: types.MetadataDirectiveReplace, Metadata: forged})
	wantCode(t, err, "InvalidArgument", 400)
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b, Key: &key}); httpStatus(err) != 404 {
		t.Fatalf("object stored despite reserved metadata: %v", err)
	}
}

// checkStoredChecksum: a wrong checksum of algorithm a answers BadDigest and
// stores nothing; the right one is stored and returned by HEAD, GET and
// GetObjectAttributes.
func checkStoredChecksum(t *testing.T, ctx context.Context, c *s3.Client, b string, a types.ChecksumAlgorithm, data []byte) {
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
}

// metaFirst is the local backend as seen through a backend that writes
// metadata before the content (like the S3, Azure and GCS ones): it never
// takes a metadata trailer.
type metaFirst struct{ *storage.Local }

func (m metaFirst) Put(ctx context.Context, key string, r io.Reader, size int64, meta storage.ObjectMeta) (storage.ObjectInfo, error) {
	meta.Trailer = nil
	return m.Local.Put(ctx, key, r, size, meta)
}

// TestTrailingChecksumStored: the SDK's default upload (aws-chunked with a
// trailing CRC32) has its checksum stored, whether the backend takes
// metadata after the content or not, for objects and for parts.
func TestTrailingChecksumStored(t *testing.T) {
	for _, name := range []string{"trailer", "meta-first"} {
		t.Run(name, func(t *testing.T) {
			o := fixtureOpts{tls: true} // over TLS the SDK sends unsigned aws-chunked bodies with a trailer
			if name == "meta-first" {
				o.backendFor = func(dir string) storage.Backend {
					l, err := storage.NewLocal(storage.LocalConfig{Root: dir})
					if err != nil {
						t.Fatal(err)
					}
					return metaFirst{l}
				}
			}
			f := newFixture(t, o)
			ctx := context.Background()
			c := f.sdk(keyW1)
			b := "res-1"
			data := randBytes(70_000, 9)
			putBytes(t, c, b, "trailing", data)
			if !f.sniff.seen("STREAMING-UNSIGNED-PAYLOAD-TRAILER") && !f.sniff.seen("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER") {
				t.Fatal("the SDK did not send a trailing checksum")
			}
			h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("trailing"), ChecksumMode: types.ChecksumModeEnabled})
			if err != nil {
				t.Fatal(err)
			}
			if want := checksumOf(types.ChecksumAlgorithmCrc32, data); aws.ToString(h.ChecksumCRC32) != want {
				t.Fatalf("HEAD CRC32 %q, want %q", aws.ToString(h.ChecksumCRC32), want)
			}
			mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &b, Key: aws.String("mp"),
				ChecksumAlgorithm: types.ChecksumAlgorithmCrc32, ChecksumType: types.ChecksumTypeFullObject})
			if err != nil {
				t.Fatal(err)
			}
			up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &b, Key: aws.String("mp"), UploadId: mp.UploadId,
				PartNumber: aws.Int32(1), Body: bytes.NewReader(data), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
			if err != nil {
				t.Fatal(err)
			}
			cm, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &b, Key: aws.String("mp"), UploadId: mp.UploadId,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: up.ETag}}}})
			if err != nil {
				t.Fatal(err)
			}
			if want := checksumOf(types.ChecksumAlgorithmCrc32, data); aws.ToString(cm.ChecksumCRC32) != want {
				t.Fatalf("complete CRC32 %q, want %q", aws.ToString(cm.ChecksumCRC32), want)
			}
			lo, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &b})
			if err != nil || len(lo.Contents) != 2 {
				t.Fatalf("listing: %v %d objects", err, len(lo.Contents))
			}
			if got := f.b.Usage()["res-1"].StoredBytes; got != 2*int64(len(data)) {
				t.Fatalf("stored %d, want %d", got, 2*len(data))
			}
		})
	}
}
