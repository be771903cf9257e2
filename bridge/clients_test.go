package bridge

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

func (f *fixture) minio(k Key) *minio.Client {
	c, err := minio.New(strings.TrimPrefix(f.url, "http://"), &minio.Options{
		Creds: credentials.NewStaticV4(k.AccessKeyID, k.Secret, ""), Secure: false, Region: "us-east-1",
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func TestMinioGo(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	ctx := context.Background()
	c := f.minio(keyW1)
	b := "res-1"

	minioObjects(t, ctx, c, b)
	minioBigObject(t, ctx, c, b)
	minioList(t, ctx, c, b)
	minioPresigned(t, ctx, c, b)
	minioRemoveAll(t, ctx, f, c, b)
	t.Logf("payload modes seen: %v", f.sniff.modes)
}

// minioObjects: bucket calls, put, get (whole and a range), server-side copy.
func minioObjects(t *testing.T, ctx context.Context, c *minio.Client, b string) {
	ok, err := c.BucketExists(ctx, b)
	if err != nil || !ok {
		t.Fatalf("BucketExists: %v %v", ok, err)
	}
	if err := c.MakeBucket(ctx, b, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("MakeBucket on own reservation: %v", err)
	}
	data := randBytes(200_000, 7)
	if _, err := c.PutObject(ctx, b, "m/one", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{ContentType: "text/x-one"}); err != nil {
		t.Fatal(err)
	}
	o, err := c.GetObject(ctx, b, "m/one", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(o)
	o.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("get: %v %d", err, len(got))
	}
	opts := minio.GetObjectOptions{}
	opts.SetRange(1000, 1999)
	o, err = c.GetObject(ctx, b, "m/one", opts)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(o)
	o.Close()
	if !bytes.Equal(got, data[1000:2000]) {
		t.Fatalf("range: %d bytes", len(got))
	}
	if _, err := c.CopyObject(ctx, minio.CopyDestOptions{Bucket: b, Object: "m/two"}, minio.CopySrcOptions{Bucket: b, Object: "m/one"}); err != nil {
		t.Fatal(err)
	}
	st, err := c.StatObject(ctx, b, "m/two", minio.StatObjectOptions{})
	if err != nil || st.Size != int64(len(data)) {
		t.Fatalf("stat copy: %v %+v", err, st)
	}
}

// minioBigObject: minio-go uploads a large object as a multipart upload
// (unknown size, 5 MiB parts), streaming.
func minioBigObject(t *testing.T, ctx context.Context, c *minio.Client, b string) {
	big := randBytes(17<<20, 8)
	info, err := c.PutObject(ctx, b, "m/big", io.NopCloser(bytes.NewReader(big)), -1, minio.PutObjectOptions{PartSize: 5 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(strings.Trim(info.ETag, `"`), "-4") && len(info.ETag) < 32 {
		t.Logf("big etag %s", info.ETag)
	}
	o, err := c.GetObject(ctx, b, "m/big", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(o)
	o.Close()
	if !bytes.Equal(got, big) {
		t.Fatalf("big: %d bytes", len(got))
	}
}

// minioList: listing v1 and v2, recursive and not.
func minioList(t *testing.T, ctx context.Context, c *minio.Client, b string) {
	for i := 0; i < 7; i++ {
		if _, err := c.PutObject(ctx, b, fmt.Sprintf("m/dir/%d", i), strings.NewReader("x"), 1, minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, v1 := range []bool{false, true} {
		var names []string
		for obj := range c.ListObjects(ctx, b, minio.ListObjectsOptions{Prefix: "m/", UseV1: v1, MaxKeys: 2}) {
			if obj.Err != nil {
				t.Fatal(obj.Err)
			}
			names = append(names, obj.Key)
		}
		if strings.Join(names, ",") != "m/big,m/dir/,m/one,m/two" {
			t.Fatalf("list v1=%v: %v", v1, names)
		}
		names = nil
		for obj := range c.ListObjects(ctx, b, minio.ListObjectsOptions{Prefix: "m/", Recursive: true, UseV1: v1, MaxKeys: 3}) {
			if obj.Err != nil {
				t.Fatal(obj.Err)
			}
			names = append(names, obj.Key)
		}
		if len(names) != 10 {
			t.Fatalf("recursive list v1=%v: %v", v1, names)
		}
	}
}

// minioPresigned: presigned GET and PUT.
func minioPresigned(t *testing.T, ctx context.Context, c *minio.Client, b string) {
	pu, err := c.PresignedPutObject(ctx, b, "m/presigned", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPut, pu.String(), strings.NewReader("via presigned put"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("presigned put: %v %v", err, resp)
	}
	resp.Body.Close()
	pg, err := c.PresignedGetObject(ctx, b, "m/presigned", time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err = http.Get(pg.String())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "via presigned put" {
		t.Fatalf("presigned get: %d %q", resp.StatusCode, body)
	}
}

// minioRemoveAll: remove many; nothing stays stored or charged.
func minioRemoveAll(t *testing.T, ctx context.Context, f *fixture, c *minio.Client, b string) {
	ch := make(chan minio.ObjectInfo)
	go func() {
		defer close(ch)
		for obj := range c.ListObjects(ctx, b, minio.ListObjectsOptions{Prefix: "m/", Recursive: true}) {
			ch <- obj
		}
	}()
	for e := range c.RemoveObjects(ctx, b, ch, minio.RemoveObjectsOptions{}) {
		t.Fatalf("remove: %v", e.Err)
	}
	n := 0
	for range c.ListObjects(ctx, b, minio.ListObjectsOptions{Recursive: true}) {
		n++
	}
	if n != 0 {
		t.Fatalf("%d objects left", n)
	}
	if u := f.b.Usage()[b]; u.StoredBytes != 0 {
		t.Fatalf("stored %d after removing all", u.StoredBytes)
	}
}

// TestAWSCLI drives the real aws CLI against the bridge.
func TestAWSCLI(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws CLI not installed")
	}
	f := newFixture(t, fixtureOpts{})
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	writeCLITree(t, src)
	aws, awsFail := awsCLI(t, f)

	aws("s3", "mb", "s3://res-1")
	if out := aws("s3", "ls"); !strings.Contains(out, "res-1") {
		t.Fatalf("s3 ls: %s", out)
	}
	aws("s3", "cp", filepath.Join(src, "top.txt"), "s3://res-1/cli/top.txt")
	aws("s3", "sync", src, "s3://res-1/cli/sync/")
	out := aws("s3", "ls", "--recursive", "s3://res-1/cli/")
	for _, want := range []string{"cli/top.txt", "cli/sync/top.txt", "cli/sync/sub/f1.bin", "cli/sync/sub/f2.bin"} {
		if !strings.Contains(out, want) {
			t.Fatalf("ls missing %s:\n%s", want, out)
		}
	}
	if out := aws("s3", "ls", "s3://res-1/cli/sync/"); !strings.Contains(out, "PRE sub/") {
		t.Fatalf("ls with prefixes:\n%s", out)
	}
	// Sync back down and compare.
	back := filepath.Join(dir, "back")
	aws("s3", "sync", "s3://res-1/cli/sync/", back)
	for _, rel := range []string{"top.txt", "sub/f1.bin", "sub/f2.bin"} {
		a, _ := os.ReadFile(filepath.Join(src, rel))
		b, err := os.ReadFile(filepath.Join(back, rel))
		if err != nil || !bytes.Equal(a, b) {
			t.Fatalf("synced %s differs (%v)", rel, err)
		}
	}
	// A second sync uploads nothing.
	if out := aws("s3", "sync", src, "s3://res-1/cli/sync/"); strings.Contains(out, "upload:") {
		t.Fatalf("second sync re-uploaded:\n%s", out)
	}
	// s3api calls.
	aws("s3api", "put-object", "--bucket", "res-1", "--key", "cli/api.txt", "--body", filepath.Join(src, "top.txt"), "--content-type", "text/plain")
	if out := aws("s3api", "head-object", "--bucket", "res-1", "--key", "cli/api.txt"); !strings.Contains(out, `"ContentLength": 10`) || !strings.Contains(out, "text/plain") {
		t.Fatalf("head-object:\n%s", out)
	}
	got := filepath.Join(dir, "got.txt")
	aws("s3api", "get-object", "--bucket", "res-1", "--key", "cli/api.txt", got)
	if a, _ := os.ReadFile(got); len(a) != 10 {
		t.Fatalf("get-object wrote %d bytes", len(a))
	}
	out = aws("s3api", "list-objects-v2", "--bucket", "res-1", "--prefix", "cli/", "--max-items", "100", "--page-size", "2")
	if strings.Count(out, `"Key"`) != 5 {
		t.Fatalf("list-objects-v2 paged:\n%s", out)
	}
	// rm, recursive rm.
	aws("s3", "rm", "s3://res-1/cli/api.txt")
	aws("s3", "rm", "--recursive", "s3://res-1/cli/")
	if out := aws("s3", "ls", "--recursive", "s3://res-1/"); strings.TrimSpace(out) != "" {
		t.Fatalf("left after rm:\n%s", out)
	}
	// Another reservation's bucket is off limits.
	if out := awsFail("s3", "ls", "s3://res-2/"); !strings.Contains(out, "AccessDenied") {
		t.Fatalf("ls other bucket:\n%s", out)
	}
	if u := f.b.Usage()["res-1"]; u.StoredBytes != 0 {
		t.Fatalf("stored %d after rm", u.StoredBytes)
	}
}

// writeCLITree writes the files TestAWSCLI syncs: top.txt and sub/f1.bin,
// sub/f2.bin (the last one big enough to go multipart).
func writeCLITree(t *testing.T, src string) {
	for i, n := range []int{10, 70_000, 9 << 20} { // the last one goes multipart
		p := filepath.Join(src, "sub", fmt.Sprintf("f%d.bin", i))
		if i == 0 {
			p = filepath.Join(src, "top.txt")
		}
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, randBytes(n, uint64(20+i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// awsCLI returns runners of the aws CLI against f as keyW1: aws wants
// success, awsFail wants failure; both return the combined output.
func awsCLI(t *testing.T, f *fixture) (aws, awsFail func(args ...string) string) {
	env := append(os.Environ(),
		"AWS_ACCESS_KEY_ID="+keyW1.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+keyW1.Secret,
		"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1")
	aws = func(args ...string) string {
		t.Helper()
		cmd := exec.Command("aws", append([]string{"--endpoint-url", f.url}, args...)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	awsFail = func(args ...string) string {
		t.Helper()
		cmd := exec.Command("aws", append([]string{"--endpoint-url", f.url}, args...)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Fatalf("aws %s succeeded, want failure\n%s", strings.Join(args, " "), out)
		}
		return string(out)
	}
	return aws, awsFail
}

// TestTwoBridges runs two bridges in one process, over different
// directories, with virtual-host addressing on one of them.
func TestTwoBridges(t *testing.T) {
	f1 := newFixture(t, fixtureOpts{})
	f2 := newFixture(t, fixtureOpts{vhost: "s3.flashback.test"})
	ctx := context.Background()
	putBytes(t, f1.sdk(keyW1), "res-1", "k", []byte("from one"))

	// Virtual-host style: <bucket>.s3.flashback.test, resolved to the bridge.
	_, port, _ := net.SplitHostPort(f2.addr)
	dialer := &net.Dialer{}
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return dialer.DialContext(ctx, network, f2.addr)
	}}}
	vc := f2.sdk(keyW1, func(o *s3.Options) {
		o.BaseEndpoint = aws.String("http://s3.flashback.test:" + port)
		o.UsePathStyle = false
		o.HTTPClient = hc
	})
	putBytes(t, vc, "res-1", "k", []byte("from two"))
	if got := getAll(t, vc, "res-1", "k"); string(got) != "from two" {
		t.Fatalf("vhost get: %q", got)
	}
	lo, err := vc.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("res-1")})
	if err != nil || len(lo.Contents) != 1 {
		t.Fatalf("vhost list: %v", err)
	}
	// Path style still works on the vhost bridge.
	if got := getAll(t, f2.sdk(keyW1), "res-1", "k"); string(got) != "from two" {
		t.Fatalf("path-style on vhost bridge: %q", got)
	}
	if got := getAll(t, f1.sdk(keyW1), "res-1", "k"); string(got) != "from one" {
		t.Fatalf("bridge one: %q", got)
	}
	// Keys are per bridge.
	f2.keys.Delete(keyW1.AccessKeyID)
	_, err = f2.sdk(keyW1).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("res-1"), Key: aws.String("k")})
	wantCode(t, err, "InvalidAccessKeyId", 403)
	if got := getAll(t, f1.sdk(keyW1), "res-1", "k"); string(got) != "from one" {
		t.Fatalf("bridge one after revoking on two: %q", got)
	}
}

// TestUsageSurvivesRestart: stored bytes are recomputed from the backend.
func TestUsageSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, fixtureOpts{dir: dir})
	c := f.sdk(keyW1)
	putBytes(t, c, "res-1", "a", make([]byte, 1000))
	if _, err := c.CreateMultipartUpload(context.Background(), &s3.CreateMultipartUploadInput{Bucket: aws.String("res-1"), Key: aws.String("p")}); err != nil {
		t.Fatal(err)
	}
	before := f.b.Usage()["res-1"].StoredBytes
	f2 := newFixture(t, fixtureOpts{dir: dir})
	getAll(t, f2.sdk(keyW1), "res-1", "a")
	if after := f2.b.Usage()["res-1"].StoredBytes; after != before || after < 1000 {
		t.Fatalf("stored after restart %d, before %d", after, before)
	}
}

func TestMetrics(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	c := f.sdk(keyW1)
	putBytes(t, c, "res-1", "m", make([]byte, 12345))
	getAll(t, c, "res-1", "m")
	f.sdk(keyR1).PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("res-1"), Key: aws.String("x"), Body: strings.NewReader("x")})
	rec := &responseRecorder{h: http.Header{}}
	req, _ := http.NewRequest(http.MethodGet, "/metrics", nil)
	f.b.MetricsHandler().ServeHTTP(rec, req)
	out := rec.buf.String()
	for _, want := range []string{
		`flashback_bridge_requests_total{op="PutObject",status="200",unit="unit-a"} 1`,
		`flashback_bridge_requests_total{op="GetObject",status="200",unit="unit-a"} 1`,
		`flashback_bridge_requests_total{op="PutObject",status="403",unit="unit-a"} 1`,
		`flashback_bridge_bytes_in_total{unit="unit-a"} 12345`,
		`flashback_bridge_bytes_out_total{unit="unit-a"} 12345`,
		`flashback_bridge_request_duration_seconds_bucket{op="GetObject",unit="unit-a",le="+Inf"} 1`,
		`flashback_bridge_reservation_stored_bytes{reservation="res-1",unit="unit-a"} 12345`,
		`flashback_bridge_reservation_egress_bytes_total{reservation="res-1",unit="unit-a"} 12345`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if t.Failed() {
		var lines []string
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "flashback_") {
				lines = append(lines, l)
			}
		}
		sort.Strings(lines)
		t.Logf("metrics:\n%s", strings.Join(lines, "\n"))
	}
}

type responseRecorder struct {
	h   http.Header
	buf bytes.Buffer
}

func (r *responseRecorder) Header() http.Header         { return r.h }
func (r *responseRecorder) Write(b []byte) (int, error) { return r.buf.Write(b) }
func (r *responseRecorder) WriteHeader(int)             {}

// TestMemoryFlat streams a large object up and down through the bridge and
// checks the heap does not grow with it.
func TestMemoryFlat(t *testing.T) {
	size := int64(256 << 20)
	if raceEnabled || testing.Short() {
		size = 64 << 20
	}
	f := newFixture(t, fixtureOpts{})
	c := f.minio(keyW1)
	ctx := context.Background()
	runtime.GC()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	peak := m0.HeapInuse
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
		}
	}()
	// Known size, single PUT (minio-go streams it with a signed chunked
	// payload over plain HTTP).
	if _, err := c.PutObject(ctx, "res-1", "huge", io.LimitReader(zeroReader{}, size), size,
		minio.PutObjectOptions{DisableMultipart: true}); err != nil {
		t.Fatal(err)
	}
	o, err := c.GetObject(ctx, "res-1", "huge", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, o)
	o.Close()
	close(stop)
	<-done
	if err != nil || n != size {
		t.Fatalf("get: %d bytes, %v", n, err)
	}
	growth := int64(peak) - int64(m0.HeapInuse)
	t.Logf("object %d MiB, heap in use before %d MiB, peak growth %d MiB; modes %v",
		size>>20, m0.HeapInuse>>20, growth>>20, f.sniff.modes)
	if growth > size/4 {
		t.Fatalf("heap grew by %d MiB for a %d MiB object", growth>>20, size>>20)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
