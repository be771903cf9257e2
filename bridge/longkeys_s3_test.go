package bridge

import (
	"bytes"
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/flashback-network/flashback/storage"
	"github.com/flashback-network/flashback/testservers"
)

// key1024 is an exactly 1,024-byte client key ending with tag, made of
// segments MinIO takes (it caps them at 255 bytes; S3 does not).
func key1024(tag string) string {
	var sb strings.Builder
	for sb.Len() < 1024-len(tag) {
		sb.WriteString("segment-" + strings.Repeat("s", 90) + "/")
	}
	return sb.String()[:1024-len(tag)] + tag
}

// wrappedS3 is the backend the daemon makes for an S3 unit (storage.New),
// on a fresh bucket of a test MinIO, and a client of that bucket.
func wrappedS3(t *testing.T, endpoint string) (storage.Backend, *s3.Client) {
	t.Helper()
	raw := s3Backend(t, endpoint)
	be, err := storage.New(storage.Config{Kind: storage.KindS3, S3: &storage.S3Config{
		Endpoint: endpoint, PathStyle: true, Bucket: "unit", Prefix: "u/",
		AccessKeyID: testservers.MinIOUser, SecretAccessKey: testservers.MinIOPassword,
	}})
	if err != nil {
		t.Fatal(err)
	}
	return be, raw.Client()
}

// TestLongKeysS3Backend: on a bridge whose unit stores on S3 (names of at
// most 1,024 bytes, the reservation prefix included), 1,024-byte keys work
// like any: PUT, GET (ranges), HEAD, LIST (paged, mixed with short keys),
// COPY either way, multipart, DELETE.
func TestLongKeysS3Backend(t *testing.T) {
	be, raw := wrappedS3(t, testservers.StartMinIO(t))
	f := newFixture(t, fixtureOpts{backendFor: func(string) storage.Backend { return be }})
	ctx := context.Background()
	c := f.sdk(keyW1)
	b := aws.String("res-1")
	long1, long2, dotted := key1024("one"), key1024("two"), "a/../"+key1024("dots")[5:]
	data := randBytes(70_000, 1)
	for _, k := range []string{long1, long2, dotted} {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String(k), Body: bytes.NewReader(data),
			ContentType: aws.String("text/x-long"), Metadata: map[string]string{"origin": "long"}}); err != nil {
			t.Fatalf("PUT %d-byte key: %v", len(k), err)
		}
	}
	if got := getAll(t, c, "res-1", long1); !bytes.Equal(got, data) {
		t.Fatal("GET of a 1,024-byte key: content differs")
	}
	rg, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String(long1), Range: aws.String("bytes=100-199")})
	if err != nil {
		t.Fatal(err)
	}
	part := new(bytes.Buffer)
	part.ReadFrom(rg.Body)
	rg.Body.Close()
	if !bytes.Equal(part.Bytes(), data[100:200]) || aws.ToString(rg.ContentRange) != "bytes 100-199/70000" {
		t.Fatalf("ranged GET: %d bytes, Content-Range %q", part.Len(), aws.ToString(rg.ContentRange))
	}
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: aws.String(dotted)})
	if err != nil || aws.ToInt64(h.ContentLength) != int64(len(data)) || aws.ToString(h.ContentType) != "text/x-long" || h.Metadata["origin"] != "long" {
		t.Fatalf("HEAD: %v %+v", err, h)
	}
	// COPY: long to long, long to short, short to long.
	for _, cp := range [][2]string{{long1, key1024("copy")}, {long2, "short/copy"}, {"short/copy", key1024("back")}} {
		if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: b, Key: aws.String(cp[1]),
			CopySource: aws.String("res-1/" + url.PathEscape(cp[0]))}); err != nil {
			t.Fatalf("COPY %d-byte key to %d-byte key: %v", len(cp[0]), len(cp[1]), err)
		}
		if got := getAll(t, c, "res-1", cp[1]); !bytes.Equal(got, data) {
			t.Fatalf("copy to a %d-byte key: content differs", len(cp[1]))
		}
	}
	longMultipart(t, f, c)
	want := []string{dotted, long1, key1024("back"), key1024("copy"), key1024("mpu"), key1024("one"), long2, "short/copy"}
	slices.Sort(want)
	want = slices.Compact(want)
	if got := listAll(t, c, "", 1); !slices.Equal(got, want) {
		t.Fatalf("LIST by 1: %d keys, want %d", len(got), len(want))
	}
	if got := listAll(t, c, "segment-", 2); !slices.Equal(got, want[1:len(want)-1]) {
		t.Fatalf("LIST segment- by 2: %d keys, want %d", len(got), len(want)-2)
	}
	l, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: b, StartAfter: aws.String(long1)})
	var after []string
	for _, o := range l.Contents {
		after = append(after, aws.ToString(o.Key))
	}
	if i := slices.Index(want, long1); err != nil || !slices.Equal(after, want[i+1:]) {
		t.Fatalf("LIST after a 1,024-byte key: %v, %d keys, want %d", err, len(after), len(want)-i-1)
	}
	// Every name on the service fits its 1,024 bytes.
	names, err := raw.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("unit")})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range names.Contents {
		if len(aws.ToString(o.Key)) > 1024 {
			t.Errorf("a %d-byte name on the backend", len(aws.ToString(o.Key)))
		}
	}
	for _, k := range want {
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: aws.String(k)}); err != nil {
			t.Fatalf("DELETE %d-byte key: %v", len(k), err)
		}
	}
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: aws.String(long1)})
	wantCode(t, err, "NotFound", 404)
	if got := listAll(t, c, "", 100); len(got) != 0 {
		t.Errorf("%d keys listed after deleting all", len(got))
	}
}

