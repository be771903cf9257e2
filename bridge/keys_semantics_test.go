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
