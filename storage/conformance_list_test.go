package storage

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

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
	if q, ok := innerOf(b).(quirker); ok {
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
