package storage

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Keys longer than the service's names (S3, GCS and Azure cap them at 1,024
// bytes, the backend's prefix included) work like any other, for every
// operation; the suite's backends use the prefix "unit1/", so 1,018 bytes
// is the longest name stored as itself there.
func runLongKeys(t *testing.T, newBackend func(t *testing.T) Backend) {
	t.Run("LongKeys", func(t *testing.T) { testLongKeys(t, newBackend(t)) })
	t.Run("LongKeysCopy", func(t *testing.T) { testLongKeysCopy(t, newBackend(t)) })
	t.Run("LongKeysList", func(t *testing.T) { testLongKeysList(t, newBackend(t)) })
	t.Run("LongKeysCompose", func(t *testing.T) { testLongKeysCompose(t, newBackend(t)) })
	t.Run("LongKeysUploads", func(t *testing.T) { testLongKeysUploads(t, newBackend(t)) })
	t.Run("LongKeysReplace", func(t *testing.T) { testLongKeysReplace(t, newBackend(t)) })
}

// keyOfLen is a key of exactly n bytes starting with prefix, made of
// segments short enough for MinIO (255 bytes); keyOfLen(p, n) is a prefix
// of keyOfLen(p, m) for n < m (up to its last byte).
func keyOfLen(prefix string, n int) string {
	var sb strings.Builder
	sb.WriteString(prefix)
	for i := 0; sb.Len() < n; i++ {
		fmt.Fprintf(&sb, "s%02d%s/", i%100, strings.Repeat("x", 60))
	}
	k := sb.String()[:n]
	if strings.HasSuffix(k, "/") {
		k = k[:n-1] + "z"
	}
	return k
}

// wideKey is a key of about n bytes of 3-byte runes (so a cut at a byte
// count may fall inside one), ending with tail.
func wideKey(prefix string, n int, tail string) string {
	var sb strings.Builder
	sb.WriteString(prefix)
	for sb.Len()+len(tail) < n {
		sb.WriteString(strings.Repeat("文", 20) + "/")
	}
	return sb.String() + tail
}

// checkStoredNames: every name the wrapper gave its backend fits the
// service (on a backend that is not wrapped, every key is its name).
func checkStoredNames(t *testing.T, b Backend) {
	t.Helper()
	limit := serviceMaxKeyLen - len("unit1/")
	if w, ok := b.(interface{ nameLimit() int }); ok {
		limit = w.nameLimit()
	} else if _, local := b.(*Local); local {
		return // the local backend takes every key as itself
	}
	l, err := innerOf(b).List(tctx(t), "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range l {
		if len(o.Key) > limit {
			t.Errorf("a %d-byte name was stored (the service takes %d)", len(o.Key), limit)
		}
	}
}

func longTestKeys() []string {
	return []string{
		keyOfLen("lk/", 1018), keyOfLen("lk/", 1019), keyOfLen("r42/", 4+MaxKeyLen), keyOfLen("lk/", MaxStoredKeyLen),
		wideKey("lk/w/", 1100, "end.txt"), wideKey("lk/w/", 1100, "é"),
	}
}

