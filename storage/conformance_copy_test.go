package storage

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

func testCopy(t *testing.T, b Backend) {
	data := randBytes(5, 70_000)
	meta := ObjectMeta{ContentType: "video/mp4", UserMeta: map[string]string{"origin": "camera"}}
	put(t, b, "src/v.mp4", data, meta)
	info, err := b.Copy(tctx(t), "src/v.mp4", "dst/v.mp4")
	if err != nil {
		t.Fatal(err)
	}
	checkInfo(t, "Copy", info, "dst/v.mp4", data, meta)
	got, ginfo := get(t, b, "dst/v.mp4", nil)
	if !bytes.Equal(got, data) {
		t.Fatal("copy content differs")
	}
	checkInfo(t, "Get copy", ginfo, "dst/v.mp4", data, meta)
	// Copy over an existing object replaces it; the source stays.
	put(t, b, "other", []byte("other"), ObjectMeta{ContentType: "text/plain", UserMeta: map[string]string{"x": "y"}})
	if _, err := b.Copy(tctx(t), "src/v.mp4", "other"); err != nil {
		t.Fatal(err)
	}
	got, ginfo = get(t, b, "other", nil)
	if !bytes.Equal(got, data) {
		t.Fatal("copy over existing: content differs")
	}
	checkInfo(t, "Get copy over existing", ginfo, "other", data, meta)
	if got, _ := get(t, b, "src/v.mp4", nil); !bytes.Equal(got, data) {
		t.Fatal("source changed by copy")
	}
}

func testCompose(t *testing.T, b Backend) {
	const mib = 1 << 20
	for _, c := range []struct {
		name  string
		sizes []int
	}{
		{"big parts", []int{5 * mib, 5 * mib, 1000}}, // S3's rules: native part copies
		{"small parts", []int{10, 0, 2000, 1}},       // below S3's 5 MiB minimum
		{"one part", []int{123}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var parts, etags []string
			var whole []byte
			for i, n := range c.sizes {
				d := randBytes(uint64(200+i), n)
				k := fmt.Sprintf("mpu/part%d", i)
				put(t, b, k, d, ObjectMeta{})
				parts, etags, whole = append(parts, k), append(etags, md5hex(d)), append(whole, d...)
			}
			wantETag, err := MultipartETag(etags)
			if err != nil {
				t.Fatal(err)
			}
			meta := ObjectMeta{ContentType: "application/zip", UserMeta: map[string]string{"built": "compose"}}
			info, err := Compose(tctx(t), b, "final.zip", parts, meta)
			if err != nil {
				t.Fatal(err)
			}
			if info.Size != int64(len(whole)) || info.ETag != wantETag {
				t.Errorf("Compose: size %d etag %q, want %d %q", info.Size, info.ETag, len(whole), wantETag)
			}
			got, ginfo := get(t, b, "final.zip", nil)
			if !bytes.Equal(got, whole) {
				t.Fatalf("composed content differs (%d bytes, want %d)", len(got), len(whole))
			}
			if ginfo.ETag != wantETag || ginfo.ContentType != "application/zip" || ginfo.UserMeta["built"] != "compose" {
				t.Errorf("Get composed: %+v", ginfo)
			}
			if l, _ := b.List(tctx(t), "final", "", 0); len(l) != 1 || l[0].Size != int64(len(whole)) {
				t.Errorf("List composed: %+v", l)
			}
			for _, p := range parts {
				if _, err := b.Head(tctx(t), p); err != nil {
					t.Errorf("part %q gone: %v", p, err)
				}
			}
		})
	}
	if _, err := Compose(tctx(t), b, "x", []string{"mpu/part0", "missing"}, ObjectMeta{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("compose with a missing part: %v", err)
	}
}
