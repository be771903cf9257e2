package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

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