func testLongKeys(t *testing.T, b Backend) {
	ctx := tctx(t)
	meta := ObjectMeta{ContentType: "text/csv", UserMeta: map[string]string{"Origin": "sensor"}}
	keys := longTestKeys()
	for i, k := range keys {
		data := randBytes(uint64(700+i), 3000+i)
		checkInfo(t, fmt.Sprintf("Put %d-byte key", len(k)), put(t, b, k, data, meta), k, data, meta)
		got, info := get(t, b, k, nil)
		if !bytes.Equal(got, data) {
			t.Errorf("%d-byte key: content differs", len(k))
		}
		checkInfo(t, "Get", info, k, data, meta)
		got, info = get(t, b, k, &Range{Start: 100, End: 199})
		if !bytes.Equal(got, data[100:200]) || info.Size != int64(len(data)) || info.Key != k {
			t.Errorf("%d-byte key: range 100-199: %d bytes, %+v", len(k), len(got), info)
		}
		hinfo, err := b.Head(ctx, k)
		if err != nil {
			t.Fatalf("Head %d-byte key: %v", len(k), err)
		}
		checkInfo(t, "Head", hinfo, k, data, meta)
		if _, _, err := b.Get(ctx, k, &Range{Start: int64(len(data)), End: int64(len(data)) + 5}); !errors.Is(err, ErrInvalidRange) {
			t.Errorf("%d-byte key: range past the end: %v", len(k), err)
		}
	}
	checkStoredNames(t, b)
	if l, err := b.List(ctx, "", "", 0); err != nil || len(l) != len(keys) {
		t.Errorf("List all: %d entries, %v; want %d", len(l), err, len(keys))
	}
	for _, k := range keys {
		if err := b.Delete(ctx, k); err != nil {
			t.Fatalf("Delete %d-byte key: %v", len(k), err)
		}
		if _, err := b.Head(ctx, k); !errors.Is(err, ErrNotFound) {
			t.Errorf("Head %d-byte key after Delete: %v", len(k), err)
		}
		if err := b.Delete(ctx, k); err != nil {
			t.Errorf("deleting a missing %d-byte key: %v", len(k), err)
		}
	}
	if l, _ := innerOf(b).List(ctx, "", "", 0); len(l) != 0 {
		t.Errorf("left in the backend after deleting every key: %d names", len(l))
	}
	if innerOf(b) == b {
		return
	}
	// The wrapper's own name space and metadata entry are not the
	// client's to use.
	if _, err := b.Put(ctx, longKeyDir+"x", strings.NewReader("x"), 1, ObjectMeta{}); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("Put under %s: %v, want ErrInvalidKey", longKeyDir, err)
	}
	forged := ObjectMeta{UserMeta: map[string]string{"Flashback-Long-Key": "Zm9yZ2Vk", "a": "b"}}
	for _, k := range []string{"short/forged", keys[1]} {
		put(t, b, k, []byte("f"), forged)
		if _, info := get(t, b, k, nil); info.Key != k || len(info.UserMeta) != 1 || info.UserMeta["a"] != "b" {
			t.Errorf("Get %d-byte key written with a forged %s: %+v", len(k), metaLongKey, info)
		}
	}
	if l, _ := b.List(ctx, "", "", 0); !slices.Equal(keysOf(l), []string{keys[1], "short/forged"}) {
		t.Errorf("List after forged metadata: %d entries", len(l))
	}
}

func testLongKeysCopy(t *testing.T, b Backend) {
	long1, long2, short := keyOfLen("cp/", 1100), wideKey("cp/", 1200, "dst"), "cp/short"
	meta := ObjectMeta{ContentType: "image/png", UserMeta: map[string]string{"k": "v"}}
	data := randBytes(800, 5000)
	put(t, b, long1, data, meta)
	for _, c := range []struct{ what, src, dst string }{
		{"long to long", long1, long2},
		{"long to short", long1, short},
		{"short to long", short, keyOfLen("cp/z", MaxStoredKeyLen)},
		{"long onto itself", long2, long2},
	} {
		info, err := b.Copy(tctx(t), c.src, c.dst)
		if err != nil {
			t.Fatalf("Copy %s: %v", c.what, err)
		}
		checkInfo(t, "Copy "+c.what, info, c.dst, data, meta)
		got, ginfo := get(t, b, c.dst, nil)
		if !bytes.Equal(got, data) {
			t.Errorf("Copy %s: content differs", c.what)
		}
		checkInfo(t, "Get copy "+c.what, ginfo, c.dst, data, meta)
	}
	want := []string{long1, keyOfLen("cp/z", MaxStoredKeyLen), long2, short}
	slices.Sort(want)
	if l, err := b.List(tctx(t), "cp/", "", 0); err != nil || !slices.Equal(keysOf(l), want) {
		t.Errorf("List after copies: %d keys %v, want %d", len(l), err, len(want))
	}
	checkStoredNames(t, b)
	if _, err := b.Copy(tctx(t), keyOfLen("cp/missing", 1100), short); !errors.Is(err, ErrNotFound) {
		t.Errorf("Copy from a missing long key: %v", err)
	}
}

