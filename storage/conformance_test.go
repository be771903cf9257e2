package storage

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// runConformance is the one suite every backend passes, against a real
// server. newBackend returns a fresh, empty backend (its own bucket,
// container or directory) for each subtest.
func runConformance(t *testing.T, newBackend func(t *testing.T) Backend) {
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, newBackend(t)) })
	t.Run("EmptyObject", func(t *testing.T) { testEmptyObject(t, newBackend(t)) })
	t.Run("Ranges", func(t *testing.T) { testRanges(t, newBackend(t)) })
	t.Run("Overwrite", func(t *testing.T) { testOverwrite(t, newBackend(t)) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, newBackend(t)) })
	t.Run("NotFound", func(t *testing.T) { testNotFound(t, newBackend(t)) })
	t.Run("List", func(t *testing.T) { testList(t, newBackend(t)) })
	t.Run("SpecialKeys", func(t *testing.T) { testSpecialKeys(t, newBackend(t)) })
	t.Run("InvalidKeys", func(t *testing.T) { testInvalidKeys(t, newBackend(t)) })
	t.Run("Copy", func(t *testing.T) { testCopy(t, newBackend(t)) })
	t.Run("Compose", func(t *testing.T) { testCompose(t, newBackend(t)) })
	t.Run("Uploads", func(t *testing.T) { testUploads(t, newBackend(t)) })
	t.Run("Replace", func(t *testing.T) { testReplace(t, newBackend(t)) })
	t.Run("SizeMismatch", func(t *testing.T) { testSizeMismatch(t, newBackend(t)) })
	t.Run("InterruptedPut", func(t *testing.T) { testInterruptedPut(t, newBackend(t)) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, newBackend(t)) })
	t.Run("Large", func(t *testing.T) { testLarge(t, newBackend(t)) })
}

func tctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func md5hex(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }

func put(t *testing.T, b Backend, key string, data []byte, meta ObjectMeta) ObjectInfo {
	t.Helper()
	info, err := b.Put(tctx(t), key, bytes.NewReader(data), int64(len(data)), meta)
	if err != nil {
		t.Fatalf("Put %q: %v", key, err)
	}
	return info
}

