package storage

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

func testRoundTrip(t *testing.T, b Backend) {
	data := randBytes(1, 100_000)
	meta := ObjectMeta{ContentType: "image/jpeg", UserMeta: map[string]string{"color": "blue", "Camera-Model": "X 100"}}
	pinfo := put(t, b, "r42/photos/a.jpg", data, meta)
	checkInfo(t, "Put", pinfo, "r42/photos/a.jpg", data, meta)
	got, ginfo := get(t, b, "r42/photos/a.jpg", nil)
	if !bytes.Equal(got, data) {
		t.Fatalf("Get returned %d bytes, not the %d put", len(got), len(data))
	}
	checkInfo(t, "Get", ginfo, "r42/photos/a.jpg", data, meta)
	hinfo, err := b.Head(tctx(t), "r42/photos/a.jpg")
	if err != nil {
		t.Fatal(err)
	}
	checkInfo(t, "Head", hinfo, "r42/photos/a.jpg", data, meta)
	if hinfo.UserMeta["camera-model"] != "X 100" {
		t.Errorf("user meta keys are lower-cased: %v", hinfo.UserMeta)
	}
	// Unknown size.
	info, err := b.Put(tctx(t), "r42/unknown", bytes.NewReader(data), -1, ObjectMeta{})
	if err != nil {
		t.Fatal(err)
	}
	checkInfo(t, "Put size -1", info, "r42/unknown", data, ObjectMeta{})
	got, _ = get(t, b, "r42/unknown", nil)
	if !bytes.Equal(got, data) {
		t.Fatal("size -1 round trip differs")
	}
}

func testEmptyObject(t *testing.T, b Backend) {
	for _, size := range []int64{0, -1} {
		key := fmt.Sprintf("empty%d", size)
		info, err := b.Put(tctx(t), key, bytes.NewReader(nil), size, ObjectMeta{ContentType: "text/plain"})
		if err != nil {
			t.Fatalf("Put empty (size %d): %v", size, err)
		}
		checkInfo(t, "Put empty", info, key, nil, ObjectMeta{ContentType: "text/plain"})
		got, ginfo := get(t, b, key, nil)
		if len(got) != 0 {
			t.Fatalf("empty object read back as %d bytes", len(got))
		}
		checkInfo(t, "Get empty", ginfo, key, nil, ObjectMeta{ContentType: "text/plain"})
		if _, _, err := b.Get(tctx(t), key, &Range{0, 0}); !errors.Is(err, ErrInvalidRange) {
			t.Errorf("range of an empty object: %v, want ErrInvalidRange", err)
		}
	}
}

func testRanges(t *testing.T, b Backend) {
	data := randBytes(2, 1000)
	put(t, b, "obj", data, ObjectMeta{ContentType: "application/octet-stream"})
	for _, c := range []struct{ start, end, wantStart, wantEnd int64 }{
		{0, 0, 0, 0},
		{0, 999, 0, 999},
		{10, 19, 10, 19},
		{500, 700, 500, 700},
		{990, 999, 990, 999},
		{999, 999, 999, 999},
		{990, 5000, 990, 999}, // clamped to the end, like S3
	} {
		got, info := get(t, b, "obj", &Range{c.start, c.end})
		if want := data[c.wantStart : c.wantEnd+1]; !bytes.Equal(got, want) {
			t.Errorf("range %d-%d: got %d bytes, want %d", c.start, c.end, len(got), len(want))
		}
		if info.Size != 1000 || info.ETag != md5hex(data) {
			t.Errorf("range %d-%d: info size %d etag %s, want the whole object's", c.start, c.end, info.Size, info.ETag)
		}
	}
	for _, r := range []Range{{1000, 1000}, {1000, 2000}, {5000, 6000}, {10, 5}, {-1, 3}} {
		if rc, _, err := b.Get(tctx(t), "obj", &r); !errors.Is(err, ErrInvalidRange) {
			if err == nil {
				rc.Close()
			}
			t.Errorf("range %d-%d: %v, want ErrInvalidRange", r.Start, r.End, err)
		}
	}
}

func testOverwrite(t *testing.T, b Backend) {
	put(t, b, "k", randBytes(3, 5000), ObjectMeta{ContentType: "text/plain", UserMeta: map[string]string{"v": "1", "old": "x"}})
	data := randBytes(4, 300)
	meta := ObjectMeta{ContentType: "application/json", UserMeta: map[string]string{"v": "2"}}
	put(t, b, "k", data, meta)
	got, info := get(t, b, "k", nil)
	if !bytes.Equal(got, data) {
		t.Fatal("overwrite: old content read back")
	}
	checkInfo(t, "Get after overwrite", info, "k", data, meta)
	l, err := b.List(tctx(t), "", "", 0)
	if err != nil || len(l) != 1 || l[0].Size != 300 {
		t.Fatalf("List after overwrite: %v %v", l, err)
	}
}

func testDelete(t *testing.T, b Backend) {
	put(t, b, "d/x", []byte("x"), ObjectMeta{})
	put(t, b, "d/y", []byte("y"), ObjectMeta{})
	if err := b.Delete(tctx(t), "d/x"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Head(tctx(t), "d/x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Head after Delete: %v, want ErrNotFound", err)
	}
	if err := b.Delete(tctx(t), "d/x"); err != nil {
		t.Fatalf("deleting again: %v", err)
	}
	if err := b.Delete(tctx(t), "never/was/here"); err != nil {
		t.Fatalf("deleting a missing key: %v", err)
	}
	if _, err := b.Head(tctx(t), "d/y"); err != nil {
		t.Fatalf("sibling gone: %v", err)
	}
	l, err := b.List(tctx(t), "", "", 0)
	if err != nil || len(l) != 1 || l[0].Key != "d/y" {
		t.Fatalf("List after delete: %v %v", l, err)
	}
	// A deleted key can be written again.
	put(t, b, "d/x", []byte("again"), ObjectMeta{})
	if got, _ := get(t, b, "d/x", nil); string(got) != "again" {
		t.Fatalf("rewrite after delete: %q", got)
	}
}

func testNotFound(t *testing.T, b Backend) {
	ctx := tctx(t)
	if _, _, err := b.Get(ctx, "missing", nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get missing: %v", err)
	}
	if _, _, err := b.Get(ctx, "missing", &Range{0, 10}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get range missing: %v", err)
	}
	if _, err := b.Head(ctx, "missing/deep/key"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Head missing: %v", err)
	}
	if _, err := b.Copy(ctx, "missing", "dst"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Copy missing: %v", err)
	}
	if _, err := b.Head(ctx, "dst"); !errors.Is(err, ErrNotFound) {
		t.Errorf("failed Copy made dst: %v", err)
	}
	put(t, b, "file", []byte("f"), ObjectMeta{})
	if _, err := b.Head(ctx, "file/child"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Head under an object: %v", err)
	}
	if l, err := b.List(ctx, "nothing/", "", 0); err != nil || len(l) != 0 {
		t.Errorf("List of an empty prefix: %v %v", l, err)
	}
}
