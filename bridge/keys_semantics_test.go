package bridge

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// presignedGet returns a presigned GET URL of path signed at signedAt.
func presignedGet(t *testing.T, f *fixture, k Key, path string, signedAt time.Time) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.url+path+"?X-Amz-Expires=3600", nil)
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	u, _, err := signer.PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: k.AccessKeyID, SecretAccessKey: k.Secret},
		req, "UNSIGNED-PAYLOAD", "s3", "us-east-1", signedAt)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestPresignFromTheFuture: a presigned URL whose X-Amz-Date lies in the
// future (beyond the 15 minutes of clock skew S3 tolerates) is refused
// with 403 AccessDenied "Request is not valid yet": otherwise a URL signed
// for next year would get round the 7-day expiry cap.
func TestPresignFromTheFuture(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	putBytes(t, f.sdk(keyW1), "res-1", "p", []byte("presigned"))
	get := func(u string) (int, string) {
		resp, err := httpClient(true).Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, ahead := range []time.Duration{30 * time.Minute, 365 * 24 * time.Hour} {
		status, body := get(presignedGet(t, f, keyW1, "/res-1/p", time.Now().Add(ahead)))
		if status != 403 || !strings.Contains(body, "<Code>AccessDenied</Code>") || !strings.Contains(body, "Request is not valid yet") {
			t.Errorf("signed %v ahead: %d %s", ahead, status, body)
		}
	}
	for _, ahead := range []time.Duration{0, 5 * time.Minute} {
		if status, body := get(presignedGet(t, f, keyW1, "/res-1/p", time.Now().Add(ahead))); status != 200 || body != "presigned" {
			t.Errorf("signed %v ahead (within the skew): %d %s", ahead, status, body)
		}
	}
}

// TestKeyErrorsAreS3Errors: a key that resolves outside its bucket
// ("../x") and a key that is not valid UTF-8 answer 400 with an S3 error
// naming the problem (not versitygw's bare code "400", not 404).
func TestKeyErrorsAreS3Errors(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	for _, path := range []string{"/res-1/../x", "/res-1/a/../../x", "/res-1/a%FFb"} {
		for _, method := range []string{"PUT", "GET", "DELETE"} {
			r := f.raw(t, keyW1, method, path, nil, nil)
			if r.status != 400 || !strings.Contains(r.body, "<Code>InvalidArgument</Code>") {
				t.Errorf("%s %s: %d %s", method, path, r.status, r.body)
			}
		}
		if r := f.raw(t, keyW1, "HEAD", path, nil, nil); r.status != 400 {
			t.Errorf("HEAD %s: %d", path, r.status)
		}
	}
}

// TestKeyNames: an exactly 1,024-byte key is accepted (the reservation
// prefix does not count, and errors never show it); segments longer than
// a file name are accepted; "a/../b" and other dot segments are stored
// literally, each key distinct, and no dot segment ever reaches the
// backend (where it could resolve outside the reservation's prefix).
func TestKeyNames(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	c := f.sdk(keyW1)
	b := aws.String("res-1")
	keys := []string{
		strings.Repeat("k", 1024),
		"long/" + strings.Repeat("s", 300) + "/" + strings.Repeat("t", 700),
		"a/../b", "a/..~/b", "a/./b", "x/.../y", "a/b/..", "a/b/.",
	}
	for _, k := range keys {
		putBytes(t, c, "res-1", k, []byte(k))
	}
	for _, k := range keys {
		if got := getAll(t, c, "res-1", k); string(got) != k {
			t.Fatalf("GET of a %d-byte key %.40q: %.40q", len(k), k, got)
		}
	}
	listed := map[string]bool{}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: b, MaxKeys: aws.Int32(3)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			if listed[*o.Key] {
				t.Fatalf("listed twice: %.60q", *o.Key)
			}
			listed[*o.Key] = true
		}
	}
	for _, k := range keys {
		if !listed[k] {
			t.Errorf("not listed: %.60q", k)
		}
	}
	if len(listed) != len(keys) {
		t.Errorf("listed %d keys, want %d", len(listed), len(keys))
	}
	l, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: b, Prefix: aws.String("a/../")})
	if err != nil || len(l.Contents) != 1 || *l.Contents[0].Key != "a/../b" {
		t.Fatalf("prefix a/../: %v %+v", err, l.Contents)
	}
	stored, err := f.local.List(ctx, "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range stored {
		for _, seg := range strings.Split(o.Key, "/") {
			if seg == "." || seg == ".." {
				t.Errorf("backend key with a dot segment: %q", o.Key)
			}
		}
	}

	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String(strings.Repeat("k", 1025)), Body: strings.NewReader("x")})
	wantCode(t, err, "KeyTooLongError", 400)
	for _, bad := range []string{strings.Repeat("k", 1025), "ctl%01char"} {
		r := f.raw(t, keyW1, "PUT", "/res-1/"+bad, nil, []byte("x"))
		if r.status != 400 || strings.Contains(r.body, "res-1/") {
			t.Errorf("PUT %.20q: %d %s (the reservation prefix must not show)", bad, r.status, r.body)
		}
	}
}