// longMultipart uploads key1024("mpu") in two parts (into the backend's
// own upload: the wrapped S3 backend is an Uploader), and aborts another
// upload of a 1,024-byte key.
func longMultipart(t *testing.T, f *fixture, c *s3.Client) {
	ctx := context.Background()
	b, k := aws.String("res-1"), aws.String(key1024("mpu"))
	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: b, Key: k, Metadata: map[string]string{"origin": "mpu"}})
	if err != nil {
		t.Fatal(err)
	}
	p1 := randBytes(5<<20, 2)
	up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: b, Key: k, UploadId: mp.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(p1)})
	if err != nil {
		t.Fatal(err)
	}
	p2 := randBytes(1000, 3)
	up2, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: b, Key: k, UploadId: mp.UploadId, PartNumber: aws.Int32(2), Body: bytes.NewReader(p2)})
	if err != nil {
		t.Fatal(err)
	}
	lu, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: b})
	if err != nil || len(lu.Uploads) != 1 || aws.ToString(lu.Uploads[0].Key) != *k {
		t.Fatalf("ListMultipartUploads: %v, %d uploads", err, len(lu.Uploads))
	}
	if lp, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: b, Key: k, UploadId: mp.UploadId}); err != nil || len(lp.Parts) != 2 {
		t.Fatalf("ListParts: %v, %d parts", err, len(lp.Parts))
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: b, Key: k, UploadId: mp.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{
			{PartNumber: aws.Int32(1), ETag: up.ETag}, {PartNumber: aws.Int32(2), ETag: up2.ETag}}}}); err != nil {
		t.Fatalf("CompleteMultipartUpload: %v", err)
	}
	if got := getAll(t, c, "res-1", *k); !bytes.Equal(got, append(append([]byte{}, p1...), p2...)) {
		t.Fatalf("multipart object: %d bytes, content differs", len(got))
	}
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: k})
	if err != nil || !strings.HasSuffix(aws.ToString(h.ETag), `-2"`) || h.Metadata["origin"] != "mpu" {
		t.Fatalf("HEAD multipart: %v %+v", err, h)
	}
	ab := aws.String(key1024("aborted"))
	mp2, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: b, Key: ab})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: b, Key: ab, UploadId: mp2.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: b, Key: ab, UploadId: mp2.UploadId}); err != nil {
		t.Fatal(err)
	}
	if u := f.b.Usage()["res-1"]; u.StoredBytes <= int64(len(p1)) {
		t.Errorf("stored %d bytes with a %d-byte multipart object", u.StoredBytes, len(p1))
	}
}

// listAll lists the bucket res-1 by pages of maxKeys.
func listAll(t *testing.T, c *s3.Client, prefix string, maxKeys int32) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String("res-1"), Prefix: aws.String(prefix), MaxKeys: aws.Int32(maxKeys)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}