func get(t *testing.T, b Backend, key string, rng *Range) ([]byte, ObjectInfo) {
	t.Helper()
	rc, info, err := b.Get(tctx(t), key, rng)
	if err != nil {
		t.Fatalf("Get %q %v: %v", key, rng, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %q: %v", key, err)
	}
	return data, info
}

func checkInfo(t *testing.T, what string, got ObjectInfo, key string, data []byte, meta ObjectMeta) {
	t.Helper()
	if got.Key != key || got.Size != int64(len(data)) || got.ETag != md5hex(data) {
		t.Errorf("%s: got key %q size %d etag %q, want %q %d %q", what, got.Key, got.Size, got.ETag, key, len(data), md5hex(data))
	}
	if meta.ContentType != "" && got.ContentType != meta.ContentType {
		t.Errorf("%s: content type %q, want %q", what, got.ContentType, meta.ContentType)
	}
	if want := normMeta(meta.UserMeta); !reflect.DeepEqual(got.UserMeta, want) {
		t.Errorf("%s: user meta %v, want %v", what, got.UserMeta, want)
	}
	if got.LastModified.IsZero() || time.Since(got.LastModified) > time.Hour || time.Until(got.LastModified) > time.Minute {
		t.Errorf("%s: last modified %v", what, got.LastModified)
	}
}

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func testRoundTrip(t *testing.T, b Backend) {
	data := randBytes(1, 100_000)
	meta := ObjectMeta{ContentType: "image/jpeg", UserMeta: map[string]string{"color": "blue", "Camera-Model": "X 100"}}
	pinfo := put(t, b, "r42/photos/a.jpg", data, meta)
	checkInfo(t, "Put", pinfo, "r42/photos/a.jpg", data, meta)
	got, ginfo := get(t, b, "r42/photos/a.jpg", nil)
	if !bytes.Equal(got, data) {
		t.Fatalf("Get returned %d bytes, not the %d put", len(got), len(data))
	}
	checkInfo(t, "Get", ginfo, "r42/photos/a.jpg", data, meta)
	hinfo, err := b.Head(tctx(t), "r42/photos/a.jpg")
	if err != nil {
		t.Fatal(err)
	}
	checkInfo(t, "Head", hinfo, "r42/photos/a.jpg", data, meta)
	if hinfo.UserMeta["camera-model"] != "X 100" {
		t.Errorf("user meta keys are lower-cased: %v", hinfo.UserMeta)
	}
	// Unknown size.
	info, err := b.Put(tctx(t), "r42/unknown", bytes.NewReader(data), -1, ObjectMeta{})
	if err != nil {
		t.Fatal(err)
	}
	checkInfo(t, "Put size -1", info, "r42/unknown", data, ObjectMeta{})
	got, _ = get(t, b, "r42/unknown", nil)
	if !bytes.Equal(got, data) {
		t.Fatal("size -1 round trip differs")
	}
}

func testEmptyObject(t *testing.T, b Backend) {
	for _, size := range []int64{0, -1} {
		key := fmt.Sprintf("empty%d", size)
		info, err := b.Put(tctx(t), key, bytes.NewReader(nil), size, ObjectMeta{ContentType: "text/plain"})
		if err != nil {
			t.Fatalf("Put empty (size %d): %v", size, err)
		}
		checkInfo(t, "Put empty", info, key, nil, ObjectMeta{ContentType: "text/plain"})
		got, ginfo := get(t, b, key, nil)
		if len(got) != 0 {
			t.Fatalf("empty object read back as %d bytes", len(got))
		}
		checkInfo(t, "Get empty", ginfo, key, nil, ObjectMeta{ContentType: "text/plain"})
		if _, _, err := b.Get(tctx(t), key, &Range{0, 0}); !errors.Is(err, ErrInvalidRange) {
			t.Errorf("range of an empty object: %v, want ErrInvalidRange", err)
		}
	}
}

func testRanges(t *testing.T, b Backend) {
	data := randBytes(2, 1000)
	put(t, b, "obj", data, ObjectMeta{ContentType: "application/octet-stream"})
	for _, c := range []struct{ start, end, wantStart, wantEnd int64 }{
		{0, 0, 0, 0},
		{0, 999, 0, 999},
		{10, 19, 10, 19},
		{500, 700, 500, 700},
		{990, 999, 990, 999},
		{999, 999, 999, 999},
		{990, 5000, 990, 999}, // clamped to the end, like S3
	} {
		got, info := get(t, b, "obj", &Range{c.start, c.end})
		if want := data[c.wantStart : c.wantEnd+1]; !bytes.Equal(got, want) {
			t.Errorf("range %d-%d: got %d bytes, want %d", c.start, c.end, len(got), len(want))
		}
		if info.Size != 1000 || info.ETag != md5hex(data) {
			t.Errorf("range %d-%d: info size %d etag %s, want the whole object's", c.start, c.end, info.Size, info.ETag)
		}
	}
	for _, r := range []Range{{1000, 1000}, {1000, 2000}, {5000, 6000}, {10, 5}, {-1, 3}} {
		if rc, _, err := b.Get(tctx(t), "obj", &r); !errors.Is(err, ErrInvalidRange) {
			if err == nil {
				rc.Close()
			}
			t.Errorf("range %d-%d: %v, want ErrInvalidRange", r.Start, r.End, err)
		}
	}
}

func testOverwrite(t *testing.T, b Backend) {
	put(t, b, "k", randBytes(3, 5000), ObjectMeta{ContentType: "text/plain", UserMeta: map[string]string{"v": "1", "old": "x"}})
	data := randBytes(4, 300)
	meta := ObjectMeta{ContentType: "application/json", UserMeta: map[string]string{"v": "2"}}
	put(t, b, "k", data, meta)
	got, info := get(t, b, "k", nil)
	if !bytes.Equal(got, data) {
		t.Fatal("overwrite: old content read back")
	}
	checkInfo(t, "Get after overwrite", info, "k", data, meta)
	l, err := b.List(tctx(t), "", "", 0)
	if err != nil || len(l) != 1 || l[0].Size != 300 {
		t.Fatalf("List after overwrite: %v %v", l, err)
	}
}

func testDelete(t *testing.T, b Backend) {
	put(t, b, "d/x", []byte("x"), ObjectMeta{})
	put(t, b, "d/y", []byte("y"), ObjectMeta{})
	if err := b.Delete(tctx(t), "d/x"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Head(tctx(t), "d/x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Head after Delete: %v, want ErrNotFound", err)
	}
	if err := b.Delete(tctx(t), "d/x"); err != nil {
		t.Fatalf("deleting again: %v", err)
	}
	if err := b.Delete(tctx(t), "never/was/here"); err != nil {
		t.Fatalf("deleting a missing key: %v", err)
	}
	if _, err := b.Head(tctx(t), "d/y"); err != nil {
		t.Fatalf("sibling gone: %v", err)
	}
	l, err := b.List(tctx(t), "", "", 0)
	if err != nil || len(l) != 1 || l[0].Key != "d/y" {
		t.Fatalf("List after delete: %v %v", l, err)
	}
	// A deleted key can be written again.
	put(t, b, "d/x", []byte("again"), ObjectMeta{})
	if got, _ := get(t, b, "d/x", nil); string(got) != "again" {
		t.Fatalf("rewrite after delete: %q", got)
	}
}

func testNotFound(t *testing.T, b Backend) {
	ctx := tctx(t)
	if _, _, err := b.Get(ctx, "missing", nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get missing: %v", err)
	}
	if _, _, err := b.Get(ctx, "missing", &Range{0, 10}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get range missing: %v", err)
	}
	if _, err := b.Head(ctx, "missing/deep/key"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Head missing: %v", err)
	}
	if _, err := b.Copy(ctx, "missing", "dst"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Copy missing: %v", err)
	}
	if _, err := b.Head(ctx, "dst"); !errors.Is(err, ErrNotFound) {
		t.Errorf("failed Copy made dst: %v", err)
	}
	put(t, b, "file", []byte("f"), ObjectMeta{})
	if _, err := b.Head(ctx, "file/child"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Head under an object: %v", err)
	}
	if l, err := b.List(ctx, "nothing/", "", 0); err != nil || len(l) != 0 {
		t.Errorf("List of an empty prefix: %v %v", l, err)
	}
}

func keysOf(l []ObjectInfo) []string {
	ks := make([]string, len(l))
	for i, o := range l {
		ks[i] = o.Key
	}
	return ks
}

// quirks are limitations of a test server (not of the service it stands
// for) that the suite works around; a backend's test file declares them.
type quirks struct {
	// MinIO cannot hold an object "a" and objects under "a/" at once.
	noObjectAndPrefix bool
	// MinIO rejects keys with an empty segment ("x//y").
	noEmptySegment bool
}

type quirker interface{ testQuirks() quirks }

func quirksOf(b Backend) quirks {
	if q, ok := b.(quirker); ok {
		return q.testQuirks()
	}
	return quirks{}
}

func testList(t *testing.T, b Backend) {
	// "a" and "a/b" both exist (a file and a "directory" on disk); "a!"
	// sorts before "a/" and "ab" after.
	all := []string{"a", "a!", "a/b", "a/c/d", "a/c/e", "ab", "b/x", "b/y", "dir/", "z"}
	if quirksOf(b).noObjectAndPrefix {
		all = slices.DeleteFunc(all, func(k string) bool { return k == "a" })
		t.Logf("test server cannot hold \"a\" and \"a/...\": listing without \"a\"")
	}
	data := map[string][]byte{}
	for i, k := range slices.Backward(all) { // write out of order
		data[k] = randBytes(uint64(100+i), 10+i)
		put(t, b, k, data[k], ObjectMeta{})
	}
	list := func(prefix, after string, limit int) []string {
		t.Helper()
		l, err := b.List(tctx(t), prefix, after, limit)
		if err != nil {
			t.Fatalf("List(%q, %q, %d): %v", prefix, after, limit, err)
		}
		for _, o := range l {
			if o.Size != int64(len(data[o.Key])) || o.ETag != md5hex(data[o.Key]) || o.LastModified.IsZero() {
				t.Errorf("List entry %q: size %d etag %q modified %v", o.Key, o.Size, o.ETag, o.LastModified)
			}
		}
		return keysOf(l)
	}
	// The model: keys with the prefix, after startAfter, sorted, limited.
	model := func(prefix, after string, limit int) []string {
		var out []string
		for _, k := range all { // all is sorted
			if strings.HasPrefix(k, prefix) && k > after && (limit <= 0 || len(out) < limit) {
				out = append(out, k)
			}
		}
		return out
	}
	if !slices.IsSorted(all) {
		t.Fatal("test keys must be sorted")
	}
	for _, c := range []struct {
		prefix, after string
		limit         int
	}{
		{"", "", 0}, {"", "", 1000}, {"", "", 3},
		{"a/", "", 0}, {"a", "", 0}, {"a", "a/b", 0}, {"a/c", "", 0}, {"a/c/d", "", 0}, {"a/c/", "a/c/d", 0},
		{"", "a/c", 0}, {"", "a/c/d", 2}, {"", "a", 0}, {"", "a/", 0}, {"", "a/c/e", 0}, {"", "a/c/e0", 1},
		{"b/", "b/x", 1}, {"b/", "b/y", 0}, {"b/", "a", 0}, {"b/", "c", 0},
		{"", "z", 0}, {"", "0", 2}, {"dir/", "", 0}, {"dir", "", 0}, {"nope/", "", 0}, {"c", "", 0},
	} {
		want := model(c.prefix, c.after, c.limit)
		if got := list(c.prefix, c.after, c.limit); !slices.Equal(got, want) {
			t.Errorf("List(%q, %q, %d) = %q, want %q", c.prefix, c.after, c.limit, got, want)
		}
	}
	// Paging with start-after walks everything once, in order.
	for _, limit := range []int{1, 2, 4} {
		var got []string
		after := ""
		for range 20 {
			page := list("", after, limit)
			got = append(got, page...)
			if len(page) < limit {
				break
			}
			after = page[len(page)-1]
		}
		if !slices.Equal(got, all) {
			t.Errorf("paging by %d: %q", limit, got)
		}
	}
}

func testSpecialKeys(t *testing.T, b Backend) {
	keys := []string{
		"sp ace/plus+per%cent&amp=eq?q#h",
		"ünï/çødé 文字.txt",
		"folder/",
		"dots/.../...x/a.b.c",
		"tricky/name.o/and.d/x.tmp",
		strings.Repeat("long/", 100) + "end",
	}
	if !quirksOf(b).noEmptySegment {
		keys = append(keys, "x//y")
	}
	for i, k := range keys {
		data := []byte(fmt.Sprintf("content %d of %q", i, k))
		put(t, b, k, data, ObjectMeta{ContentType: "text/plain"})
		got, info := get(t, b, k, nil)
		if !bytes.Equal(got, data) || info.Key != k {
			t.Errorf("key %q: got %q (key %q)", k, got, info.Key)
		}
		if _, err := b.Copy(tctx(t), k, k+".copy"); err != nil {
			t.Errorf("Copy %q: %v", k, err)
		}
	}
	l, err := b.List(tctx(t), "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, k := range keys {
		want = append(want, k, k+".copy")
	}
	slices.Sort(want)
	if got := keysOf(l); !slices.Equal(got, want) {
		t.Errorf("List = %q\nwant %q", got, want)
	}
	for _, k := range want {
		if err := b.Delete(tctx(t), k); err != nil {
			t.Errorf("Delete %q: %v", k, err)
		}
	}
	if l, _ := b.List(tctx(t), "", "", 0); len(l) != 0 {
		t.Errorf("left after deleting all: %q", keysOf(l))
	}
}

func testInvalidKeys(t *testing.T, b Backend) {
	ctx := tctx(t)
	put(t, b, "ok", []byte("ok"), ObjectMeta{})
	for _, k := range []string{"", "../x", "a/../b", "a/..", "./a", "a/./b", "/abs", "a\x00b", "a\nb", "\xff\xfe", strings.Repeat("k", MaxStoredKeyLen+1)} {
		checkErr := func(op string, err error) {
			t.Helper()
			if !errors.Is(err, ErrInvalidKey) {
				t.Errorf("%s %q: %v, want ErrInvalidKey", op, k, err)
			}
		}
		_, err := b.Put(ctx, k, strings.NewReader("x"), 1, ObjectMeta{})
		checkErr("Put", err)
		_, _, err = b.Get(ctx, k, nil)
		checkErr("Get", err)
		_, err = b.Head(ctx, k)
		checkErr("Head", err)
		checkErr("Delete", b.Delete(ctx, k))
		_, err = b.Copy(ctx, "ok", k)
		checkErr("Copy to", err)
		_, err = b.Copy(ctx, k, "ok2")
		checkErr("Copy from", err)
	}
	if l, _ := b.List(ctx, "", "", 0); !slices.Equal(keysOf(l), []string{"ok"}) {
		t.Errorf("invalid keys left something: %q", keysOf(l))
	}
}

func testCopy(t *testing.T, b Backend) {
	data := randBytes(5, 70_000)
	meta := ObjectMeta{ContentType: "video/mp4", UserMeta: map[string]string{"origin": "camera"}}
	put(t, b, "src/v.mp4", data, meta)
	info, err := b.Copy(tctx(t), "src/v.mp4", "dst/v.mp4")
	if err != nil {
		t.Fatal(err)
	}
	checkInfo(t, "Copy", info, "dst/v.mp4", data, meta)
	got, ginfo := get(t, b, "dst/v.mp4", nil)
	if !bytes.Equal(got, data) {
		t.Fatal("copy content differs")
	}
	checkInfo(t, "Get copy", ginfo, "dst/v.mp4", data, meta)
	// Copy over an existing object replaces it; the source stays.
	put(t, b, "other", []byte("other"), ObjectMeta{ContentType: "text/plain", UserMeta: map[string]string{"x": "y"}})
	if _, err := b.Copy(tctx(t), "src/v.mp4", "other"); err != nil {
		t.Fatal(err)
	}
	got, ginfo = get(t, b, "other", nil)
	if !bytes.Equal(got, data) {
		t.Fatal("copy over existing: content differs")
	}
	checkInfo(t, "Get copy over existing", ginfo, "other", data, meta)
	if got, _ := get(t, b, "src/v.mp4", nil); !bytes.Equal(got, data) {
		t.Fatal("source changed by copy")
	}
}

func testCompose(t *testing.T, b Backend) {
	const mib = 1 << 20
	for _, c := range []struct {
		name  string
		sizes []int
	}{
		{"big parts", []int{5 * mib, 5 * mib, 1000}}, // S3's rules: native part copies
		{"small parts", []int{10, 0, 2000, 1}},       // below S3's 5 MiB minimum
		{"one part", []int{123}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var parts, etags []string
			var whole []byte
			for i, n := range c.sizes {
				d := randBytes(uint64(200+i), n)
				k := fmt.Sprintf("mpu/part%d", i)
				put(t, b, k, d, ObjectMeta{})
				parts, etags, whole = append(parts, k), append(etags, md5hex(d)), append(whole, d...)
			}
			wantETag, err := MultipartETag(etags)
			if err != nil {
				t.Fatal(err)
			}
			meta := ObjectMeta{ContentType: "application/zip", UserMeta: map[string]string{"built": "compose"}}
			info, err := Compose(tctx(t), b, "final.zip", parts, meta)
			if err != nil {
				t.Fatal(err)
			}
			if info.Size != int64(len(whole)) || info.ETag != wantETag {
				t.Errorf("Compose: size %d etag %q, want %d %q", info.Size, info.ETag, len(whole), wantETag)
			}
			got, ginfo := get(t, b, "final.zip", nil)
			if !bytes.Equal(got, whole) {
				t.Fatalf("composed content differs (%d bytes, want %d)", len(got), len(whole))
			}
			if ginfo.ETag != wantETag || ginfo.ContentType != "application/zip" || ginfo.UserMeta["built"] != "compose" {
				t.Errorf("Get composed: %+v", ginfo)
			}
			if l, _ := b.List(tctx(t), "final", "", 0); len(l) != 1 || l[0].Size != int64(len(whole)) {
				t.Errorf("List composed: %+v", l)
			}
			for _, p := range parts {
				if _, err := b.Head(tctx(t), p); err != nil {
					t.Errorf("part %q gone: %v", p, err)
				}
			}
		})
	}
	if _, err := Compose(tctx(t), b, "x", []string{"mpu/part0", "missing"}, ObjectMeta{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("compose with a missing part: %v", err)
	}
}

// leftoverChecker is implemented (in tests) by backends that can tell
// whether a failed upload left something behind (temp files, uploads).
type leftoverChecker interface {
	leftovers(t *testing.T) []string
}

func checkNoLeftovers(t *testing.T, b Backend) {
	t.Helper()
	if lc, ok := b.(leftoverChecker); ok {
		if l := lc.leftovers(t); len(l) > 0 {
			t.Errorf("failed puts left: %q", l)
		}
	}
}

func checkAbsent(t *testing.T, b Backend, key string) {
	t.Helper()
	if info, err := b.Head(tctx(t), key); !errors.Is(err, ErrNotFound) {
		t.Errorf("Head %q after a failed put: %+v %v, want ErrNotFound", key, info, err)
	}
	l, err := b.List(tctx(t), "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(keysOf(l), key) {
		t.Errorf("List shows %q after a failed put", key)
	}
}

func testSizeMismatch(t *testing.T, b Backend) {
	ctx := tctx(t)
	for _, c := range []struct {
		declared int64
		actual   int
	}{{100, 50}, {100, 150}, {0, 1}, {20 << 20, 20<<20 - 1}, {20 << 20, 20<<20 + 1}} {
		key := fmt.Sprintf("mismatch-%d-%d", c.declared, c.actual)
		_, err := b.Put(ctx, key, &genReader{size: int64(c.actual)}, c.declared, ObjectMeta{})
		if !errors.Is(err, ErrSizeMismatch) {
			t.Errorf("declared %d, gave %d: %v, want ErrSizeMismatch", c.declared, c.actual, err)
		}
		checkAbsent(t, b, key)
	}
	checkNoLeftovers(t, b)
}

var errBoom = errors.New("client went away")

func testInterruptedPut(t *testing.T, b Backend) {
	const size = 20 << 20 // more than one part or block
	old := []byte("the previous version")
	for _, known := range []bool{true, false} {
		declared := int64(size)
		if !known {
			declared = -1
		}
		for _, how := range []string{"reader error", "context cancelled"} {
			for _, overwrite := range []bool{false, true} {
				name := fmt.Sprintf("%s/known=%v/overwrite=%v", how, known, overwrite)
				key := strings.NewReplacer(" ", "-", "=", "-").Replace(name)
				if overwrite {
					put(t, b, key, old, ObjectMeta{})
				}
				ctx, cancel := context.WithCancel(tctx(t))
				r := &genReader{size: size, hook: func(off int64) error {
					if off >= size/2 {
						if how == "reader error" {
							return errBoom
						}
						cancel()
					}
					return nil
				}}
				_, err := b.Put(ctx, key, r, declared, ObjectMeta{ContentType: "x/y"})
				cancel()
				want := errBoom
				if how != "reader error" {
					want = context.Canceled
				}
				if !errors.Is(err, want) {
					t.Errorf("%s: Put returned %v, want %v", name, err, want)
				}
				if overwrite {
					if got, _ := get(t, b, key, nil); !bytes.Equal(got, old) {
						t.Errorf("%s: previous version damaged (%d bytes)", name, len(got))
					}
					if err := b.Delete(tctx(t), key); err != nil {
						t.Fatal(err)
					}
				} else {
					checkAbsent(t, b, key)
				}
			}
		}
	}
	// Failing before the first byte, and a context cancelled before the Put.
	for _, declared := range []int64{size, -1} {
		key := fmt.Sprintf("fail-at-start-%d", declared)
		r := &genReader{size: size, hook: func(int64) error { return errBoom }}
		if _, err := b.Put(tctx(t), key, r, declared, ObjectMeta{}); !errors.Is(err, errBoom) {
			t.Errorf("reader failing at once (size %d): %v", declared, err)
		}
		checkAbsent(t, b, key)
		ctx, cancel := context.WithCancel(tctx(t))
		cancel()
		if _, err := b.Put(ctx, key, &genReader{size: 10}, 10, ObjectMeta{}); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled context: %v", err)
		}
		checkAbsent(t, b, key)
	}
	checkNoLeftovers(t, b)
}