func testLongKeysList(t *testing.T, b Backend) {
	b1 := keyOfLen("lst/", 1100) // a head all long keys under it share
	all := []string{
		"lst/a", "lst/z", keyOfLen("lst/", 1018), b1[:900], b1[:1000] + "zz", b1[:1050],
		b1 + "/a", b1 + "/b", b1 + "0", b1 + "é", b1 + "/a/deeper",
		keyOfLen("lst/b", 1030), keyOfLen("lst/m", 1200), keyOfLen("lst/", MaxStoredKeyLen),
		wideKey("lst/u/", 1100, "a"), wideKey("lst/u/", 1100, "文"), wideKey("lst/u/", 1000, "b"),
	}
	slices.Sort(all)
	data := map[string][]byte{}
	for i, k := range slices.Backward(all) {
		data[k] = randBytes(uint64(900+i), 10+i)
		put(t, b, k, data[k], ObjectMeta{})
	}
	checkStoredNames(t, b)
	list := func(prefix, after string, limit int) []string {
		t.Helper()
		l, err := b.List(tctx(t), prefix, after, limit)
		if err != nil {
			t.Fatalf("List(%d-byte prefix, %d-byte after, %d): %v", len(prefix), len(after), limit, err)
		}
		for _, o := range l {
			if o.Size != int64(len(data[o.Key])) || o.ETag != md5hex(data[o.Key]) || o.LastModified.IsZero() {
				t.Errorf("List entry (%d-byte key): size %d etag %q", len(o.Key), o.Size, o.ETag)
			}
		}
		return keysOf(l)
	}
	model := func(prefix, after string, limit int) []string {
		var out []string
		for _, k := range all {
			if strings.HasPrefix(k, prefix) && k > after && (limit <= 0 || len(out) < limit) {
				out = append(out, k)
			}
		}
		return out
	}
	prefixes := []string{"", "lst/", b1[:500], b1[:950], b1[:1040], b1, b1 + "/a", "lst/u/", wideKey("lst/u/", 1000, ""), "lst/m", ".f", "nope/"}
	afters := append([]string{"", "lst/", b1[:1060], b1 + "/", "lst/u/文", "zzz"}, all...)
	for _, p := range prefixes {
		for _, a := range afters {
			for _, limit := range []int{0, 1, 3} {
				if got, want := list(p, a, limit), model(p, a, limit); !slices.Equal(got, want) {
					t.Errorf("List(%d-byte prefix %.12q, %d-byte after %.12q, %d): %d keys, want %d (first differing at %d)",
						len(p), p, len(a), a, limit, len(got), len(want), firstDiff(got, want))
				}
			}
		}
	}
	for _, limit := range []int{1, 2, 5} {
		var got []string
		after := ""
		for range 2 * len(all) {
			page := list("", after, limit)
			got = append(got, page...)
			if len(page) < limit {
				break
			}
			after = page[len(page)-1]
		}
		if !slices.Equal(got, all) {
			t.Errorf("paging by %d: %d keys, want %d (first differing at %d)", limit, len(got), len(all), firstDiff(got, all))
		}
	}
	if innerOf(b) != b {
		if l := list(longKeyDir, "", 0); len(l) != 0 {
			t.Errorf("List(%q) = %d entries", longKeyDir, len(l))
		}
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func testLongKeysCompose(t *testing.T, b Backend) {
	const mib = 1 << 20
	base := keyOfLen("cmp/", 1100)
	for _, c := range []struct {
		name  string
		sizes []int
	}{
		{"big parts", []int{5 * mib, 1000}},
		{"small parts", []int{10, 2000}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var parts, etags []string
			var whole []byte
			for i, n := range c.sizes {
				d := randBytes(uint64(1000+i), n)
				k := fmt.Sprintf("%s/%s/part%d", base, c.name, i)
				put(t, b, k, d, ObjectMeta{})
				parts, etags, whole = append(parts, k), append(etags, md5hex(d)), append(whole, d...)
			}
			wantETag, _ := MultipartETag(etags)
			dst := wideKey("cmp/dst/", 1200, c.name)
			meta := ObjectMeta{ContentType: "application/zip", UserMeta: map[string]string{"built": "compose"}}
			info, err := Compose(tctx(t), b, dst, parts, meta)
			if err != nil {
				t.Fatal(err)
			}
			if info.Key != dst || info.Size != int64(len(whole)) || info.ETag != wantETag {
				t.Errorf("Compose: %d-byte key size %d etag %q, want %d %q", len(info.Key), info.Size, info.ETag, len(whole), wantETag)
			}
			got, ginfo := get(t, b, dst, nil)
			if !bytes.Equal(got, whole) || ginfo.ETag != wantETag || ginfo.ContentType != "application/zip" ||
				len(ginfo.UserMeta) != 1 || ginfo.UserMeta["built"] != "compose" {
				t.Errorf("Get composed: %d bytes, etag %q type %q meta %v", len(got), ginfo.ETag, ginfo.ContentType, ginfo.UserMeta)
			}
			if l, _ := b.List(tctx(t), dst, "", 0); len(l) != 1 || l[0].Key != dst || l[0].Size != int64(len(whole)) {
				t.Errorf("List composed: %d entries", len(l))
			}
			checkStoredNames(t, b)
		})
	}
}

func testLongKeysUploads(t *testing.T, b Backend) {
	u, ok := b.(Uploader)
	if !ok {
		t.Skip("backend has no native multipart uploads")
	}
	ctx := tctx(t)
	key, aborted := keyOfLen("mp/", MaxStoredKeyLen), wideKey("mp/", 1100, "aborted")
	id, err := u.CreateUpload(ctx, key, ObjectMeta{ContentType: "app/x", UserMeta: map[string]string{"K": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	p1, p2 := randBytes(11, 5<<20), randBytes(12, 777)
	var parts []UploadPart
	for i, d := range [][]byte{p1, p2} {
		p, err := u.PutUploadPart(ctx, key, id, i+1, bytes.NewReader(d), int64(len(d)))
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, p)
	}
	if listed, err := u.UploadParts(ctx, key, id); err != nil || len(listed) != 2 || listed[1].ETag != md5hex(p2) {
		t.Fatalf("UploadParts = %+v, %v", listed, err)
	}
	info, err := u.CompleteUpload(ctx, key, id, parts)
	want, _ := MultipartETag([]string{md5hex(p1), md5hex(p2)})
	if err != nil || info.Key != key || info.ETag != want {
		t.Fatalf("CompleteUpload: %d-byte key etag %q, %v; want %q", len(info.Key), info.ETag, err, want)
	}
	data, ginfo := get(t, b, key, nil)
	if !bytes.Equal(data, append(append([]byte{}, p1...), p2...)) || ginfo.ETag != want || ginfo.ContentType != "app/x" ||
		len(ginfo.UserMeta) != 1 || ginfo.UserMeta["k"] != "v" {
		t.Errorf("Get completed: %d bytes, etag %q type %q meta %v", len(data), ginfo.ETag, ginfo.ContentType, ginfo.UserMeta)
	}
	id2, err := u.CreateUpload(ctx, aborted, ObjectMeta{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.PutUploadPart(ctx, aborted, id2, 1, bytes.NewReader(p2), int64(len(p2))); err != nil {
		t.Fatal(err)
	}
	if err := u.AbortUpload(ctx, aborted, id2); err != nil {
		t.Fatal(err)
	}
	if _, err := u.UploadParts(ctx, aborted, id2); !errors.Is(err, ErrNotFound) {
		t.Errorf("UploadParts after abort: %v", err)
	}
	if l, err := b.List(ctx, "mp/", "", 0); err != nil || !slices.Equal(keysOf(l), []string{key}) {
		t.Errorf("List after the uploads: %d keys, %v", len(l), err)
	}
	checkStoredNames(t, b)
}

func testLongKeysReplace(t *testing.T, b Backend) {
	r, ok := b.(Replacer)
	if !ok {
		t.Skip("backend does not report what a Put replaced")
	}
	key := keyOfLen("rep/", 1030)
	prev := Replaced{}
	for i, n := range []int{7, 3000, 0} {
		d := randBytes(uint64(1100+i), n)
		info, old, err := r.PutReplace(tctx(t), key, bytes.NewReader(d), int64(n), ObjectMeta{})
		if err != nil {
			t.Fatal(err)
		}
		if old != prev || info.Key != key || info.ETag != md5hex(d) {
			t.Fatalf("put %d: replaced %+v (want %+v), %d-byte key etag %q", i, old, prev, len(info.Key), info.ETag)
		}
		prev = Replaced{Existed: true, Size: int64(n)}
	}
	checkStoredNames(t, b)
}
