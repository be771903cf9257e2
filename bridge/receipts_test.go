package bridge

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/receipt"
	"github.com/flashback-network/flashback/storage"
	"github.com/flashback-network/flashback/testservers"
)

var testProviderKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))

func receiptHeader(md middleware.Metadata) string {
	if resp, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); ok {
		return resp.Header.Get(receipt.Header)
	}
	return ""
}

// wantReceipt decodes and verifies the receipt of a response and checks
// that it names the test provider, chain, reservation, key and op, with a
// time from the bridge's clock between before and now.
func wantReceipt(t *testing.T, header, res, key, op string, before time.Time) *receipt.Receipt {
	t.Helper()
	if header == "" {
		t.Fatalf("%s %s/%s: no %s header", op, res, key, receipt.Header)
	}
	r, err := receipt.Decode(header)
	if err != nil {
		t.Fatalf("%s %s/%s: decode receipt: %v", op, res, key, err)
	}
	if err := r.Verify(); err != nil {
		t.Fatalf("%s %s/%s: verify receipt: %v", op, res, key, err)
	}
	wantProvider := address.FromPubKey(testProviderKey.Public().(ed25519.PublicKey))
	if r.Provider != wantProvider || r.ChainID != testChainID || r.Reservation != res || r.Key != key || r.Op != op {
		t.Fatalf("receipt %+v, want provider %s chain %s %s %s/%s", r, wantProvider, testChainID, op, res, key)
	}
	if r.Time < before.Unix() || r.Time > time.Now().Unix() {
		t.Fatalf("receipt time %d outside [%d, now]", r.Time, before.Unix())
	}
	return r
}

// wantPutReceipt checks a put receipt of a single-piece object of data.
func wantPutReceipt(t *testing.T, header, res, key string, data []byte, etag *string, before time.Time) {
	t.Helper()
	r := wantReceipt(t, header, res, key, receipt.OpPut, before)
	sum := sha256.Sum256(data)
	if r.Size != int64(len(data)) || !bytes.Equal(r.ContentHash, sum[:]) || len(r.PartSizes) != 0 {
		t.Fatalf("%s: receipt size %d hash %x parts %v, want %d %x none", key, r.Size, r.ContentHash, r.PartSizes, len(data), sum)
	}
	if etag != nil && `"`+r.ETag+`"` != *etag {
		t.Fatalf("%s: receipt etag %q, response %s", key, r.ETag, *etag)
	}
}

// TestReceiptsSignedWrites: PutObject (in the SDK's payload modes over
// HTTP and TLS, with a SHA-256 checksum, empty), both kinds of
// CopyObject and DeleteObject answer a verifiable receipt of what was
// stored; DeleteObjects answers none.
func TestReceiptsSignedWrites(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", useTLS), func(t *testing.T) {
			f := newFixture(t, fixtureOpts{tls: useTLS, receiptKey: testProviderKey})
			ctx := context.Background()
			c := f.sdk(keyW1)
			b := "res-1"
			before := time.Now().Add(-time.Second)
			data := randBytes(300_000, 41)
			for _, algo := range []types.ChecksumAlgorithm{"", types.ChecksumAlgorithmSha256} {
				key := "obj-" + string(algo)
				out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: &key, Body: bytes.NewReader(data), ChecksumAlgorithm: algo})
				if err != nil {
					t.Fatal(err)
				}
				wantPutReceipt(t, receiptHeader(out.ResultMetadata), b, key, data, out.ETag, before)
			}
			// Above asyncHashMin: hashed on its own goroutine (over TLS).
			large := randBytes(9<<20+17, 42)
			out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("large"), Body: bytes.NewReader(large)})
			if err != nil {
				t.Fatal(err)
			}
			wantPutReceipt(t, receiptHeader(out.ResultMetadata), b, "large", large, out.ETag, before)
			out, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("empty"), Body: bytes.NewReader(nil)})
			if err != nil {
				t.Fatal(err)
			}
			wantPutReceipt(t, receiptHeader(out.ResultMetadata), b, "empty", nil, out.ETag, before)
			t.Logf("payload modes seen: %v", f.sniff.modes)

			for _, dir := range []types.MetadataDirective{types.MetadataDirectiveCopy, types.MetadataDirectiveReplace} {
				key := "copy-" + string(dir)
				cp, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &b, Key: &key, CopySource: aws.String(b + "/obj-"), MetadataDirective: dir})
				if err != nil {
					t.Fatal(err)
				}
				wantPutReceipt(t, receiptHeader(cp.ResultMetadata), b, key, data, cp.CopyObjectResult.ETag, before)
			}

			del, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b, Key: aws.String("obj-")})
			if err != nil {
				t.Fatal(err)
			}
			r := wantReceipt(t, receiptHeader(del.ResultMetadata), b, "obj-", receipt.OpDelete, before)
			if r.Size != 0 || r.ContentHash != nil {
				t.Fatalf("delete receipt carries size %d hash %x", r.Size, r.ContentHash)
			}
			dels, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &b, Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: aws.String("empty")}}}})
			if err != nil {
				t.Fatal(err)
			}
			if h := receiptHeader(dels.ResultMetadata); h != "" || len(dels.Deleted) != 1 {
				t.Fatalf("DeleteObjects: receipt %q, deleted %d", h, len(dels.Deleted))
			}
		})
	}
}

