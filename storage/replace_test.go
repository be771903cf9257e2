package storage

import (
	"bytes"
	"errors"
	"testing"
)

// testReplace checks a Replacer: each Put reports exactly the object it
// replaced (none for a new key), small and empty bodies included (where a
// Head racing with the write could see the new object instead), and a
// failed Put keeps the old object.
func testReplace(t *testing.T, b Backend) {
	r, ok := b.(Replacer)
	if !ok {
		t.Skip("backend does not report what a Put replaced")
	}
	ctx := tctx(t)
	prev := Replaced{}
	for i, n := range []int{0, 1, 3000, 0, 7, 1 << 20, 2, 0} {
		d := randBytes(uint64(300+i), n)
		info, old, err := r.PutReplace(ctx, "rep/k", bytes.NewReader(d), int64(n), ObjectMeta{})
		if err != nil {
			t.Fatal(err)
		}
		if old != prev {
			t.Fatalf("put %d (%d bytes): replaced %+v, want %+v", i, n, old, prev)
		}
		if info.Size != int64(n) || info.ETag != md5hex(d) {
			t.Fatalf("put %d: %+v", i, info)
		}
		prev = Replaced{Existed: true, Size: int64(n)}
	}
	if _, _, err := r.PutReplace(ctx, "rep/k", bytes.NewReader(make([]byte, 10)), 20, ObjectMeta{}); !errors.Is(err, ErrSizeMismatch) {
		t.Fatalf("short body: %v", err)
	}
	if info, err := b.Head(ctx, "rep/k"); err != nil || info.Size != 0 {
		t.Fatalf("after a failed replace: %+v %v, want the old empty object", info, err)
	}
}
