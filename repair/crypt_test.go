package repair

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/flashback-network/flashback/objcrypt"
)

// TestEncryptedObjects: the gateway's path end to end over real storage:
// an object encrypted once (objcrypt) is stored as the same ciphertext on
// two members, repair restores it on the third (it moves ciphertext and
// checks the ciphertext's sha256), no member's disk holds the plaintext,
// and a range read that loses its member mid-stream resumes from the
// repaired one.
func TestEncryptedObjects(t *testing.T) {
	ctx := context.Background()
	mk, err := objcrypt.DeriveMasterKey(bytes.Repeat([]byte{3}, 32), "fb1owner", "photos")
	if err != nil {
		t.Fatal(err)
	}
	plain := bytes.Repeat([]byte("plaintext that must not reach a provider's disk. "), 20000) // ~1 MiB
	er, err := objcrypt.NewEncryptReader(mk, "album/a.jpg", bytes.NewReader(plain), 0)
	if err != nil {
		t.Fatal(err)
	}
	ct, err := io.ReadAll(er)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, 3)
	f.objs["album/a.jpg"] = ct
	put(t, "album/a.jpg", ct, f.cs[0], f.cs[1])
	r := newRepairer(t, f.copies(), fastCfg())
	if res := once(t, r); res.Repaired != 1 {
		t.Fatalf("pass: %+v", res)
	}
	f.level(t, f.cs...)
	for _, c := range f.cs {
		filepath.Walk(c.root, func(p string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() {
				if b, _ := os.ReadFile(p); bytes.Contains(b, plain[:40]) {
					t.Errorf("%s: plaintext on disk in %s", c.id, p)
				}
			}
			return nil
		})
	}
	// Range read from m0, which dies 100 KiB in; resume from m2.
	h, _ := objcrypt.ParseHeader(ct)
	d, err := objcrypt.NewDecrypter(mk, "album/a.jpg", h, int64(len(ct)))
	if err != nil {
		t.Fatal(err)
	}
	off, n := int64(12345), int64(600000)
	sp, err := d.MapRange(off, n)
	if err != nil {
		t.Fatal(err)
	}
	f.cs[0].failOpenAfter = 100 << 10
	src, err := f.cs[0].Open(ctx, "album/a.jpg", sp.Off)
	if err != nil {
		t.Fatal(err)
	}
	rd := d.NewReader(io.LimitReader(src, sp.Len), sp)
	var out bytes.Buffer
	if _, err := io.Copy(&out, rd); err == nil {
		t.Fatal("the dying member's stream did not fail")
	}
	src.Close()
	rest := rd.Remaining()
	src2, err := f.cs[2].Open(ctx, "album/a.jpg", rest.Off)
	if err != nil {
		t.Fatal(err)
	}
	defer src2.Close()
	rd.Resume(io.LimitReader(src2, rest.Len))
	if _, err := io.Copy(&out, rd); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), plain[off:off+n]) {
		t.Fatal("resumed range read differs from the plaintext")
	}
	// The checksum members record is the ciphertext's.
	o, err := f.cs[2].Head(ctx, "album/a.jpg")
	if sum := sha256.Sum256(ct); err != nil || !bytes.Equal(o.SHA256, sum[:]) {
		t.Fatalf("m2 head: %+v %v", o, err)
	}
}
