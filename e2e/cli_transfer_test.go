package e2e

import (
	"bytes"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestCLITransferTrees drives `cp -r` and `sync` through the binary with a
// tree of 500 files: a recursive copy up and back down, then local
// deletions, same-size edits and additions that sync --delete carries over
// (and a second sync that finds nothing to do), in both directions.
func TestCLITransferTrees(t *testing.T) {
	s := startConsumerScenario(t)
	s.store()
	src := filepath.Join(t.TempDir(), "tree")
	files := writeTree(t, src, 500)

	var up treeResult
	mustJSON(t, s.fb("cp", "-r", src, s.url("tree/"), "-o", "json"), &up)
	if up.Uploaded != 500 || up.Deleted != 0 || len(up.Failed) != 0 {
		t.Fatalf("cp -r up: %+v", up.counts())
	}
	if got := s.ls(s.url("tree/")); len(got) != 500 {
		t.Fatalf("ls after cp -r: %d objects", len(got))
	}
	down := filepath.Join(t.TempDir(), "down")
	var dn treeResult
	mustJSON(t, s.fb("cp", "-r", s.url("tree/"), down, "-o", "json"), &dn)
	if dn.Downloaded != 500 {
		t.Fatalf("cp -r down: %+v", dn.counts())
	}
	sameTree(t, src, down)

	rels := editTree(t, src, files)
	var sy treeResult
	mustJSON(t, s.fb("sync", src, s.url("tree/"), "--delete", "-o", "json"), &sy)
	if sy.Uploaded != 15 || sy.Deleted != 50 || sy.Unchanged != 440 || len(sy.Failed) != 0 {
		t.Fatalf("sync --delete up: %+v", sy.counts())
	}
	if got := s.ls(s.url("tree/")); len(got) != 455 {
		t.Fatalf("ls after sync --delete: %d objects", len(got))
	}
	mustJSON(t, s.fb("sync", src, s.url("tree/"), "--delete", "-o", "json"), &sy)
	if sy.Uploaded != 0 || sy.Deleted != 0 || sy.Unchanged != 455 || len(sy.Transfers) != 0 {
		t.Fatalf("second sync up: %+v", sy.counts())
	}
	// Without --delete nothing is removed; the text output says what it did.
	if txt := s.fb("sync", src, s.url("tree/")); !strings.Contains(txt, "uploaded 0, downloaded 0, deleted 0") || !strings.Contains(txt, "455 unchanged") {
		t.Fatalf("sync text:\n%s", txt)
	}

	// Down: the old copy gets the 15 changes and loses the 50.
	mustJSON(t, s.fb("sync", s.url("tree/"), down, "--delete", "-o", "json"), &sy)
	if sy.Downloaded != 15 || sy.Deleted != 50 || sy.Unchanged != 440 {
		t.Fatalf("sync --delete down: %+v", sy.counts())
	}
	sameTree(t, src, down)
	mustJSON(t, s.fb("sync", s.url("tree/"), down, "--delete", "-o", "json"), &sy)
	if sy.Downloaded != 0 || sy.Deleted != 0 || sy.Unchanged != 455 {
		t.Fatalf("second sync down: %+v", sy.counts())
	}
	// --dry-run plans without doing.
	if err := os.Remove(filepath.Join(src, rels[100])); err != nil {
		t.Fatal(err)
	}
	mustJSON(t, s.fb("sync", src, s.url("tree/"), "--delete", "--dry-run", "-o", "json"), &sy)
	if sy.Deleted != 1 || !sy.DryRun {
		t.Fatalf("dry run: %+v", sy.counts())
	}
	if got := s.ls(s.url("tree/")); len(got) != 455 {
		t.Fatalf("ls after a dry run: %d objects", len(got))
	}
	s.treeErrors(src)
	s.failedSyncDeletesNothing()
}

// failedSyncDeletesNothing: when an upload of a sync --delete fails (here:
// a key in the bridge's hidden .fb-meta/ area, which it refuses), nothing
// is deleted, though every other object is missing from the source.
func (s *consumerScenario) failedSyncDeletesNothing() {
	t := s.t
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, ".fb-meta"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"keep.txt", ".fb-meta/x"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before := len(s.ls(s.url("")))
	out, err := s.fbErr("sync", dir, "fb://"+s.res+"/", "--delete")
	if err == nil || !strings.Contains(out, ".fb-meta/x") || !strings.Contains(out, "deletions skipped: transfers failed") {
		t.Fatalf("sync --delete with a failing upload: %v\n%s", err, out)
	}
	if got := s.ls(s.url("")); len(got) != before+1 || got["keep.txt"] == 0 {
		t.Fatalf("after the failed sync: %d objects, %d before", len(got), before)
	}
}

// treeErrors: bad arguments are refused with a clear line, nothing sent.
func (s *consumerScenario) treeErrors(dir string) {
	file := filepath.Join(dir, "new", "n0.txt")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"cp", dir, s.url("x/")}, "is a directory: copy it with cp -r"},
		{[]string{"cp", "-r", file, s.url("x/")}, "not a directory"},
		{[]string{"cp", "-r", s.url("tree/"), file}, "is a file"},
		{[]string{"sync", dir, dir + "-copy"}, "needs a local directory and an fb://"},
		{[]string{"sync", s.url("tree/"), s.url("other/")}, "needs a local directory and an fb://"},
		{[]string{"cp", file, s.url("x"), "--part-size", "100"}, "at least 5 MiB"},
		{[]string{"sync", dir, s.url("x/"), "--bwlimit", "fast"}, "bwlimit"},
	} {
		if out, err := s.fbErr(c.args...); err == nil || !strings.Contains(out, c.want) {
			s.t.Fatalf("%v: %v\n%s", c.args, err, out)
		}
	}
	if got := s.ls(s.url("x/")); len(got) != 0 {
		s.t.Fatalf("refused commands stored %v", got)
	}
}

