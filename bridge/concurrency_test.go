package bridge

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// slowPut is a PutObject whose body the test feeds by hand.
type slowPut struct {
	pw   *io.PipeWriter
	done chan slowPutResult
}

type slowPutResult struct {
	status int
	body   string
	err    error
}

// startSlowPut starts an UNSIGNED-PAYLOAD PUT of total bytes to path and
// returns once the bridge streams it into the backend (a temp file exists).
// query is appended to the URL as is ("" for a plain PutObject).
func startSlowPut(t *testing.T, f *fixture, k Key, path, query string, total int) *slowPut {
	t.Helper()
	pr, pw := io.Pipe()
	url := f.url + path
	if query != "" {
		url += "?" + query
	}
	req, _ := http.NewRequest(http.MethodPut, url, pr)
	req.ContentLength = int64(total)
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: k.AccessKeyID, SecretAccessKey: k.Secret},
		req, "UNSIGNED-PAYLOAD", "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	sp := &slowPut{pw: pw, done: make(chan slowPutResult, 1)}
	before := countTemps(f)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			sp.done <- slowPutResult{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		sp.done <- slowPutResult{status: resp.StatusCode, body: string(b)}
	}()
	if _, err := pw.Write(make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for countTemps(f) <= before {
		if time.Now().After(deadline) {
			t.Fatal("slow upload never reached the backend")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return sp
}

func countTemps(f *fixture) int {
	ents, _ := os.ReadDir(f.local.TempDir())
	return len(ents)
}

// finish sends the rest of the body (zeros) and waits for the response.
func (sp *slowPut) finish(t *testing.T, rest int) slowPutResult {
	t.Helper()
	if _, err := sp.pw.Write(make([]byte, rest)); err != nil {
		t.Fatal(err)
	}
	sp.pw.Close()
	select {
	case r := <-sp.done:
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("slow put never answered")
		return slowPutResult{}
	}
}

// TestWritersOfOneKeyDoNotBlock: while a PUT of a key streams, another PUT
// and a DELETE of the same key complete (S3 lets writers proceed; the last
// to complete wins), and the accounting ends at the real stored size.
func TestWritersOfOneKeyDoNotBlock(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	c := f.sdk(keyW1)
	const total = 3 << 20
	sp := startSlowPut(t, f, keyW1, "/res-1/contended", "", total)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	small := []byte("the second writer")
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("res-1"), Key: aws.String("contended"), Body: bytes.NewReader(small)}); err != nil {
		t.Fatalf("PUT while another PUT of the key streams: %v", err)
	}
	if got := getAll(t, c, "res-1", "contended"); !bytes.Equal(got, small) {
		t.Fatalf("GET after the second PUT: %q", got)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("res-1"), Key: aws.String("contended")}); err != nil {
		t.Fatalf("DELETE while a PUT of the key streams: %v", err)
	}
	if u := f.b.Usage()["res-1"]; u.StoredBytes != 0 {
		t.Fatalf("stored bytes after the delete: %d, want 0", u.StoredBytes)
	}

	if r := sp.finish(t, total-(1<<20)); r.err != nil || r.status != 200 {
		t.Fatalf("slow PUT: %d %v %s", r.status, r.err, r.body)
	}
	// The slow PUT completed last: it wins.
	if got := getAll(t, c, "res-1", "contended"); len(got) != total {
		t.Fatalf("GET after the slow PUT completed: %d bytes, want %d", len(got), total)
	}
	if u := f.b.Usage()["res-1"]; u.StoredBytes != total {
		t.Fatalf("stored bytes: %d, want %d", u.StoredBytes, total)
	}
}
