package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flashback-network/flashback/testservers"
)

var bucketSeq atomic.Int64

// uniqueName is a fresh bucket/container name, valid for S3, Azure and GCS.
func uniqueName(kind string) string {
	return fmt.Sprintf("fb-%s-%d-%d", kind, time.Now().UnixNano()%1e9, bucketSeq.Add(1))
}

func TestLocal(t *testing.T) {
	runConformance(t, func(t *testing.T) Backend {
		b, err := New(Config{Kind: KindLocal, Local: &LocalConfig{Root: t.TempDir()}})
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
}

// leftovers: files left in the temp directory.
func (l *Local) leftovers(t *testing.T) []string {
	ents, err := os.ReadDir(l.tmpDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestS3(t *testing.T) {
	endpoint := testservers.StartMinIO(t)
	runConformance(t, func(t *testing.T) Backend {
		bucket := uniqueName("s3")
		b, err := New(Config{Kind: KindS3, S3: &S3Config{
			Endpoint: endpoint, PathStyle: true, Bucket: bucket, Prefix: "unit1/",
			AccessKeyID: testservers.MinIOUser, SecretAccessKey: testservers.MinIOPassword,
		}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := innerOf(b).(*S3).Client().CreateBucket(tctx(t), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
			t.Fatalf("creating bucket: %v", err)
		}
		return b
	})
}

// MinIO's limitations (AWS S3 has neither).
func (b *S3) testQuirks() quirks { return quirks{noObjectAndPrefix: true, noEmptySegment: true} }

// leftovers: multipart uploads still open.
func (b *S3) leftovers(t *testing.T) []string {
	out, err := b.c.ListMultipartUploads(tctx(t), &s3.ListMultipartUploadsInput{Bucket: &b.bucket})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, "upload of "+aws.ToString(u.Key))
	}
	return keys
}

func TestAzure(t *testing.T) {
	conn := testservers.StartAzurite(t)
	runConformance(t, func(t *testing.T) Backend {
		name := uniqueName("az")
		b, err := New(Config{Kind: KindAzure, Azure: &AzureConfig{ConnectionString: conn, Container: name, Prefix: "unit1/"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := innerOf(b).(*Azure).ContainerClient().Create(tctx(t), nil); err != nil {
			t.Fatalf("creating container: %v", err)
		}
		return b
	})
}

// leftovers: Azure keeps the uncommitted blocks of failed uploads
// (invisible, discarded by the service later); they are logged, not failed
// on.
func (a *Azure) leftovers(t *testing.T) []string {
	names := func(uncommitted bool) map[string]bool {
		pager := a.cc.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{
			Include: container.ListBlobsInclude{UncommittedBlobs: uncommitted}})
		m := map[string]bool{}
		for pager.More() {
			page, err := pager.NextPage(tctx(t))
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range page.Segment.BlobItems {
				m[*it.Name] = true
			}
		}
		return m
	}
	committed := names(false)
	var only []string
	for n := range names(true) {
		if !committed[n] {
			only = append(only, n)
		}
	}
	if len(only) > 0 {
		t.Logf("azure: %d names hold only uncommitted blocks (invisible; discarded by the service later)", len(only))
	}
	return nil
}

func TestGCS(t *testing.T) {
	endpoint := testservers.StartFakeGCS(t)
	runConformance(t, func(t *testing.T) Backend {
		bucket := uniqueName("gcs")
		b, err := New(Config{Kind: KindGCS, GCS: &GCSConfig{
			Endpoint: endpoint, WithoutAuthentication: true, Bucket: bucket, Prefix: "unit1/",
		}})
		if err != nil {
			t.Fatal(err)
		}
		g := innerOf(b).(*GCS)
		t.Cleanup(func() { g.Close() })
		if err := g.Client().Bucket(bucket).Create(tctx(t), "test-project", nil); err != nil {
			t.Fatalf("creating bucket: %v", err)
		}
		return b
	})
}

func TestConfigJSON(t *testing.T) {
	const js = `{"kind":"local","local":{"root":"%s","stale_temp_age":"2h"}}`
	var cfg Config
	dir := t.TempDir()
	if err := json.Unmarshal([]byte(fmt.Sprintf(js, dir)), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Kind != KindLocal || cfg.Local.Root != dir || time.Duration(cfg.Local.StaleTempAge) != 2*time.Hour {
		t.Fatalf("decoded %+v", cfg)
	}
	if _, err := New(cfg); err != nil {
		t.Fatal(err)
	}
	var s3cfg Config
	if err := json.Unmarshal([]byte(`{"kind":"s3","s3":{"endpoint":"http://127.0.0.1:9","bucket":"b","path_style":true,"access_key_id":"k","secret_access_key":"s"}}`), &s3cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := New(s3cfg); err != nil || !s3cfg.S3.PathStyle {
		t.Fatalf("s3 config: %v %+v", err, s3cfg.S3)
	}
	for _, bad := range []Config{{}, {Kind: "ftp"}, {Kind: KindLocal}, {Kind: KindS3}, {Kind: KindAzure}, {Kind: KindGCS},
		{Kind: KindS3, S3: &S3Config{}}, {Kind: KindAzure, Azure: &AzureConfig{Container: "c"}}} {
		if _, err := New(bad); err == nil {
			t.Errorf("New(%+v) accepted", bad)
		}
	}
}

func TestValidateKey(t *testing.T) {
	for _, k := range []string{"a", "r42/photos/a.jpg", "dir/", "a..b", ".hidden", "x//y", "...", "ünï"} {
		if err := ValidateKey(k); err != nil {
			t.Errorf("%q rejected: %v", k, err)
		}
	}
	for k, why := range map[string]string{"": "empty", "../x": "..", "a/..": "..", "/a": "absolute", "a\x00": "NUL", "\xff": "UTF-8"} {
		err := ValidateKey(k)
		if !errors.Is(err, ErrInvalidKey) || !strings.Contains(err.Error(), why) {
			t.Errorf("%q: %v, want ErrInvalidKey mentioning %q", k, err, why)
		}
	}
}

// A crash leaves temp files; reopening removes them at once, whatever
// their age, but never the temp file of an upload still in flight (its
// writer holds it), and never shows a partial object.
func TestLocalStaleTemps(t *testing.T) {
	root := t.TempDir()
	l, err := NewLocal(LocalConfig{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	crashed := filepath.Join(l.TempDir(), "put-crashed.tmp")
	inflight := filepath.Join(l.TempDir(), "put-inflight.tmp")
	for _, f := range []string{crashed, inflight} {
		if err := os.WriteFile(f, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The in-flight upload's writer holds its file, as Put does.
	w, err := os.OpenFile(inflight, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	lockTemp(w)
	if _, err := NewLocal(LocalConfig{Root: root}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(crashed); !os.IsNotExist(err) {
		t.Errorf("temp file left by a crash (a second old) kept: %v", err)
	}
	if _, err := os.Stat(inflight); err != nil {
		t.Errorf("temp file of an upload in flight removed: %v", err)
	}
	if list, _ := l.List(context.Background(), "", "", 0); len(list) != 0 {
		t.Errorf("temp files listed: %v", list)
	}
}

// Objects on disk are confined to Root/objects whatever the key.
func TestLocalPaths(t *testing.T) {
	l, err := NewLocal(LocalConfig{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{
		"a":           "objects/a.o",
		"a/b":         "objects/a.d/b.o",
		"dir/":        "objects/dir.d/.o",
		"x//y":        "objects/x.d/.d/y.o",
		"...":         "objects/....o",
		"a.o/b.d/c.o": "objects/a.o.d/b.d.d/c.o.o",
	} {
		p, err := l.path(key)
		if err != nil {
			t.Fatal(err)
		}
		if rel, _ := filepath.Rel(l.Root(), p); rel != want {
			t.Errorf("%q -> %q, want %q", key, rel, want)
		}
	}
	long := strings.Repeat("s", 254)
	p, err := l.path(long)
	if err != nil {
		t.Fatalf("254-byte segment: %v", err)
	}
	if rel, _ := filepath.Rel(l.Root(), p); rel != "objects/"+long[:253]+".l/s.o" {
		t.Errorf("254-byte segment -> %q", rel)
	}
}

// Key segments longer than a file name (S3 allows them) are stored in
// pieces and list back as the same keys, in key order.
func TestLocalLongSegments(t *testing.T) {
	ctx := context.Background()
	l, err := NewLocal(LocalConfig{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	s300, s600 := strings.Repeat("a", 300), strings.Repeat("b", 600)
	keys := []string{"d/" + s300, "d/" + s300 + "/x", "d/" + s300 + "x", "d/" + s600, "d/a", "d/" + s600[:253]}
	for _, k := range keys {
		if _, err := l.Put(ctx, k, strings.NewReader(k), int64(len(k)), ObjectMeta{}); err != nil {
			t.Fatalf("put %d-byte key: %v", len(k), err)
		}
	}
	sort.Strings(keys)
	list, err := l.List(ctx, "d/", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range list {
		got = append(got, o.Key)
	}
	if strings.Join(got, "|") != strings.Join(keys, "|") {
		t.Fatalf("listed %d keys, want %d in order", len(got), len(keys))
	}
	if list, _ := l.List(ctx, "d/"+s300+"/", "", 0); len(list) != 1 || list[0].Key != "d/"+s300+"/x" {
		t.Fatalf("list under a long segment: %+v", list)
	}
	for _, k := range keys {
		rc, _, err := l.Get(ctx, k, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if string(b) != k {
			t.Fatalf("content of %d-byte key mismatch", len(k))
		}
		if err := l.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(l.Root(), "objects")); len(ents) != 0 {
		t.Fatalf("directories left after deleting every key: %d", len(ents))
	}
}
