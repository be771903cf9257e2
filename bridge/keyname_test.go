package bridge

import (
	"strings"
	"testing"
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
