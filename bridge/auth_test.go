package bridge

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestAuthorization(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	w1 := f.sdk(keyW1)
	putBytes(t, w1, "res-1", "obj", []byte("data"))
	putBytes(t, f.sdk(keyW2), "res-2", "obj2", []byte("data2"))

	t.Run("unknown key", func(t *testing.T) {
		_, err := f.sdk(Key{AccessKeyID: "AKIANOBODY", Secret: "x"}).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("res-1"), Key: aws.String("obj")})
		wantCode(t, err, "InvalidAccessKeyId", 403)
	})
	t.Run("wrong secret", func(t *testing.T) {
		k := keyW1
		k.Secret = "not-the-secret"
		_, err := f.sdk(k).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("res-1"), Key: aws.String("obj")})
		wantCode(t, err, "SignatureDoesNotMatch", 403)
	})
	t.Run("other reservation's bucket", func(t *testing.T) { authOtherReservation(t, ctx, w1) })
	t.Run("read key cannot write", func(t *testing.T) { authReadKeyCannotWrite(t, ctx, f, w1) })
	t.Run("write key cannot delete the bucket", func(t *testing.T) {
		_, err := w1.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("res-1")})
		wantCode(t, err, "AccessDenied", 403)
		_, err = f.sdk(keyA1).DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("res-1")})
		wantCode(t, err, "AccessDenied", 403)
	})
	t.Run("revoked key", func(t *testing.T) { authRevokedKey(t, ctx, f) })
	t.Run("anonymous", func(t *testing.T) {
		resp, err := http.Get(f.url + "/res-1/obj")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 403 || !strings.Contains(string(body), "<Code>AccessDenied</Code>") {
			t.Fatalf("anonymous GET: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("reserved keys", func(t *testing.T) {
		_, err := w1.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("res-1"), Key: aws.String(".fb-mpu/x/meta"), Body: strings.NewReader("x")})
		wantCode(t, err, "InvalidArgument", 400)
	})
}

// authOtherReservation: a write key of res-1 can neither reach res-2 nor
// create buckets.
func authOtherReservation(t *testing.T, ctx context.Context, w1 *s3.Client) {
	_, err := w1.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("res-2"), Key: aws.String("obj2")})
	wantCode(t, err, "AccessDenied", 403)
	_, err = w1.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("res-2"), Key: aws.String("x"), Body: strings.NewReader("x")})
	wantCode(t, err, "AccessDenied", 403)
	_, err = w1.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("res-2")})
	wantCode(t, err, "AccessDenied", 403)
	_, err = w1.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("res-2"), Key: aws.String("obj2")})
	wantCode(t, err, "AccessDenied", 403)
	// Copying out of another reservation.
	_, err = w1.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("res-1"), Key: aws.String("stolen"), CopySource: aws.String("res-2/obj2")})
	wantCode(t, err, "AccessDenied", 403)
	// Creating someone else's or a new bucket.
	_, err = w1.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("res-2")})
	wantCode(t, err, "AccessDenied", 403)
	_, err = w1.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("brand-new")})
	wantCode(t, err, "AccessDenied", 403)
	// A reservation whose unit is not served here does not exist.
	_, err = w1.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("res-elsewhere")})
	if httpStatus(err) != 404 {
		t.Fatalf("bucket of another unit: %v", err)
	}
}

