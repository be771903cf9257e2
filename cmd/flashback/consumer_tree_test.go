package main

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/flashback-network/flashback/client"
)

// Object keys that would land outside the download directory are refused.
func TestLocalPathForRefusesEscapes(t *testing.T) {
	dir := t.TempDir()
	for _, rel := range []string{"../x", "a/../../x", "..", "a//b", "./a", "/abs", "a/./b", ""} {
		if p, err := localPathFor(dir, rel); err == nil {
			t.Errorf("%q mapped to %s", rel, p)
		}
	}
	if p, err := localPathFor(dir, "a/b.txt"); err != nil || p != filepath.Join(dir, "a", "b.txt") {
		t.Errorf("a/b.txt: %s %v", p, err)
	}
}

// sameContent recognises a single-part ETag and a multipart one at the
// part size that gives its part count, and nothing else.
func TestSameContentETags(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	data := make([]byte, 12<<20+5)
	for i := range data {
		data[i] = byte(i * 7)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(data)
	opts := &xferOpts{partSize: 5 << 20}
	var parts []byte
	for off := 0; off < len(data); off += 5 << 20 {
		s := md5.Sum(data[off:min(off+5<<20, len(data))])
		parts = append(parts, s[:]...)
	}
	mp := md5.Sum(parts)
	for _, c := range []struct {
		etag string
		want bool
	}{
		{hex.EncodeToString(sum[:]), true},
		{hex.EncodeToString(mp[:]) + "-3", true},
		{hex.EncodeToString(mp[:]) + "-4", false},
		{"00000000000000000000000000000000", false},
		{"not-an-etag", false},
	} {
		got, err := sameContent(p, client.Object{Size: int64(len(data)), ETag: fmt.Sprintf("%q", c.etag)}, opts)
		if err != nil || got != c.want {
			t.Errorf("etag %s: %v %v, want %v", c.etag, got, err, c.want)
		}
	}
}
