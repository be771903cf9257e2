package bridge

import (
	"bytes"
	"context"
	"mime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
)

// TestStandardHeadersStored: Cache-Control, Expires, Content-Encoding,
// Content-Disposition and Content-Language are stored with an object and
// returned on GET and HEAD; CopyObject keeps them (COPY) or replaces them
// (REPLACE); a multipart upload keeps those given when it was created.
func TestStandardHeadersStored(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	c := f.sdk(keyW1)
	b := aws.String("res-1")
	expires := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("h"), Body: bytes.NewReader([]byte("gzipped?")),
		CacheControl: aws.String("max-age=3600, public"), Expires: &expires, ContentEncoding: aws.String("gzip"),
		ContentDisposition: aws.String(`attachment; filename="report.pdf"`), ContentLanguage: aws.String("fr-CA")})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"Cache-Control": "max-age=3600, public", "Expires": expires.Format(time.RFC1123),
		"Content-Encoding": "gzip", "Content-Disposition": `attachment; filename="report.pdf"`, "Content-Language": "fr-CA"}
	checkHeaders := func(key string, want map[string]string) {
		t.Helper()
		for _, method := range []string{"HEAD", "GET"} {
			r := f.raw(t, keyW1, method, "/res-1/"+key, nil, nil)
			if r.status != 200 {
				t.Fatalf("%s %s: %d %s", method, key, r.status, r.body)
			}
			for h, v := range want {
				got := r.header.Get(h)
				if h == "Expires" && got != "" {
					if tm, err := time.Parse(time.RFC1123, got); err == nil && tm.Equal(expires) {
						got = v
					}
				}
				if got != v {
					t.Errorf("%s %s: %s = %q, want %q", method, key, h, got, v)
				}
			}
		}
	}
	checkHeaders("h", want)
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: aws.String("h")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(h.CacheControl) != want["Cache-Control"] || aws.ToString(h.ContentLanguage) != "fr-CA" || len(h.Metadata) != 0 {
		t.Errorf("SDK HeadObject: cache %q lang %q meta %v", aws.ToString(h.CacheControl), aws.ToString(h.ContentLanguage), h.Metadata)
	}

	// COPY keeps them, REPLACE replaces them.
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: b, Key: aws.String("h-copy"), CopySource: aws.String("res-1/h")}); err != nil {
		t.Fatal(err)
	}
	checkHeaders("h-copy", want)
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: b, Key: aws.String("h-repl"), CopySource: aws.String("res-1/h"),
		MetadataDirective: types.MetadataDirectiveReplace, CacheControl: aws.String("no-store")}); err != nil {
		t.Fatal(err)
	}
	checkHeaders("h-repl", map[string]string{"Cache-Control": "no-store", "Content-Encoding": "", "Content-Language": "", "Expires": ""})

	// Multipart: the headers given at creation end up on the object.
	cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: b, Key: aws.String("h-mpu"),
		CacheControl: aws.String("private"), ContentDisposition: aws.String("inline")})
	if err != nil {
		t.Fatal(err)
	}
	up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: b, Key: aws.String("h-mpu"), UploadId: cr.UploadId,
		PartNumber: aws.Int32(1), Body: bytes.NewReader([]byte("one part"))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: b, Key: aws.String("h-mpu"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: up.ETag}}}}); err != nil {
		t.Fatal(err)
	}
	checkHeaders("h-mpu", map[string]string{"Cache-Control": "private", "Content-Disposition": "inline"})

	// The reserved metadata keys that carry them cannot be set by clients.
	r := f.raw(t, keyW1, "PUT", "/res-1/forged", map[string]string{"X-Amz-Meta-Flashback-Cache-Control": "forged"}, []byte("x"))
	if r.status != 400 || !strings.Contains(r.body, "InvalidArgument") {
		t.Fatalf("PUT with reserved metadata key: %d %s", r.status, r.body)
	}
}

// TestNonASCIIMetadata: user metadata with non-ASCII characters is stored
// decoded (whether the client sent raw UTF-8 or RFC 2047 encoded words)
// and returned RFC 2047 encoded once, as S3 does; minio-go decodes it back.
func TestNonASCIIMetadata(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	const value = "café € 東京"
	encoded := mime.BEncoding.Encode("UTF-8", value)
	for key, sent := range map[string]string{"raw": value, "encoded": encoded} {
		if r := f.raw(t, keyW1, "PUT", "/res-1/"+key, map[string]string{"X-Amz-Meta-Name": sent}, []byte("x")); r.status != 200 {
			t.Fatalf("PUT %s: %d %s", key, r.status, r.body)
		}
		info, err := f.local.Head(ctx, "res-1/"+key)
		if err != nil {
			t.Fatal(err)
		}
		if info.UserMeta["name"] != value {
			t.Errorf("%s: stored %q, want %q", key, info.UserMeta["name"], value)
		}
		r := f.raw(t, keyW1, "HEAD", "/res-1/"+key, nil, nil)
		got := r.header.Get("X-Amz-Meta-Name")
		var dec mime.WordDecoder
		decoded, err := dec.DecodeHeader(got)
		if err != nil || decoded != value || got == value {
			t.Errorf("%s: HEAD x-amz-meta-name %q (decodes to %q, %v), want %q RFC 2047 encoded once", key, got, decoded, err, value)
		}
		oi, err := f.minio(keyW1).StatObject(ctx, "res-1", key, minio.StatObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if oi.UserMetadata["Name"] != value {
			t.Errorf("%s: minio-go reads %q, want %q", key, oi.UserMetadata["Name"], value)
		}
	}
}

// TestInvalidStorageClass: a storage class the unit does not offer is
// refused (InvalidStorageClass), on PutObject, CreateMultipartUpload and
// CopyObject; STANDARD is accepted.
func TestInvalidStorageClass(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	c := f.sdk(keyW1)
	b := aws.String("res-1")
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("sc"), Body: bytes.NewReader([]byte("x")), StorageClass: "NO_SUCH_CLASS"})
	wantCode(t, err, "InvalidStorageClass", 400)
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: aws.String("sc")}); httpStatus(err) != 404 {
		t.Fatalf("refused PUT stored something: %v", err)
	}
	_, err = c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: b, Key: aws.String("sc"), StorageClass: "NO_SUCH_CLASS"})
	wantCode(t, err, "InvalidStorageClass", 400)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("sc"), Body: bytes.NewReader([]byte("x")), StorageClass: types.StorageClassStandard}); err != nil {
		t.Fatalf("STANDARD refused: %v", err)
	}
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: b, Key: aws.String("sc2"), CopySource: aws.String("res-1/sc"), StorageClass: "NO_SUCH_CLASS"})
	wantCode(t, err, "InvalidStorageClass", 400)
}