// authReadKeyCannotWrite: a read key reads and lists but every write is
// denied and nothing changes.
func authReadKeyCannotWrite(t *testing.T, ctx context.Context, f *fixture, w1 *s3.Client) {
	r1 := f.sdk(keyR1)
	if got := getAll(t, r1, "res-1", "obj"); string(got) != "data" {
		t.Fatal("read key cannot read")
	}
	if _, err := r1.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("res-1")}); err != nil {
		t.Fatal(err)
	}
	_, err := r1.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("res-1"), Key: aws.String("x"), Body: strings.NewReader("x")})
	wantCode(t, err, "AccessDenied", 403)
	_, err = r1.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("res-1"), Key: aws.String("obj")})
	wantCode(t, err, "AccessDenied", 403)
	_, err = r1.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("res-1"), Key: aws.String("c"), CopySource: aws.String("res-1/obj")})
	wantCode(t, err, "AccessDenied", 403)
	_, err = r1.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("res-1"), Key: aws.String("m")})
	wantCode(t, err, "AccessDenied", 403)
	dm, err := r1.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("res-1"), Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: aws.String("obj")}}}})
	if err == nil && (len(dm.Errors) != 1 || aws.ToString(dm.Errors[0].Code) != "AccessDenied") {
		t.Fatalf("read key DeleteObjects: %+v", dm)
	}
	if got := getAll(t, w1, "res-1", "obj"); string(got) != "data" {
		t.Fatal("object gone")
	}
}

// authRevokedKey: a deleted key, and presigned URLs made with it, stop working.
func authRevokedKey(t *testing.T, ctx context.Context, f *fixture) {
	k := Key{AccessKeyID: "AKIATEMP", Secret: "temp-secret", Bucket: "res-1", Perm: PermRead}
	f.keys.Set(k)
	c := f.sdk(k)
	if got := getAll(t, c, "res-1", "obj"); string(got) != "data" {
		t.Fatal("new key does not work")
	}
	f.keys.Delete(k.AccessKeyID)
	_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("res-1"), Key: aws.String("obj")})
	wantCode(t, err, "InvalidAccessKeyId", 403)
	// Presigned URLs made with it die with it.
	f.keys.Set(k)
	u, err := s3.NewPresignClient(c).PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("res-1"), Key: aws.String("obj")})
	if err != nil {
		t.Fatal(err)
	}
	f.keys.Delete(k.AccessKeyID)
	resp, err := http.Get(u.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(body), "InvalidAccessKeyId") {
		t.Fatalf("presigned URL of a revoked key: %d %s", resp.StatusCode, body)
	}
}

func TestQuota(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	c := f.sdk(keySmallW)
	b := "res-small"
	putBytes(t, c, b, "a", make([]byte, 600<<10))
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("b"), Body: bytes.NewReader(make([]byte, 600<<10))})
	wantCode(t, err, "QuotaExceeded", 403)
	if !strings.Contains(err.Error(), "quota of reservation res-small") {
		t.Errorf("quota error message: %v", err)
	}
	// Overwriting with a same-size object fits.
	putBytes(t, c, b, "a", make([]byte, 600<<10))
	// Copy and multipart are limited too.
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &b, Key: aws.String("a2"), CopySource: aws.String("res-small/a")})
	wantCode(t, err, "QuotaExceeded", 403)
	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &b, Key: aws.String("m")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &b, Key: aws.String("m"), UploadId: mp.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(make([]byte, 500<<10))})
	wantCode(t, err, "QuotaExceeded", 403)
	if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &b, Key: aws.String("m"), UploadId: mp.UploadId}); err != nil {
		t.Fatal(err)
	}
	if u := f.b.Usage()[b]; u.StoredBytes != 600<<10 {
		t.Fatalf("stored %d, want %d", u.StoredBytes, 600<<10)
	}

	// A chunked stream carrying more than its declared decoded length
	// cannot overrun: the request fails and nothing is stored.
	status, body := rawChunkedPut(t, f, keySmallW, "/res-small/liar", 1000, 300<<10)
	if status < 400 {
		t.Fatalf("lying chunked stream accepted: %d %s", status, body)
	}
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("liar")})
	if httpStatus(err) != 404 {
		t.Fatalf("lying stream left an object: %v", err)
	}
	if u := f.b.Usage()[b]; u.StoredBytes != 600<<10 {
		t.Fatalf("stored %d after lying stream, want %d", u.StoredBytes, 600<<10)
	}
	assertNoTemps(t, f)
}

