package bridge

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func testSDKPresign(t *testing.T, f *fixture) {
	ctx := context.Background()
	c := f.sdk(keyW1)
	pc := s3.NewPresignClient(c)
	b, k := "res-1", "presigned.txt"
	hc := httpClient(true)

	put, err := pc.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: &k}, s3.WithPresignExpires(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPut, put.URL, strings.NewReader("hello presigned"))
	for h, v := range put.SignedHeader {
		req.Header[h] = v
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("presigned PUT: %d %s", resp.StatusCode, body)
	}

	get, err := pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: &k}, s3.WithPresignExpires(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	resp, err = hc.Get(get.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "hello presigned" {
		t.Fatalf("presigned GET: %d %q", resp.StatusCode, body)
	}

	// Tampering with a presigned URL breaks its signature.
	resp, err = hc.Get(strings.Replace(get.URL, "presigned.txt", "presigned.txx", 1))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(body), "<Code>SignatureDoesNotMatch</Code>") {
		t.Fatalf("tampered presigned GET: %d %s", resp.StatusCode, body)
	}

	// Expired.
	exp, err := pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: &k}, s3.WithPresignExpires(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2100 * time.Millisecond)
	resp, err = hc.Get(exp.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(body), "<Code>AccessDenied</Code>") || !strings.Contains(string(body), "expired") {
		t.Fatalf("expired presigned GET: %d %s", resp.StatusCode, body)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b, Key: &k}); err != nil {
		t.Fatal(err)
	}
}
