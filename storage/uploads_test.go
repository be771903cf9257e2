package storage

import (
	"bytes"
	"errors"
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
