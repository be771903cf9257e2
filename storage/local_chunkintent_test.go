package storage

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLocalChunksOfCrashedCompose: chunks a crash left linked for an object
// that was never committed are freed when the backend is opened again,
// while the chunks of an object committed just before a crash (its intent
// still on disk) are kept and the object still reads whole.
func TestLocalChunksOfCrashedCompose(t *testing.T) {
	root := t.TempDir()
	l, err := NewLocal(LocalConfig{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	ctx := tctx(t)
	a, b := randBytes(71, 6<<20), randBytes(72, 1000)
	put(t, l, "up/p1", a, ObjectMeta{})
	put(t, l, "up/p2", b, ObjectMeta{})

	// Committed, then "crashed" before the intent was removed.
	if _, err := l.Compose(ctx, "done", []string{"up/p1", "up/p2"}, ObjectMeta{}); err != nil {
		t.Fatal(err)
	}
	donePath, _ := l.path("done")
	f, err := os.Open(donePath)
	if err != nil {
		t.Fatal(err)
	}
	tr, _, err := readLocalTrailer(f)
	f.Close()
	if err != nil || len(tr.Chunks) != 2 {
		t.Fatalf("trailer of the composed object: %+v %v", tr, err)
	}
	committed, err := l.beginChunks(donePath, []string{tr.Chunks[0].Name, tr.Chunks[1].Name})
	if err != nil {
		t.Fatal(err)
	}
	committed.f.Close() // the process died: the lock goes, the file stays

	// Linked, never committed.
	names := crashBeforeCommit(t, l)
	if n := chunkFiles(t, l); n != 4 {
		t.Fatalf("%d chunk files before the restart, want 4", n)
	}

	l2, err := NewLocal(LocalConfig{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(l2.chunkDir)
	left := map[string]bool{}
	for _, e := range ents {
		left[e.Name()] = true
	}
	for _, n := range names {
		if left[n] {
			t.Errorf("chunk %s of the uncommitted object is still in chunks/", n)
		}
	}
	for _, c := range tr.Chunks {
		if !left[c.Name] {
			t.Errorf("chunk %s of the committed object was removed", c.Name)
		}
	}
	tmps, _ := os.ReadDir(l2.tmpDir)
	for _, e := range tmps {
		if strings.HasSuffix(e.Name(), ".intent") {
			t.Errorf("intent %s left after the restart", filepath.Join(l2.tmpDir, e.Name()))
		}
	}
	got, _ := get(t, l2, "done", nil)
	if !bytes.Equal(got, append(append([]byte(nil), a...), b...)) {
		t.Fatalf("committed composed object reads %d bytes, want %d", len(got), len(a)+len(b))
	}
}

// crashBeforeCommit links chunks of up/p1 and up/p2 for an object "lost"
// and "crashes" before committing it; it returns the chunk names.
func crashBeforeCommit(t *testing.T, l *Local) []string {
	lostPath, _ := l.path("lost")
	names, err := newChunkNames(2)
	if err != nil {
		t.Fatal(err)
	}
	lost, err := l.beginChunks(lostPath, names)
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range []string{"up/p1", "up/p2"} {
		if _, _, err := l.linkPart(k, names[i]); err != nil {
			t.Fatal(err)
		}
	}
	lost.f.Close()
	return names
}
