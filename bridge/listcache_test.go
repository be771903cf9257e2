package bridge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flashback-network/flashback/storage"
	"github.com/flashback-network/flashback/testservers"
)

// countingTransport counts the requests an S3 backend sends to MinIO, by
// kind, so tests can tell a listing answered from the cache (no request)
// from one that went to the backend.
type countingTransport struct {
	lists, heads atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	switch {
	case r.Method == http.MethodGet && r.URL.Query().Has("list-type"):
		c.lists.Add(1)
	case r.Method == http.MethodHead:
		c.heads.Add(1)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// cachedS3 is a cachedBackend over a fresh bucket of the test MinIO, with
// the inner backend (to compare against) and the request counts.
type cachedS3 struct {
	*cachedBackend
	inner *storage.S3
	n     *countingTransport
}

func newCachedS3(t *testing.T, endpoint, bucket string, budget int64) cachedS3 {
	t.Helper()
	n := &countingTransport{}
	be, err := storage.NewS3(context.Background(), storage.S3Config{
		Endpoint: endpoint, PathStyle: true, Bucket: bucket, Prefix: "u/",
		AccessKeyID: testservers.MinIOUser, SecretAccessKey: testservers.MinIOPassword, HTTPClient: &http.Client{Transport: n},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := be.Client().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil &&
		!strings.Contains(err.Error(), "BucketAlreadyOwnedByYou") {
		t.Fatal(err)
	}
	cb, ok := withListCache(be, budget).(*cachedBackend)
	if !ok {
		t.Fatal("S3 backend not wrapped")
	}
	return cachedS3{cachedBackend: cb, inner: be, n: n}
}

func (c cachedS3) put(t *testing.T, key, body string) {
	t.Helper()
	if _, err := c.Put(context.Background(), key, strings.NewReader(body), int64(len(body)), storage.ObjectMeta{}); err != nil {
		t.Fatal(err)
	}
}

// listBoth lists through the cache and from the backend itself, fails
// unless they agree, and returns how many backend listings the cached one
// sent.
func (c cachedS3) listBoth(t *testing.T, prefix, after string, limit int) ([]storage.ObjectInfo, int64) {
	t.Helper()
	ctx := context.Background()
	before := c.n.lists.Load()
	got, err := c.List(ctx, prefix, after, limit)
	if err != nil {
		t.Fatal(err)
	}
	sent := c.n.lists.Load() - before
	want, err := c.inner.List(ctx, prefix, after, limit)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 && len(want) == 0 {
		return got, sent
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("List(%q, %q, %d) through the cache:\n%v\nbackend:\n%v", prefix, after, limit, got, want)
	}
	return got, sent
}

// TestListCacheAnswersAsTheBackend: repeated listings of an unchanged range
// are served from memory and equal the backend's own listing (keys, sizes,
// ETags, times); a write of any kind inside the range sends the next
// listing to the backend, which then shows it.
func TestListCacheAnswersAsTheBackend(t *testing.T) {
	c := newCachedS3(t, testservers.StartMinIO(t), "unit", 0)
	ctx := context.Background()
	for i := 0; i < 30; i++ {
		c.put(t, fmt.Sprintf("r1/k/%02d", i), strings.Repeat("x", i))
	}
	c.put(t, "r1/other", "o")
	c.put(t, "r2/k/00", "in another space")

	if _, sent := c.listBoth(t, "r1/", "", 1000); sent != 1 {
		t.Fatalf("first listing sent %d backend listings, want 1", sent)
	}
	// Sub-ranges of what was listed: no backend call, same answers.
	for _, q := range []struct {
		prefix, after string
		limit         int
	}{{"r1/", "", 1000}, {"r1/k/", "", 1000}, {"r1/k/", "r1/k/07", 5}, {"r1/k/1", "", 3},
		{"r1/", "r1/k/29", 10}, {"r1/k/", "r1/k/99", 10}, {"r1/zzz", "", 10}, {"r1/k/0", "r1/a", 0}} {
		if _, sent := c.listBoth(t, q.prefix, q.after, q.limit); sent != 0 {
			t.Errorf("List(%q, %q, %d) of a listed range sent %d backend listings", q.prefix, q.after, q.limit, sent)
		}
	}
	// Another space was never listed: it goes to the backend.
	if _, sent := c.listBoth(t, "r2/", "", 10); sent != 1 {
		t.Errorf("listing an unlisted space sent %d backend listings, want 1", sent)
	}

	writes := map[string]func() error{
		"put": func() error {
			_, err := c.Put(ctx, "r1/k/05", strings.NewReader("new"), 3, storage.ObjectMeta{})
			return err
		},
		"delete": func() error { return c.Delete(ctx, "r1/k/06") },
		"copy":   func() error { _, err := c.Copy(ctx, "r1/k/07", "r1/k/07b"); return err },
		"compose": func() error {
			_, err := c.Compose(ctx, "r1/k/08", []string{"r1/k/09", "r1/k/10"}, storage.ObjectMeta{})
			return err
		},
		"replace": func() error {
			_, _, err := c.PutReplace(ctx, "r1/k/11", strings.NewReader("r"), 1, storage.ObjectMeta{})
			return err
		},
		"complete upload": func() error {
			id, err := c.CreateUpload(ctx, "r1/k/12", storage.ObjectMeta{})
			if err != nil {
				return err
			}
			p, err := c.PutUploadPart(ctx, "r1/k/12", id, 1, strings.NewReader("part"), 4)
			if err != nil {
				return err
			}
			_, err = c.CompleteUpload(ctx, "r1/k/12", id, []storage.UploadPart{p})
			return err
		},
	}
	for name, w := range writes {
		if err := w(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, sent := c.listBoth(t, "r1/k/", "", 1000); sent != 1 {
			t.Errorf("after %s: listing sent %d backend listings, want 1", name, sent)
		}
		if _, sent := c.listBoth(t, "r1/k/", "", 1000); sent != 0 {
			t.Errorf("after %s, second listing sent %d backend listings, want 0", name, sent)
		}
	}
	// A write outside the listed range leaves the range cached.
	c.put(t, "r1/other", "changed")
	if _, sent := c.listBoth(t, "r1/k/", "", 1000); sent != 0 {
		t.Errorf("a write outside the range sent the listing to the backend (%d)", sent)
	}
}

// TestListCacheRestartStartsEmpty: a new cache (a restarted bridge) over a
// bucket changed meanwhile lists what the bucket holds, not what an
// earlier cache saw.
func TestListCacheRestartStartsEmpty(t *testing.T) {
	endpoint := testservers.StartMinIO(t)
	c1 := newCachedS3(t, endpoint, "unit", 0)
	c1.put(t, "r1/a", "1")
	c1.put(t, "r1/b", "2")
	c1.listBoth(t, "r1/", "", 0)
	// Written while "the bridge was down": behind the first cache's back.
	if err := c1.inner.Delete(context.Background(), "r1/a"); err != nil {
		t.Fatal(err)
	}
	if _, err := c1.inner.Put(context.Background(), "r1/c", strings.NewReader("3"), 1, storage.ObjectMeta{}); err != nil {
		t.Fatal(err)
	}
	c2 := newCachedS3(t, endpoint, "unit", 0)
	got, sent := c2.listBoth(t, "r1/", "", 0)
	if sent != 1 || len(got) != 2 || got[0].Key != "r1/b" || got[1].Key != "r1/c" {
		t.Fatalf("after restart: %v (%d backend listings)", got, sent)
	}
}

// failingReader fails after its content: a Put of it fails.
type failingReader struct{ r io.Reader }

func (f failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errors.New("client went away")
	}
	return n, err
}

// TestListCacheFailedWriteNotCached: the key of a failed write (which the
// backend may still commit) is not served from the cache until the grace
// has passed, then is again.
func TestListCacheFailedWriteNotCached(t *testing.T) {
	c := newCachedS3(t, testservers.StartMinIO(t), "unit", 0)
	now := time.Now()
	var mu sync.Mutex
	c.c.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	c.put(t, "r1/a", "1")
	c.listBoth(t, "r1/", "", 0)
	_, err := c.Put(context.Background(), "r1/b", failingReader{strings.NewReader("xy")}, 4, storage.ObjectMeta{})
	if err == nil {
		t.Fatal("Put of a failing reader succeeded")
	}
	for i := 0; i < 2; i++ {
		if _, sent := c.listBoth(t, "r1/", "", 0); sent != 1 {
			t.Fatalf("listing %d over a failed write sent %d backend listings, want 1", i, sent)
		}
	}
	// Other ranges stay cached.
	if _, sent := c.listBoth(t, "r1/a", "", 0); sent != 0 {
		t.Errorf("a range without the failed key sent %d backend listings", sent)
	}
	mu.Lock()
	now = now.Add(failedWriteGrace + time.Second)
	mu.Unlock()
	c.listBoth(t, "r1/", "", 0)
	if _, sent := c.listBoth(t, "r1/", "", 0); sent != 0 {
		t.Errorf("after the grace the range is still not cached (%d backend listings)", sent)
	}
}

// TestListCachePutReplaceWithoutHead: a write of a key whose state the
// cache knows reports what it replaced without the backend's Head; an
// unknown key (overlapping writes, never listed) still gets the Head.
func TestListCachePutReplaceWithoutHead(t *testing.T) {
	c := newCachedS3(t, testservers.StartMinIO(t), "unit", 0)
	ctx := context.Background()
	replace := func(key, body string) (storage.Replaced, int64) {
		t.Helper()
		before := c.n.heads.Load()
		_, old, err := c.PutReplace(ctx, key, strings.NewReader(body), int64(len(body)), storage.ObjectMeta{})
		if err != nil {
			t.Fatal(err)
		}
		return old, c.n.heads.Load() - before
	}
	c.put(t, "r1/x", "12345")
	// Never listed: unknown, Head.
	if old, heads := replace("r1/x", "abc"); heads != 1 || old != (storage.Replaced{Existed: true, Size: 5}) {
		t.Fatalf("unlisted key: replaced %+v with %d heads", old, heads)
	}
	c.listBoth(t, "r1/", "", 0)
	steps := []struct {
		key, body string
		want      storage.Replaced
	}{
		{"r1/x", "abcd", storage.Replaced{Existed: true, Size: 3}}, // listed
		{"r1/x", "z", storage.Replaced{Existed: true, Size: 4}},    // written alone since
		{"r1/new", "n", storage.Replaced{}},                        // known absent
	}
	for _, s := range steps {
		if old, heads := replace(s.key, s.body); heads != 0 || old != s.want {
			t.Errorf("PutReplace %s: replaced %+v with %d heads, want %+v with none", s.key, old, heads, s.want)
		}
	}
	if err := c.Delete(ctx, "r1/new"); err != nil {
		t.Fatal(err)
	}
	if old, heads := replace("r1/new", "again"); heads != 0 || old != (storage.Replaced{}) {
		t.Errorf("after delete: replaced %+v with %d heads", old, heads)
	}
	// Two writes overlapping: the key is unknown until listed again.
	s := c.c.space("r1/")
	endFirst := c.c.beginWrite("r1/x")
	endSecond := c.c.beginWrite("r1/x")
	endFirst(writeOutcome{ok: true, exists: true, size: 1})
	endSecond(writeOutcome{ok: true, exists: true, size: 2})
	s.mu.Lock()
	_, known := s.current("r1/x")
	s.mu.Unlock()
	if known {
		t.Error("a key with overlapping writes is known")
	}
	if old, heads := replace("r1/x", "after"); heads != 1 || old != (storage.Replaced{Existed: true, Size: 1}) {
		t.Errorf("after overlapping writes: replaced %+v with %d heads, want the Head's size 1", old, heads)
	}
}

// TestListScanSkipsKeysWrittenDuringIt: a backend listing whose read may
// predate a write that began or ended while it ran does not install that
// key; the rest of its range is installed.
func TestListScanSkipsKeysWrittenDuringIt(t *testing.T) {
	c := newListCache(1 << 20)
	s := c.space("r/")
	stale := []storage.ObjectInfo{{Key: "r/a", Size: 1, ETag: "e1"}, {Key: "r/b", Size: 2, ETag: "e2"}}

	// A write that begins and ends while the listing runs.
	sc := s.startScan()
	c.beginWrite("r/a")(writeOutcome{ok: true, exists: true, size: 9})
	s.finishScan(sc, "r/", "", 1000, stale, nil)
	if _, ok := s.serve("r/", "", 1000); ok {
		t.Error("served a range with a key written during its listing")
	}
	if got, ok := s.serve("r/b", "", 1000); !ok || len(got) != 1 || got[0].ETag != "e2" {
		t.Errorf("the untouched key: %v %v", got, ok)
	}

	// A write in flight when the listing returns, and one that began
	// before it and ended during it.
	s2 := c.space("q/")
	endEarly := c.beginWrite("q/early")
	sc = s2.startScan()
	endLate := c.beginWrite("q/late")
	endEarly(writeOutcome{ok: true, exists: true})
	s2.finishScan(sc, "q/", "", 1000, []storage.ObjectInfo{{Key: "q/late", Size: 1}}, nil)
	for _, p := range []string{"q/early", "q/late", "q/"} {
		if _, ok := s2.serve(p, "", 1000); ok {
			t.Errorf("served %q, written during the listing", p)
		}
	}
	endLate(writeOutcome{ok: true, exists: true, size: 3})
	// A listing after both ended installs them.
	sc = s2.startScan()
	s2.finishScan(sc, "q/", "", 1000, []storage.ObjectInfo{{Key: "q/early", Size: 5}, {Key: "q/late", Size: 3}}, nil)
	if got, ok := s2.serve("q/", "", 1000); !ok || len(got) != 2 {
		t.Errorf("after the writes ended: %v %v", got, ok)
	}
	// A listing not in order or outside its range teaches nothing.
	s3 := c.space("z/")
	sc = s3.startScan()
	s3.finishScan(sc, "z/", "", 1000, []storage.ObjectInfo{{Key: "z/b"}, {Key: "z/a"}}, nil)
	if _, ok := s3.serve("z/", "", 1000); ok {
		t.Error("learned from an unsorted listing")
	}
}

// TestListCacheConcurrentWrites: writers, deleters and listers on a few
// keys at once (run with -race); once the writers are done, the cached
// listing is the backend's.
func TestListCacheConcurrentWrites(t *testing.T) {
	c := newCachedS3(t, testservers.StartMinIO(t), "unit", 0)
	ctx := context.Background()
	keys := []string{"r1/a", "r1/b", "r1/c", "r1/d"}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(seed, 1))
			for i := 0; i < 40; i++ {
				k := keys[rnd.IntN(len(keys))]
				var err error
				switch rnd.IntN(3) {
				case 0:
					err = c.Delete(ctx, k)
				case 1:
					body := strings.Repeat("w", rnd.IntN(20))
					_, _, err = c.PutReplace(ctx, k, strings.NewReader(body), int64(len(body)), storage.ObjectMeta{})
				default:
					body := strings.Repeat("p", rnd.IntN(20))
					_, err = c.Put(ctx, k, strings.NewReader(body), int64(len(body)), storage.ObjectMeta{})
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}(uint64(w))
	}
	var listers sync.WaitGroup
	for l := 0; l < 2; l++ {
		listers.Add(1)
		go func() {
			defer listers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := c.List(ctx, "r1/", "", 0); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	listers.Wait()
	c.listBoth(t, "r1/", "", 0)
	c.listBoth(t, "r1/", "", 0)
	c.listBoth(t, "r1/b", "", 0)
}

// TestListCacheBudget: past its budget the cache drops whole spaces, least
// recently used first (or the one that grew, if it holds over half the
// budget), and answers stay the backend's.
func TestListCacheBudget(t *testing.T) {
	// An item of these keys costs 5+32+itemOverhead bytes: ten fit in
	// less than half the budget, fifteen do not, three spaces of ten
	// exceed it.
	c := newCachedS3(t, testservers.StartMinIO(t), "unit", 4500)
	for _, sp := range []string{"r1/", "r2/", "r4/"} {
		for i := 0; i < 10; i++ {
			c.put(t, fmt.Sprintf("%s%02d", sp, i), "x")
		}
	}
	c.listBoth(t, "r1/", "", 0)
	c.listBoth(t, "r2/", "", 0)
	for _, sp := range []string{"r1/", "r2/"} {
		if _, sent := c.listBoth(t, sp, "", 0); sent != 0 {
			t.Fatalf("%s not cached within the budget (%d)", sp, sent)
		}
	}
	c.listBoth(t, "r4/", "", 0) // over the budget: r1, least recently used, goes
	if total := c.c.total.Load(); total > c.c.budget {
		t.Errorf("cache holds %d bytes, budget %d", total, c.c.budget)
	}
	for _, q := range []struct {
		space string
		sent  int64
	}{{"r2/", 0}, {"r4/", 0}, {"r1/", 1}} {
		if _, sent := c.listBoth(t, q.space, "", 0); sent != q.sent {
			t.Errorf("%s: %d backend listings, want %d", q.space, sent, q.sent)
		}
	}
	// A space bigger than half the budget drops itself, not the others.
	for i := 0; i < 15; i++ {
		c.put(t, fmt.Sprintf("r3/%02d", i), "x")
	}
	c.listBoth(t, "r3/", "", 0)
	if _, sent := c.listBoth(t, "r3/", "", 0); sent != 1 {
		t.Errorf("the space over half the budget stayed cached (%d)", sent)
	}
	if total := c.c.total.Load(); total > c.c.budget {
		t.Errorf("cache holds %d bytes, budget %d", total, c.c.budget)
	}
}

func TestKnownRangesMerge(t *testing.T) {
	s := newListCache(1 << 20).space("r/")
	s.addKnown(keyRange{lo: "r/c", hi: "r/e"})
	s.addKnown(keyRange{lo: "r/a", hi: "r/b"})
	s.addKnown(keyRange{lo: "r/x", inf: true})
	if len(s.known) != 3 || s.known[0].lo != "r/a" || s.known[2].lo != "r/x" {
		t.Fatalf("ranges %+v", s.known)
	}
	s.addKnown(keyRange{lo: "r/b", hi: "r/c"}) // adjacent to both sides
	if len(s.known) != 2 || s.known[0] != (keyRange{lo: "r/a", hi: "r/e"}) {
		t.Fatalf("after filling the gap: %+v", s.known)
	}
	s.addKnown(keyRange{lo: "r/d", hi: "r/y"})
	if len(s.known) != 1 || s.known[0] != (keyRange{lo: "r/a", inf: true}) {
		t.Fatalf("after overlapping the last: %+v", s.known)
	}
	for k, want := range map[string]bool{"r/": false, "r/a": true, "r/zzz": true} {
		if s.isKnown(k) != want {
			t.Errorf("isKnown(%q) = %v", k, !want)
		}
	}
	if e, inf := prefixEnd("r/a\xff"); e != "r/b" || inf {
		t.Errorf("prefixEnd = %q %v", e, inf)
	}
	if _, inf := prefixEnd(""); !inf {
		t.Error("prefixEnd of the empty prefix is bounded")
	}
}

// TestBridgeOverCachedS3: the S3 listing, object and multipart semantics
// tests pass over an S3 backend, with the listing cache in front of it.
func TestBridgeOverCachedS3(t *testing.T) {
	be := s3Backend(t, testservers.StartMinIO(t))
	f := newFixture(t, fixtureOpts{backendFor: func(string) storage.Backend { return be }})
	if _, ok := f.b.cfg.Backends["unit-a"].(*cachedBackend); !ok {
		t.Fatalf("backend %T is not behind the listing cache", f.b.cfg.Backends["unit-a"])
	}
	testSDKObjects(t, f)
	testSDKList(t, f)
	testSDKList(t, f) // again, once listed ranges are cached
	testSDKMultipart(t, f)
}