// TestReceiptIgnoresUnverifiedHashHeader: a presigned PUT's
// x-amz-content-sha256 (signed into the URL) is checked by nobody against
// the body, so a consumer could name a hash its bytes do not have and
// later claim the provider lost the object: the receipt has the hash of
// what was stored.
func TestReceiptIgnoresUnverifiedHashHeader(t *testing.T) {
	f := newFixture(t, fixtureOpts{receiptKey: testProviderKey})
	ctx := context.Background()
	data := []byte("the real content")
	forged := fmt.Sprintf("%x", sha256.Sum256([]byte("something else")))
	req, _ := http.NewRequest(http.MethodPut, f.url+"/res-1/presigned.bin?X-Amz-Expires=60", bytes.NewReader(data))
	req.Header.Set("X-Amz-Content-Sha256", forged)
	creds := aws.Credentials{AccessKeyID: keyW1.AccessKeyID, SecretAccessKey: keyW1.Secret}
	url, signed, err := v4.NewSigner().PresignHTTP(ctx, creds, req, "UNSIGNED-PAYLOAD", "s3", "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.ToLower(fmt.Sprint(signed)), "x-amz-content-sha256") && !strings.Contains(strings.ToLower(url), "x-amz-content-sha256") {
		t.Fatalf("the forged hash is not part of the presigned request: %s %v", url, signed)
	}
	preq, _ := http.NewRequest(http.MethodPut, url, bytes.NewReader(data))
	for h, v := range signed {
		preq.Header[h] = v
	}
	before := time.Now().Add(-time.Second)
	resp, err := httpClient(true).Do(preq)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("presigned PUT: %d %s", resp.StatusCode, body)
	}
	etag := resp.Header.Get("ETag")
	wantPutReceipt(t, resp.Header.Get(receipt.Header), "res-1", "presigned.bin", data, &etag, before)
}

// TestReceiptMultipart: the receipt of a completed upload has the part
// sizes and the multipart hash, which ContentHashOf recomputes from the
// downloaded object; a repeated completion answers the same receipt; and
// without the parts' kept hashes the bridge reads the object back to the
// same result.
func TestReceiptMultipart(t *testing.T) {
	f := newFixture(t, fixtureOpts{receiptKey: testProviderKey})
	testReceiptMultipart(t, f, true)
}

func TestReceiptMultipartNativeS3(t *testing.T) {
	be := s3Backend(t, testservers.StartMinIO(t))
	f := newFixture(t, fixtureOpts{receiptKey: testProviderKey, backendFor: func(string) storage.Backend { return be }})
	testReceiptMultipart(t, f, false)
}

