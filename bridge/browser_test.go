package bridge

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/chromedp/chromedp"
)

// TestBrowserUpload: a page in headless Chromium (another origin) uploads
// with fetch PUT to a presigned URL: the browser's preflight and the PUT
// pass the bucket's CORS rules and the page can read the exposed ETag; to a
// bucket without CORS rules the browser refuses the request.
func TestBrowserUpload(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("FLASHBACK_REQUIRE_SERVERS") != "" {
			t.Fatal("chromium not installed: run scripts/test-servers.sh install (as root it apt-get installs Debian's chromium)")
		}
		t.Skip("chromium not installed (Debian package chromium)")
	}
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()

	// The page's own origin: a second HTTP server.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	page := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "<!doctype html><title>upload</title>")
	})}
	go page.Serve(ln)
	t.Cleanup(func() { page.Close() })
	origin := "http://" + ln.Addr().String()

	if _, err := f.sdk(keyA1).PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String("res-1"), CORSConfiguration: &types.CORSConfiguration{
		CORSRules: []types.CORSRule{{AllowedOrigins: []string{origin}, AllowedMethods: []string{"PUT", "GET"},
			AllowedHeaders: []string{"*"}, ExposeHeaders: []string{"ETag"}}}}}); err != nil {
		t.Fatal(err)
	}
	presign := func(k Key, bucket, key string) string {
		// The headers the page sends are signed, as S3 requires.
		ps, err := s3.NewPresignClient(f.sdk(k)).PresignPutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key,
			ContentType: aws.String("text/plain"), Metadata: map[string]string{"from": "browser"}},
			s3.WithPresignExpires(5*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		return ps.URL
	}

	actx, cancel := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.Flag("headless", true))...)
	defer cancel()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	bctx, cancel = context.WithTimeout(bctx, 90*time.Second)
	defer cancel()
	upload := func(url string) string {
		js := fmt.Sprintf(`fetch(%q, {method: "PUT", body: "uploaded by chromium", headers: {"Content-Type": "text/plain", "x-amz-meta-from": "browser"}})
			.then(r => r.status + " " + (r.headers.get("ETag") || "no-etag"), e => "refused: " + e)`, url)
		res, err := chromedp.Run(bctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("chromium: %v", err)
		}
		return res
	}
	if _, err := chromedp.Run(bctx, chromedp.Navigate(origin+"/")); err != nil {
		t.Fatalf("chromium navigate: %v", err)
	}
	got := upload(presign(keyW1, "res-1", "from-browser.txt"))
	if !strings.HasPrefix(got, "200 \"") {
		t.Fatalf("browser upload: %s", got)
	}
	h, err := f.sdk(keyR1).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("res-1"), Key: aws.String("from-browser.txt")})
	if err != nil || aws.ToString(h.ETag) != strings.TrimPrefix(got, "200 ") || h.Metadata["from"] != "browser" {
		t.Fatalf("uploaded object: %v %+v (browser saw %s)", err, h, got)
	}
	if body := getAll(t, f.sdk(keyR1), "res-1", "from-browser.txt"); string(body) != "uploaded by chromium" {
		t.Fatalf("content %q", body)
	}
	// res-2 has no CORS configuration: the browser does not send the PUT.
	if got := upload(presign(keyW2, "res-2", "blocked.txt")); !strings.HasPrefix(got, "refused") {
		t.Fatalf("upload without CORS rules: %s", got)
	}
	if _, err := f.sdk(keyW2).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("res-2"), Key: aws.String("blocked.txt")}); httpStatus(err) != 404 {
		t.Fatalf("blocked upload stored: %v", err)
	}
}
