package bridge

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/encrypt"
)

// TestSSERefused: SSE-S3, SSE-KMS and SSE-C on PutObject, CopyObject,
// CreateMultipartUpload (and SSE-C on reads) answer 501 NotImplemented
// saying server-side encryption is not offered, and store nothing.
func TestSSERefused(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	c := f.sdk(keyW1)
	b := "res-1"
	putBytes(t, c, b, "plain", []byte("plain"))
	key := bytes.Repeat([]byte{7}, 32)
	keyMD5 := md5.Sum(key)
	sseC := func(in *s3.PutObjectInput) {
		in.SSECustomerAlgorithm = aws.String("AES256")
		in.SSECustomerKey = aws.String(base64.StdEncoding.EncodeToString(key))
		in.SSECustomerKeyMD5 = aws.String(base64.StdEncoding.EncodeToString(keyMD5[:]))
	}
	cases := map[string]func(in *s3.PutObjectInput){
		"SSE-S3": func(in *s3.PutObjectInput) { in.ServerSideEncryption = types.ServerSideEncryptionAes256 },
		"SSE-KMS": func(in *s3.PutObjectInput) {
			in.ServerSideEncryption = types.ServerSideEncryptionAwsKms
			in.SSEKMSKeyId = aws.String("k1")
		},
		"SSE-C": sseC,
	}
	wantRefused := func(t *testing.T, err error) {
		t.Helper()
		wantCode(t, err, "NotImplemented", 501)
		if !strings.Contains(err.Error(), "encryption") || !strings.Contains(err.Error(), "not offered") {
			t.Fatalf("message does not say encryption is not offered: %v", err)
		}
	}
	for name, set := range cases {
		t.Run(name, func(t *testing.T) {
			in := &s3.PutObjectInput{Bucket: &b, Key: aws.String("enc"), Body: strings.NewReader("secret")}
			set(in)
			_, err := c.PutObject(ctx, in)
			wantRefused(t, err)
			if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("enc")}); httpStatus(err) != 404 {
				t.Fatalf("object stored despite SSE refusal: %v", err)
			}
			cin := &s3.CopyObjectInput{Bucket: &b, Key: aws.String("enc"), CopySource: aws.String(b + "/plain")}
			cin.ServerSideEncryption, cin.SSEKMSKeyId = in.ServerSideEncryption, in.SSEKMSKeyId
			cin.SSECustomerAlgorithm, cin.SSECustomerKey, cin.SSECustomerKeyMD5 = in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5
			_, err = c.CopyObject(ctx, cin)
			wantRefused(t, err)
			min := &s3.CreateMultipartUploadInput{Bucket: &b, Key: aws.String("enc")}
			min.ServerSideEncryption, min.SSEKMSKeyId = in.ServerSideEncryption, in.SSEKMSKeyId
			min.SSECustomerAlgorithm, min.SSECustomerKey, min.SSECustomerKeyMD5 = in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5
			_, err = c.CreateMultipartUpload(ctx, min)
			wantRefused(t, err)
		})
	}
	_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: aws.String("plain"), SSECustomerAlgorithm: aws.String("AES256"),
		SSECustomerKey: aws.String(base64.StdEncoding.EncodeToString(key)), SSECustomerKeyMD5: aws.String(base64.StdEncoding.EncodeToString(keyMD5[:]))})
	wantRefused(t, err)
	lu, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &b})
	if err != nil || len(lu.Uploads) != 0 {
		t.Fatalf("uploads created despite SSE refusal: %v %v", err, lu.Uploads)
	}

	// minio-go's SSE-S3 option, and a presigned URL carrying the header
	// as a query parameter.
	_, err = f.minio(keyW1).PutObject(ctx, b, "enc", strings.NewReader("x"), 1, minio.PutObjectOptions{ServerSideEncryption: encrypt.NewSSE()})
	if resp := minio.ToErrorResponse(err); resp.Code != "NotImplemented" || resp.StatusCode != 501 {
		t.Fatalf("minio-go SSE-S3 put: %v", err)
	}
	ps, err := s3.NewPresignClient(c).PresignPutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("enc")}, s3.WithPresignExpires(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPut, ps.URL+"&x-amz-server-side-encryption=AES256", strings.NewReader("x"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 501 || !strings.Contains(string(body), "<Code>NotImplemented</Code>") {
		t.Fatalf("presigned PUT with SSE query: %d %s", resp.StatusCode, body)
	}
}