// rawChunkedPut sends a PutObject whose aws-chunked body
// (STREAMING-UNSIGNED-PAYLOAD-TRAILER, signed headers) declares
// declared decoded bytes but carries actual bytes.
func rawChunkedPut(t *testing.T, f *fixture, k Key, path string, declared, actual int) (int, string) {
	t.Helper()
	var body bytes.Buffer
	data := make([]byte, actual)
	for off := 0; off < len(data); off += 64 << 10 {
		n := min(64<<10, len(data)-off)
		body.WriteString(strconv.FormatInt(int64(n), 16) + "\r\n")
		body.Write(data[off : off+n])
		body.WriteString("\r\n")
	}
	body.WriteString("0\r\n\r\n")
	req, _ := http.NewRequest(http.MethodPut, f.url+path, bytes.NewReader(body.Bytes()))
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(declared))
	req.Header.Set("X-Amz-Content-Sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
	signer := v4.NewSigner()
	if err := signer.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: k.AccessKeyID, SecretAccessKey: k.Secret},
		req, "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func assertNoTemps(t *testing.T, f *fixture) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ents, _ := os.ReadDir(f.local.TempDir())
		if len(ents) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("temp files left in %s: %d (first %s)", f.local.TempDir(), len(ents), filepath.Join(f.local.TempDir(), ents[0].Name()))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestEgress(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	c := f.sdk(keySmallW)
	b := "res-small"
	putBytes(t, c, b, "obj", make([]byte, 400<<10))
	getAll(t, c, b, "obj")
	getAll(t, c, b, "obj")
	_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: aws.String("obj")})
	wantCode(t, err, "AccessDenied", 403)
	if !strings.Contains(err.Error(), "egress allowance") {
		t.Errorf("egress error message: %v", err)
	}
	// A small range still fits.
	g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: aws.String("obj"), Range: aws.String("bytes=0-9")})
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(g.Body)
	g.Body.Close()
	u := f.b.Usage()[b]
	if u.Egress != 2*(400<<10)+10 || u.Ingress != 400<<10 || u.StoredBytes != 400<<10 || u.Unit != "unit-a" {
		t.Fatalf("usage %+v", u)
	}
}

// TestInterruptedUpload: a client that dies halfway through a body leaves
// nothing visible and no space used.
func TestInterruptedUpload(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	const total = 8 << 20
	req, _ := http.NewRequest(http.MethodPut, f.url+"/res-1/halfway", nil)
	req.ContentLength = total
	req.Header.Set("Content-Length", strconv.Itoa(total))
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: keyW1.AccessKeyID, SecretAccessKey: keyW1.Secret},
		req, "UNSIGNED-PAYLOAD", "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	var hdr bytes.Buffer
	hdr.WriteString("PUT /res-1/halfway HTTP/1.1\r\nHost: " + f.addr + "\r\n")
	for k, vs := range req.Header {
		for _, v := range vs {
			hdr.WriteString(k + ": " + v + "\r\n")
		}
	}
	hdr.WriteString("\r\n")
	if _, err := conn.Write(hdr.Bytes()); err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for sent := 0; sent < 3<<20; sent += len(chunk) {
		if _, err := conn.Write(chunk); err != nil {
			resp, _ := io.ReadAll(conn)
			t.Fatalf("write: %v; server said %q", err, resp)
		}
	}
	// The body is being streamed into the backend: a temp file exists.
	deadline0 := time.Now().Add(5 * time.Second)
	for {
		if ents, _ := os.ReadDir(f.local.TempDir()); len(ents) > 0 {
			break
		}
		if time.Now().After(deadline0) {
			t.Fatal("upload never reached the backend")
		}
		time.Sleep(10 * time.Millisecond)
	}
	conn.Close()

	c := f.sdk(keyW1)
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("res-1"), Key: aws.String("halfway")})
		if httpStatus(err) != 404 {
			t.Fatalf("interrupted upload visible: %v", err)
		}
		ents, _ := os.ReadDir(f.local.TempDir())
		if len(ents) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	assertNoTemps(t, f)
	if u := f.b.Usage()["res-1"]; u.StoredBytes != 0 || u.Ingress != 0 {
		t.Fatalf("usage after interrupted upload: %+v", u)
	}
	// The bridge still works.
	putBytes(t, c, "res-1", "after", []byte("ok"))
}