// editTree deletes 50 of the files under src, rewrites 10 with the same
// size (only the checksum tells) and adds 5; it returns the original
// relative paths, sorted.
func editTree(t *testing.T, src string, files map[string][]byte) []string {
	t.Helper()
	rels := sortedRels(files)
	for _, rel := range rels[:50] {
		if err := os.Remove(filepath.Join(src, rel)); err != nil {
			t.Fatal(err)
		}
	}
	for _, rel := range rels[50:60] {
		p := filepath.Join(src, rel)
		b, _ := os.ReadFile(p)
		for i := range b {
			b[i] ^= 0x5a
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(src, "new"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := os.WriteFile(filepath.Join(src, fmt.Sprintf("new/n%d.txt", i)), []byte(fmt.Sprintf("new %d\n", i)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return rels
}

type treeResult struct {
	Transfers []struct {
		URL    string `json:"url"`
		Action string `json:"action"`
	} `json:"transfers"`
	Uploaded   int      `json:"uploaded"`
	Downloaded int      `json:"downloaded"`
	Deleted    int      `json:"deleted"`
	Unchanged  int      `json:"unchanged"`
	Failed     []string `json:"failed"`
	DryRun     bool     `json:"dry_run"`
}

func (r treeResult) counts() string {
	return fmt.Sprintf("up %d down %d del %d same %d failed %v transfers %d", r.Uploaded, r.Downloaded, r.Deleted, r.Unchanged, r.Failed, len(r.Transfers))
}

// writeTree writes n files of random content (0 to 3 KiB) in nested
// directories under dir and returns their relative paths and contents.
func writeTree(t *testing.T, dir string, n int) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	for i := range n {
		rel := fmt.Sprintf("d%d/s%d/f%03d.bin", i%7, i%3, i)
		b := make([]byte, mrand.IntN(3<<10)+1)
		_, _ = rand.Read(b)
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		files[filepath.FromSlash(rel)] = b
	}
	return files
}

func sortedRels(m map[string][]byte) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// sameTree fails unless a and b hold the same files with the same bytes.
func sameTree(t *testing.T, a, b string) {
	t.Helper()
	read := func(dir string) map[string][]byte {
		m := map[string][]byte{}
		err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			m[rel], err = os.ReadFile(p)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	ma, mb := read(a), read(b)
	if len(ma) != len(mb) {
		t.Fatalf("%s has %d files, %s %d", a, len(ma), b, len(mb))
	}
	for rel, x := range ma {
		if !bytes.Equal(x, mb[rel]) {
			t.Fatalf("%s differs between %s and %s", rel, a, b)
		}
	}
}
