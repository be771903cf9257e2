package bridge

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func TestBadDigest(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	c := f.sdk(keyW1)
	b := "res-1"
	wrong := md5.Sum([]byte("something else"))
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("bad"), Body: strings.NewReader("the content"),
		ContentMD5: aws.String(base64.StdEncoding.EncodeToString(wrong[:]))})
	wantCode(t, err, "BadDigest", 400)
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("bad")})
	if httpStatus(err) != 404 {
		t.Fatalf("object stored despite BadDigest: %v", err)
	}
	// A large body (streamed, not buffered by the server) too.
	big := randBytes(6<<20, 3)
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("bad"), Body: bytes.NewReader(big),
		ContentMD5: aws.String(base64.StdEncoding.EncodeToString(wrong[:]))})
	wantCode(t, err, "BadDigest", 400)
	// And a part.
	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &b, Key: aws.String("badmp")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &b, Key: aws.String("badmp"), UploadId: mp.UploadId, PartNumber: aws.Int32(1),
		Body: strings.NewReader("part"), ContentMD5: aws.String(base64.StdEncoding.EncodeToString(wrong[:]))})
	wantCode(t, err, "BadDigest", 400)
	// A correct Content-MD5 works.
	good := md5.Sum([]byte("the content"))
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("good"), Body: strings.NewReader("the content"),
		ContentMD5: aws.String(base64.StdEncoding.EncodeToString(good[:]))}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &b, Key: aws.String("badmp"), UploadId: mp.UploadId}); err != nil {
		t.Fatal(err)
	}
	if u := f.b.Usage()["res-1"]; u.StoredBytes != int64(len("the content")) {
		t.Fatalf("stored %d, want %d", u.StoredBytes, len("the content"))
	}
}
