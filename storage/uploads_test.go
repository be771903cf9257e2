package storage

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

// testUploads checks an Uploader: parts streamed into a native upload,
// completion with a subset of them, listing, abort.
func testUploads(t *testing.T, b Backend) {
	u, ok := b.(Uploader)
	if !ok {
		t.Skip("backend has no native multipart uploads")
	}
	ctx := tctx(t)
	id, err := u.CreateUpload(ctx, "mp/obj", ObjectMeta{ContentType: "app/x", UserMeta: map[string]string{"K": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	p1, p2, p3 := randBytes(1, 5<<20), randBytes(2, 777), randBytes(3, 5<<20)
	var got []UploadPart
	for i, d := range [][]byte{p1, p3, p2} { // part 2 is dropped at completion
		num := []int{1, 2, 3}[i]
		p, err := u.PutUploadPart(ctx, "mp/obj", id, num, bytes.NewReader(d), int64(len(d)))
		if err != nil {
			t.Fatal(err)
		}
		if p.ETag != md5hex(d) || p.Size != int64(len(d)) || p.Num != num {
			t.Fatalf("part %d: %+v", num, p)
		}
		got = append(got, p)
	}
	// A part whose body is short fails and leaves the others.
	if _, err := u.PutUploadPart(ctx, "mp/obj", id, 4, bytes.NewReader(p2[:10]), 20); !errors.Is(err, ErrSizeMismatch) {
		t.Errorf("short part: %v", err)
	}
	listed, err := u.UploadParts(ctx, "mp/obj", id)
	if err != nil || len(listed) != 3 || listed[0].Num != 1 || listed[2].ETag != md5hex(p2) || listed[1].Size != int64(len(p3)) {
		t.Fatalf("UploadParts = %+v, %v", listed, err)
	}
	if _, err := b.Head(ctx, "mp/obj"); !errors.Is(err, ErrNotFound) {
		t.Errorf("object visible before completion: %v", err)
	}
	use := []UploadPart{got[0], got[2]}
	info, err := u.CompleteUpload(ctx, "mp/obj", id, use)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := MultipartETag([]string{md5hex(p1), md5hex(p2)})
	whole := append(append([]byte{}, p1...), p2...)
	if info.ETag != want || info.Size != int64(len(whole)) {
		t.Errorf("CompleteUpload = %+v, want etag %s size %d", info, want, len(whole))
	}
	data, ginfo := get(t, b, "mp/obj", nil)
	if !bytes.Equal(data, whole) || ginfo.ETag != want || ginfo.ContentType != "app/x" || ginfo.UserMeta["k"] != "v" {
		t.Errorf("Get completed: %d bytes, %+v", len(data), ginfo)
	}
	if _, err := u.UploadParts(ctx, "mp/obj", id); !errors.Is(err, ErrNotFound) {
		t.Errorf("UploadParts after completion: %v, want ErrNotFound", err)
	}
	// Abort: nothing visible, the upload gone, aborting again is fine.
	id2, err := u.CreateUpload(ctx, "mp/aborted", ObjectMeta{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.PutUploadPart(ctx, "mp/aborted", id2, 1, bytes.NewReader(p2), int64(len(p2))); err != nil {
		t.Fatal(err)
	}
	if err := u.AbortUpload(ctx, "mp/aborted", id2); err != nil {
		t.Fatal(err)
	}
	if err := u.AbortUpload(ctx, "mp/aborted", id2); err != nil {
		t.Errorf("second abort: %v", err)
	}
	if _, err := u.CompleteUpload(ctx, "mp/aborted", id2, use[1:]); !errors.Is(err, ErrNotFound) {
		t.Errorf("complete after abort: %v, want ErrNotFound", err)
	}
	checkAbsent(t, b, "mp/aborted")
}

// testUploadsSameKey checks S3's rule for concurrent writers of one key on
// an Uploader: two uploads of the same key and a plain Put of it in between
// all proceed, the upload completed first does not disturb the other (which
// still takes parts and completes), and the last completion wins.
func testUploadsSameKey(t *testing.T, b Backend) {
	u, ok := b.(Uploader)
	if !ok {
		t.Skip("backend has no native multipart uploads")
	}
	ctx := tctx(t)
	const key = "same/key"
	idA, err := u.CreateUpload(ctx, key, ObjectMeta{ContentType: "app/a", UserMeta: map[string]string{"who": "a"}})
	if err != nil {
		t.Fatal(err)
	}
	idB, err := u.CreateUpload(ctx, key, ObjectMeta{ContentType: "app/b", UserMeta: map[string]string{"who": "b"}})
	if err != nil {
		t.Fatal(err)
	}
	a1, a2, b1, b2 := randBytes(11, 5<<20+3), randBytes(12, 1001), randBytes(13, 5<<20), randBytes(14, 4097)
	partA1 := putPart(t, u, key, idA, 1, a1)
	partB1 := putPart(t, u, key, idB, 1, b1)
	plain := randBytes(15, 3<<20)
	put(t, b, key, plain, ObjectMeta{})
	partB2 := putPart(t, u, key, idB, 2, b2)
	if l, err := b.List(ctx, "", "", 0); err != nil || !slices.Equal(keysOf(l), []string{key}) {
		t.Errorf("List with two uploads pending = %q, %v; want only the plain object", keysOf(l), err)
	}
	infoB, err := u.CompleteUpload(ctx, key, idB, []UploadPart{partB1, partB2})
	if err != nil {
		t.Fatal(err)
	}
	checkCompleted(t, b, key, infoB, "app/b", "b", b1, b2)
	// A completed: its parts survived the plain Put and B's completion,
	// and it takes one more.
	partA2 := putPart(t, u, key, idA, 2, a2)
	if listed, err := u.UploadParts(ctx, key, idA); err != nil || len(listed) != 2 || listed[0].ETag != md5hex(a1) || listed[1].ETag != md5hex(a2) {
		t.Fatalf("UploadParts of the other upload = %+v, %v", listed, err)
	}
	infoA, err := u.CompleteUpload(ctx, key, idA, []UploadPart{partA1, partA2})
	if err != nil {
		t.Fatal(err)
	}
	checkCompleted(t, b, key, infoA, "app/a", "a", a1, a2)
	if _, err := u.UploadParts(ctx, key, idB); !errors.Is(err, ErrNotFound) {
		t.Errorf("UploadParts of the first completed: %v, want ErrNotFound", err)
	}
	if l, err := b.List(ctx, "", "", 0); err != nil || !slices.Equal(keysOf(l), []string{key}) {
		t.Errorf("List after both completions = %q, %v", keysOf(l), err)
	}
}

func putPart(t *testing.T, u Uploader, key, id string, num int, data []byte) UploadPart {
	t.Helper()
	p, err := u.PutUploadPart(tctx(t), key, id, num, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("part %d of %s: %v", num, id, err)
	}
	return p
}

// checkCompleted checks that key holds exactly the parts, with the
// multipart ETag, the upload's content type (unless "") and metadata.
func checkCompleted(t *testing.T, b Backend, key string, info ObjectInfo, ctype, who string, parts ...[]byte) {
	t.Helper()
	var whole []byte
	var etags []string
	for _, p := range parts {
		whole, etags = append(whole, p...), append(etags, md5hex(p))
	}
	want, _ := MultipartETag(etags)
	if info.ETag != want || info.Size != int64(len(whole)) {
		t.Errorf("CompleteUpload = %+v, want etag %s size %d", info, want, len(whole))
	}
	data, got := get(t, b, key, nil)
	if !bytes.Equal(data, whole) || got.ETag != want || (ctype != "" && got.ContentType != ctype) || got.UserMeta["who"] != who {
		t.Errorf("Get %q: %d bytes (want %d, equal %v), etag %s (want %s), type %q, meta %v",
			key, len(data), len(whole), bytes.Equal(data, whole), got.ETag, want, got.ContentType, got.UserMeta)
	}
}
