package bridge

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

const appOrigin = "https://app.example.com"

var testCORS = &types.CORSConfiguration{CORSRules: []types.CORSRule{{
	AllowedOrigins: []string{appOrigin},
	AllowedMethods: []string{"GET", "PUT"},
	AllowedHeaders: []string{"content-type", "x-amz-*"},
	ExposeHeaders:  []string{"ETag"},
	MaxAgeSeconds:  aws.Int32(600),
}}}

// preflight sends a browser's CORS preflight (no credentials).
func preflight(t *testing.T, url, origin, method, headers string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodOptions, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", method)
	if headers != "" {
		req.Header.Set("Access-Control-Request-Headers", headers)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestBucketCORS: Put/Get/DeleteBucketCors per reservation (admin key to
// configure, read key to read), stored durably (a restarted bridge serves
// it); unauthenticated preflights are answered per the rules, and actual
// requests from an allowed origin carry the CORS headers.
func TestBucketCORS(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, fixtureOpts{dir: dir})
	ctx := context.Background()
	a, w, r := f.sdk(keyA1), f.sdk(keyW1), f.sdk(keyR1)
	b := "res-1"
	_, err := r.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: &b})
	wantCode(t, err, "NoSuchCORSConfiguration", 404)
	if resp := preflight(t, f.url+"/res-1/k", appOrigin, "PUT", ""); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("preflight without a configuration: %d", resp.StatusCode)
	}
	_, err = w.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: &b, CORSConfiguration: testCORS})
	wantCode(t, err, "AccessDenied", 403)
	if _, err := a.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: &b, CORSConfiguration: testCORS}); err != nil {
		t.Fatal(err)
	}
	got, err := r.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: &b})
	if err != nil || len(got.CORSRules) != 1 || got.CORSRules[0].AllowedOrigins[0] != appOrigin {
		t.Fatalf("GetBucketCors: %v %+v", err, got)
	}
	// Another reservation has its own (none).
	_, err = f.sdk(keyW2).GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("res-2")})
	wantCode(t, err, "NoSuchCORSConfiguration", 404)

	// A restarted bridge over the same storage serves the configuration.
	f2 := newFixture(t, fixtureOpts{dir: dir})
	resp := preflight(t, f2.url+"/res-1/photos/a.jpg", appOrigin, "PUT", "content-type,x-amz-meta-x")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	h := resp.Header
	if h.Get("Access-Control-Allow-Origin") != appOrigin || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "PUT") ||
		!strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "content-type") || h.Get("Access-Control-Max-Age") != "600" {
		t.Fatalf("preflight headers: %v", h)
	}
	for _, bad := range []struct{ origin, method, headers string }{
		{"https://evil.example.com", "PUT", ""},
		{appOrigin, "DELETE", ""},
		{appOrigin, "PUT", "authorization-extra"},
	} {
		if resp := preflight(t, f2.url+"/res-1/k", bad.origin, bad.method, bad.headers); resp.StatusCode != http.StatusForbidden ||
			resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("preflight %+v: %d %v", bad, resp.StatusCode, resp.Header)
		}
	}

	// The actual request (a presigned PUT, as a browser would send it).
	ps, err := s3.NewPresignClient(f2.sdk(keyW1)).PresignPutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("from-browser")},
		s3.WithPresignExpires(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPut, ps.URL, strings.NewReader("uploaded by a page"))
	req.Header.Set("Origin", appOrigin)
	put, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	put.Body.Close()
	if put.StatusCode != 200 || put.Header.Get("Access-Control-Allow-Origin") != appOrigin ||
		!strings.Contains(put.Header.Get("Access-Control-Expose-Headers"), "ETag") {
		t.Fatalf("PUT with Origin: %d %v", put.StatusCode, put.Header)
	}
	if got := getAll(t, w, b, "from-browser"); string(got) != "uploaded by a page" {
		t.Fatalf("browser upload: %q", got)
	}
	if u := f2.b.Usage()["res-1"]; u.StoredBytes != int64(len("uploaded by a page")) {
		t.Fatalf("the configuration counts as stored bytes: %d", u.StoredBytes)
	}

	if _, err := a.DeleteBucketCors(ctx, &s3.DeleteBucketCorsInput{Bucket: &b}); err != nil {
		t.Fatal(err)
	}
	_, err = r.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: &b})
	wantCode(t, err, "NoSuchCORSConfiguration", 404)
	if resp := preflight(t, f.url+"/res-1/k", appOrigin, "PUT", ""); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("preflight after delete: %d", resp.StatusCode)
	}
}