func testConcurrent(t *testing.T, b Backend) {
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Go(func() {
			// Everyone writes the same key and a key of its own.
			d := randBytes(uint64(300+i), 100_000+i)
			for _, k := range []string{"shared", fmt.Sprintf("own/%d", i)} {
				if _, err := b.Put(tctx(t), k, bytes.NewReader(d), int64(len(d)), ObjectMeta{}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// The shared key holds exactly one writer's whole content.
	got, info := get(t, b, "shared", nil)
	i := len(got) - 100_000
	if i < 0 || i >= n || !bytes.Equal(got, randBytes(uint64(300+i), 100_000+i)) || info.ETag != md5hex(got) {
		t.Errorf("shared key holds a mix: %d bytes, etag %s", len(got), info.ETag)
	}
	if l, err := b.List(tctx(t), "own/", "", 0); err != nil || len(l) != n {
		t.Errorf("List own/: %d entries, %v", len(l), err)
	}
}

// genReader produces size deterministic pseudo-random bytes without holding
// them; hook (if set) runs before each read with the offset and may fail it.
type genReader struct {
	size, off int64
	hook      func(off int64) error
}

const genBlockLen = 1 << 20

var genBlock = randBytes(42, genBlockLen+4096)

func (g *genReader) Read(p []byte) (int, error) {
	if g.hook != nil {
		if err := g.hook(g.off); err != nil {
			return 0, err
		}
	}
	if g.off >= g.size {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && g.off < g.size {
		in := g.off % genBlockLen
		shift := (g.off / genBlockLen * 7919) % 4096
		k := min(int64(len(p)-n), genBlockLen-in, g.size-g.off)
		copy(p[n:], genBlock[shift+in:shift+in+k])
		n += int(k)
		g.off += k
	}
	return n, nil
}

func genMD5(size int64) string {
	h := md5.New()
	io.Copy(h, &genReader{size: size})
	return hex.EncodeToString(h.Sum(nil))
}

// heapGrowth runs f while sampling the heap; it returns the peak HeapInuse
// above the starting point, and the bytes allocated meanwhile. The GC is
// made eager meanwhile so that the peak tracks live memory.
func heapGrowth(f func()) (peak, allocated uint64) {
	old := debug.SetGCPercent(10)
	defer debug.SetGCPercent(old)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, alloc0 := ms.HeapInuse, ms.TotalAlloc
	var mu sync.Mutex
	top := base
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		var s runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				runtime.ReadMemStats(&s)
				mu.Lock()
				top = max(top, s.HeapInuse)
				mu.Unlock()
			}
		}
	}()
	f()
	close(stop)
	<-done
	runtime.ReadMemStats(&ms)
	top = max(top, ms.HeapInuse)
	return top - base, ms.TotalAlloc - alloc0
}

const (
	largeSize      = 64 << 20
	maxHeapGrowth  = 32 << 20
	heapReportUnit = 1 << 20
)

func testLarge(t *testing.T, b Backend) {
	want := genMD5(largeSize)
	for _, declared := range []int64{largeSize, -1} {
		key := fmt.Sprintf("large/size%d", declared)
		var info ObjectInfo
		var err error
		start := time.Now()
		peak, alloc := heapGrowth(func() {
			info, err = b.Put(tctx(t), key, &genReader{size: largeSize}, declared, ObjectMeta{ContentType: "application/octet-stream"})
		})
		elapsed := time.Since(start)
		if err != nil {
			t.Fatalf("Put 64 MiB (size %d): %v", declared, err)
		}
		t.Logf("Put 64 MiB, size %d: %v, heap growth peak %.1f MiB, allocated %.1f MiB",
			declared, elapsed.Round(time.Millisecond), float64(peak)/heapReportUnit, float64(alloc)/heapReportUnit)
		if peak > maxHeapGrowth {
			t.Errorf("Put of 64 MiB grew the heap by %.1f MiB (limit %d MiB): not streaming", float64(peak)/heapReportUnit, maxHeapGrowth>>20)
		}
		if info.Size != largeSize || info.ETag != want {
			t.Errorf("Put info: size %d etag %q, want %d %q", info.Size, info.ETag, largeSize, want)
		}
		if h, err := b.Head(tctx(t), key); err != nil || h.Size != largeSize || h.ETag != want {
			t.Errorf("Head: %+v %v, want etag %s", h, err, want)
		}
		var got string
		start = time.Now()
		peak, alloc = heapGrowth(func() {
			rc, _, err := b.Get(tctx(t), key, nil)
			if err != nil {
				t.Errorf("Get: %v", err)
				return
			}
			defer rc.Close()
			h := md5.New()
			if _, err := io.Copy(h, rc); err != nil {
				t.Errorf("reading: %v", err)
			}
			got = hex.EncodeToString(h.Sum(nil))
		})
		t.Logf("Get 64 MiB: %v, heap growth peak %.1f MiB, allocated %.1f MiB",
			time.Since(start).Round(time.Millisecond), float64(peak)/heapReportUnit, float64(alloc)/heapReportUnit)
		if got != want {
			t.Errorf("Get returned content with MD5 %s, want %s", got, want)
		}
		if peak > maxHeapGrowth {
			t.Errorf("Get of 64 MiB grew the heap by %.1f MiB: not streaming", float64(peak)/heapReportUnit)
		}
		// A range at the far end.
		data, _ := get(t, b, key, &Range{largeSize - 100, largeSize + 100})
		g := &genReader{size: largeSize, off: largeSize - 100}
		wantTail, _ := io.ReadAll(g)
		if !bytes.Equal(data, wantTail) {
			t.Errorf("tail range of the large object differs")
		}
		if err := b.Delete(tctx(t), key); err != nil {
			t.Fatal(err)
		}
	}
	checkNoLeftovers(t, b)
}
