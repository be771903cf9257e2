package bridge

import (
	"strings"
	"testing"

	"github.com/flashback-network/flashback/storage"
)

// TestKeyEncoding: the stored form of a key has no "." or ".." segment,
// decodes back to the key, and distinct keys stay distinct (checked over
// every key of up to 4 characters from an alphabet of dots, tildes,
// slashes and a letter).
func TestKeyEncoding(t *testing.T) {
	for k, want := range map[string]string{
		"a/../b": "a/..~/b", ".": ".~", "..~": "..~~", "a/./b/": "a/.~/b/", "...": "...~", "a.b/.c": "a.b/.c", "~": "~",
	} {
		if got := encodeKey(k); got != want {
			t.Errorf("encodeKey(%q) = %q, want %q", k, got, want)
		}
	}
	seen := map[string]string{}
	var walk func(k string)
	walk = func(k string) {
		if k != "" {
			enc := encodeKey(k)
			if dec := decodeKey(enc); dec != k {
				t.Fatalf("decodeKey(encodeKey(%q)) = %q", k, dec)
			}
			if other, dup := seen[enc]; dup {
				t.Fatalf("%q and %q both stored as %q", k, other, enc)
			}
			seen[enc] = k
			for _, seg := range strings.Split(enc, "/") {
				if seg == "." || seg == ".." {
					t.Fatalf("stored form %q of %q has a dot segment", enc, k)
				}
			}
		}
		if len(k) == 4 {
			return
		}
		for _, c := range []string{".", "~", "/", "a"} {
			walk(k + c)
		}
	}
	walk("")
}

// TestPartSizesEncoding: part sizes survive the run-length encoding kept
// in an object's metadata, and a list that does not add up is ignored.
func TestPartSizesEncoding(t *testing.T) {
	sizes := []int64{5 << 20, 5 << 20, 5 << 20, 6 << 20, 6 << 20, 1234}
	var total int64
	for _, s := range sizes {
		total += s
	}
	meta := withPartSizes(map[string]string{"k": "v"}, sizes)
	if meta[partSizesKey] != "5242880*3,6291456*2,1234*1" || meta["k"] != "v" {
		t.Fatalf("encoded %q", meta)
	}
	got := partSizes(storage.ObjectInfo{Size: total, UserMeta: meta})
	if len(got) != len(sizes) {
		t.Fatalf("decoded %v", got)
	}
	for i := range sizes {
		if got[i] != sizes[i] {
			t.Fatalf("decoded %v, want %v", got, sizes)
		}
	}
	if partSizes(storage.ObjectInfo{Size: total + 1, UserMeta: meta}) != nil {
		t.Fatal("a parts list that does not add up to the size was used")
	}
	for _, bad := range []string{"x", "5*0", "-1*2", "5*10001", "5*", "*3"} {
		if partSizes(storage.ObjectInfo{Size: 15, UserMeta: map[string]string{partSizesKey: bad}}) != nil {
			t.Errorf("bad parts list %q accepted", bad)
		}
	}
}
