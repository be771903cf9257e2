package storage

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

// runConformance is the one suite every backend passes, against a real
// server. newBackend returns a fresh, empty backend (its own bucket,
// container or directory) for each subtest.
func runConformance(t *testing.T, newBackend func(t *testing.T) Backend) {
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, newBackend(t)) })
	t.Run("EmptyObject", func(t *testing.T) { testEmptyObject(t, newBackend(t)) })
	t.Run("Ranges", func(t *testing.T) { testRanges(t, newBackend(t)) })
	t.Run("Overwrite", func(t *testing.T) { testOverwrite(t, newBackend(t)) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, newBackend(t)) })
	t.Run("NotFound", func(t *testing.T) { testNotFound(t, newBackend(t)) })
	t.Run("List", func(t *testing.T) { testList(t, newBackend(t)) })
	t.Run("SpecialKeys", func(t *testing.T) { testSpecialKeys(t, newBackend(t)) })
	t.Run("InvalidKeys", func(t *testing.T) { testInvalidKeys(t, newBackend(t)) })
	t.Run("Copy", func(t *testing.T) { testCopy(t, newBackend(t)) })
	t.Run("Compose", func(t *testing.T) { testCompose(t, newBackend(t)) })
	t.Run("Uploads", func(t *testing.T) { testUploads(t, newBackend(t)) })
	t.Run("UploadsSameKey", func(t *testing.T) { testUploadsSameKey(t, newBackend(t)) })
	t.Run("Replace", func(t *testing.T) { testReplace(t, newBackend(t)) })
	t.Run("SizeMismatch", func(t *testing.T) { testSizeMismatch(t, newBackend(t)) })
	t.Run("InterruptedPut", func(t *testing.T) { testInterruptedPut(t, newBackend(t)) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, newBackend(t)) })
	t.Run("Large", func(t *testing.T) { testLarge(t, newBackend(t)) })
	runLongKeys(t, newBackend)
}

// innerOf is the backend a long-key wrapper wraps (b itself if none).
func innerOf(b Backend) Backend {
	if w, ok := b.(interface{ unwrap() Backend }); ok {
		return w.unwrap()
	}
	return b
}

func tctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func md5hex(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }

func put(t *testing.T, b Backend, key string, data []byte, meta ObjectMeta) ObjectInfo {
	t.Helper()
	info, err := b.Put(tctx(t), key, bytes.NewReader(data), int64(len(data)), meta)
	if err != nil {
		t.Fatalf("Put %q: %v", key, err)
	}
	return info
}

func get(t *testing.T, b Backend, key string, rng *Range) ([]byte, ObjectInfo) {
	t.Helper()
	rc, info, err := b.Get(tctx(t), key, rng)
	if err != nil {
		t.Fatalf("Get %q %v: %v", key, rng, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %q: %v", key, err)
	}
	return data, info
}

func checkInfo(t *testing.T, what string, got ObjectInfo, key string, data []byte, meta ObjectMeta) {
	t.Helper()
	if got.Key != key || got.Size != int64(len(data)) || got.ETag != md5hex(data) {
		t.Errorf("%s: got key %q size %d etag %q, want %q %d %q", what, got.Key, got.Size, got.ETag, key, len(data), md5hex(data))
	}
	if meta.ContentType != "" && got.ContentType != meta.ContentType {
		t.Errorf("%s: content type %q, want %q", what, got.ContentType, meta.ContentType)
	}
	if want := normMeta(meta.UserMeta); !reflect.DeepEqual(got.UserMeta, want) {
		t.Errorf("%s: user meta %v, want %v", what, got.UserMeta, want)
	}
	if got.LastModified.IsZero() || time.Since(got.LastModified) > time.Hour || time.Until(got.LastModified) > time.Minute {
		t.Errorf("%s: last modified %v", what, got.LastModified)
	}
}

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// leftoverChecker is implemented (in tests) by backends that can tell
// whether a failed upload left something behind (temp files, uploads).
type leftoverChecker interface {
	leftovers(t *testing.T) []string
}

func checkNoLeftovers(t *testing.T, b Backend) {
	t.Helper()
	if lc, ok := innerOf(b).(leftoverChecker); ok {
		if l := lc.leftovers(t); len(l) > 0 {
			t.Errorf("failed puts left: %q", l)
		}
	}
}

func checkAbsent(t *testing.T, b Backend, key string) {
	t.Helper()
	if info, err := b.Head(tctx(t), key); !errors.Is(err, ErrNotFound) {
		t.Errorf("Head %q after a failed put: %+v %v, want ErrNotFound", key, info, err)
	}
	l, err := b.List(tctx(t), "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(keysOf(l), key) {
		t.Errorf("List shows %q after a failed put", key)
	}
}