func testReceiptMultipart(t *testing.T, f *fixture, local bool) {
	ctx := context.Background()
	c := f.sdk(keyW1)
	b := "res-1"
	sizes := []int64{5 << 20, 5 << 20, 1234}
	for _, dropKept := range []bool{false, true} {
		if dropKept && !local {
			continue
		}
		key := fmt.Sprintf("mp-%v", dropKept)
		before := time.Now().Add(-time.Second)
		mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &b, Key: &key})
		if err != nil {
			t.Fatal(err)
		}
		var parts []types.CompletedPart
		for i, size := range sizes {
			n := int32(i + 1)
			up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &b, Key: &key, UploadId: mp.UploadId, PartNumber: &n,
				Body: bytes.NewReader(randBytes(int(size), uint64(50+i)))})
			if err != nil {
				t.Fatal(err)
			}
			parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: up.ETag})
		}
		if dropKept {
			br := bucketRef{res: Reservation{ID: b}}
			if err := f.local.Delete(ctx, partHashKey(br, *mp.UploadId, 2)); err != nil {
				t.Fatalf("drop part 2's kept hash: %v", err)
			}
		}
		in := &s3.CompleteMultipartUploadInput{Bucket: &b, Key: &key, UploadId: mp.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}
		done, err := c.CompleteMultipartUpload(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		header := receiptHeader(done.ResultMetadata)
		r := wantReceipt(t, header, b, key, receipt.OpPut, before)
		if fmt.Sprint(r.PartSizes) != fmt.Sprint(sizes) || `"`+r.ETag+`"` != *done.ETag {
			t.Fatalf("receipt parts %v etag %s, want %v %s", r.PartSizes, r.ETag, sizes, *done.ETag)
		}
		got := getAll(t, c, b, key)
		sum, err := receipt.ContentHashOf(bytes.NewReader(got), r.PartSizes)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(sum, r.ContentHash) || r.Size != int64(len(got)) {
			t.Fatalf("dropKept=%v: ContentHashOf(object) %x, receipt %x (size %d, object %d)", dropKept, sum, r.ContentHash, r.Size, len(got))
		}
		again, err := c.CompleteMultipartUpload(ctx, in)
		if err != nil {
			t.Fatalf("repeated completion: %v", err)
		}
		if h := receiptHeader(again.ResultMetadata); h != header {
			t.Fatalf("repeated completion answered receipt %q, want the first %q", h, header)
		}
	}
}

// TestNoReceiptsWithoutKey: a bridge with no receipt key sends no
// receipt header, for any write or delete.
func TestNoReceiptsWithoutKey(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	c := f.sdk(keyW1)
	b := "res-1"
	put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("a"), Body: strings.NewReader("hello")})
	if err != nil {
		t.Fatal(err)
	}
	cp, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &b, Key: aws.String("b"), CopySource: aws.String(b + "/a")})
	if err != nil {
		t.Fatal(err)
	}
	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &b, Key: aws.String("m")})
	if err != nil {
		t.Fatal(err)
	}
	up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &b, Key: aws.String("m"), UploadId: mp.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("part")})
	if err != nil {
		t.Fatal(err)
	}
	done, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &b, Key: aws.String("m"), UploadId: mp.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: up.ETag}}}})
	if err != nil {
		t.Fatal(err)
	}
	del, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b, Key: aws.String("a")})
	if err != nil {
		t.Fatal(err)
	}
	for name, md := range map[string]middleware.Metadata{"put": put.ResultMetadata, "copy": cp.ResultMetadata,
		"complete": done.ResultMetadata, "delete": del.ResultMetadata} {
		if _, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); !ok {
			t.Fatalf("%s: no raw response to look at", name)
		}
		if h := receiptHeader(md); h != "" {
			t.Errorf("%s: receipt %q from a bridge without a key", name, h)
		}
	}
}

func TestReceiptConfig(t *testing.T) {
	base := Config{Backend: nil, Keys: NewStaticKeys(), Reservations: NewStaticReservations()}
	f := newFixture(t, fixtureOpts{})
	base.Backend = f.local
	for name, cfg := range map[string]func(c *Config){
		"no chain id": func(c *Config) { c.ReceiptKey = testProviderKey },
		"short key":   func(c *Config) { c.ReceiptKey, c.ChainID = testProviderKey[:32], testChainID },
	} {
		c := base
		cfg(&c)
		if _, err := New(c); err == nil {
			t.Errorf("%s: New accepted the config", name)
		}
	}
}

// asyncHasher hashes exactly what was read, in any read sizes; reads after
// finish fail and finish can be called again.
func TestAsyncHasher(t *testing.T) {
	data := randBytes(3*asyncHashChunk+12345, 43)
	a := newAsyncHasher(bytes.NewReader(data))
	var got []byte
	for _, n := range []int{1, 7, asyncHashChunk + 3, 5 * asyncHashChunk} {
		buf := make([]byte, n)
		k, err := a.Read(buf)
		got = append(got, buf[:k]...)
		if err != nil {
			t.Fatal(err)
		}
	}
	if rest, err := io.ReadAll(a); err != nil {
		t.Fatal(err)
	} else {
		got = append(got, rest...)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("asyncHasher changed the bytes read through it")
	}
	want := sha256.Sum256(data)
	if a.finish() != want || a.finish() != want {
		t.Fatal("asyncHasher sum is not SHA-256 of what was read")
	}
	if _, err := a.Read(make([]byte, 10)); err == nil {
		t.Fatal("read after finish succeeded")
	}
}
