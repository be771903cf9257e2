package storage

import (
	"bytes"
	"errors"
	"os"
	"runtime"
	"testing"
	"time"
)

func chunkFiles(t *testing.T, l *Local) int {
	t.Helper()
	ents, err := os.ReadDir(l.chunkDir)
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestLocalComposeInPlace: a composed object is served from its parts'
// data without a copy, survives the parts' deletion, and its chunks go
// away with it (overwrite, delete), including copies of it.
func TestLocalComposeInPlace(t *testing.T) {
	l, err := NewLocal(LocalConfig{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := tctx(t)
	sizes := []int{3 << 20, 0, 3 << 20, 1000}
	var parts []string
	var whole []byte
	for i, n := range sizes {
		d := randBytes(uint64(900+i), n)
		k := "up/p" + string(rune('0'+i))
		put(t, l, k, d, ObjectMeta{})
		parts, whole = append(parts, k), append(whole, d...)
	}
	if _, err := l.Compose(ctx, "obj", parts, ObjectMeta{ContentType: "x/y"}); err != nil {
		t.Fatal(err)
	}
	p, _ := l.path("obj")
	if st, err := os.Stat(p); err != nil || st.Size() > 64<<10 {
		t.Fatalf("composed object file: %v, %d bytes: the content was copied", err, st.Size())
	}
	if n := chunkFiles(t, l); n != 3 {
		t.Errorf("%d chunk files for 3 non-empty parts", n)
	}
	for _, k := range parts {
		if err := l.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := get(t, l, "obj", nil); !bytes.Equal(got, whole) {
		t.Fatalf("composed content differs after deleting the parts")
	}
	// A range across the empty part and two chunk boundaries.
	rng := &Range{Start: 3<<20 - 5, End: 6<<20 + 9}
	if got, _ := get(t, l, "obj", rng); !bytes.Equal(got, whole[rng.Start:rng.End+1]) {
		t.Fatalf("range of a composed object differs")
	}
	if _, err := l.Compose(ctx, "obj2", []string{"obj"}, ObjectMeta{}); err == nil {
		t.Fatalf("compose of a composed part succeeded")
	}
	if _, err := l.Copy(ctx, "obj", "copy"); err != nil {
		t.Fatal(err)
	}
	if err := l.Delete(ctx, "obj"); err != nil {
		t.Fatal(err)
	}
	if got, info := get(t, l, "copy", nil); !bytes.Equal(got, whole) || info.ContentType != "x/y" {
		t.Fatalf("copy of a composed object after deleting the source: %d bytes, %+v", len(got), info)
	}
	put(t, l, "copy", []byte("small"), ObjectMeta{}) // overwrite frees the copy's chunks
	for _, k := range []string{"copy"} {
		if err := l.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if n := chunkFiles(t, l); n != 0 {
		t.Errorf("%d chunk files left after every object is gone", n)
	}
	// The reaper empties the trash in the background.
	waitTrashEmpty(t, l)
	// A compose that fails leaves no chunk behind.
	put(t, l, "a", []byte("aaaa"), ObjectMeta{})
	if _, err := l.Compose(ctx, "bad", []string{"a", "missing"}, ObjectMeta{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("compose with a missing part: %v", err)
	}
	if n := chunkFiles(t, l); n != 0 {
		t.Errorf("failed compose left %d chunk files", n)
	}
}

// waitTrashEmpty waits (up to 10s) for the reaper to empty l's trash.
func waitTrashEmpty(t *testing.T, l *Local) {
	for deadline := time.Now().Add(10 * time.Second); ; {
		ents, err := os.ReadDir(l.trashDir)
		if err != nil {
			t.Fatal(err)
		}
		if len(ents) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d files still in the trash after 10s", len(ents))
		}
		runtime.Gosched()
	}
}

// TestLocalListFromAttr: List takes its metadata from the list attribute
// (the trailer is not read), and falls back to the trailer without one.
func TestLocalListFromAttr(t *testing.T) {
	l, err := NewLocal(LocalConfig{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	put(t, l, "k1", []byte("one"), ObjectMeta{ContentType: "a/b"})
	put(t, l, "k2", []byte("two"), ObjectMeta{})
	want, _ := l.Head(tctx(t), "k1")
	p1, _ := l.path("k1")
	if _, _, ok := getListAttr(p1, make([]byte, maxListAttr)); !ok {
		t.Skip("no user xattrs on this file system")
	}
	// Corrupt k1's trailer: a List that read it would fail.
	f, err := os.OpenFile(p1, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	f.WriteAt([]byte("XXXXXXXX"), st.Size()-8)
	f.Close()
	os.Chtimes(p1, want.LastModified, want.LastModified)
	// k2 loses its attribute: listed from the trailer.
	p2, _ := l.path("k2")
	if err := removeListAttr(p2); err != nil {
		t.Fatal(err)
	}
	got, err := l.List(tctx(t), "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Key != "k1" || got[0].ETag != want.ETag || got[0].Size != 3 ||
		!got[0].LastModified.Equal(want.LastModified) || got[1].ETag != md5hex([]byte("two")) {
		t.Fatalf("List = %+v, want k1 %+v and k2", got, want)
	}
}
