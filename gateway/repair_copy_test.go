package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"testing"

	"github.com/flashback-network/flashback/repair"
)

// TestMemberCopyPutLeavesNothingOnFailure: the adapter's Put over a real
// bridge commits only the whole, right bytes: a body that fails midway or
// does not match its sha256 leaves no object; a good one reads back.
func TestMemberCopyPutLeavesNothingOnFailure(t *testing.T) {
	f := newFixture(t, ModeMirror, 1, 1)
	mc := &memberCopy{g: f.gw, m: f.repo.Members[0]}
	ctx := context.Background()
	data := randBytes(3<<20 + 5)
	sum := sha256.Sum256(data)
	failing := io.MultiReader(bytes.NewReader(data[:2<<20]), errReader{errors.New("source died")})
	if err := mc.Put(ctx, "k", failing, int64(len(data)), sum[:]); err == nil {
		t.Fatal("put from a failing source succeeded")
	}
	wrong := sha256.Sum256([]byte("other"))
	if err := mc.Put(ctx, "k", bytes.NewReader(data), int64(len(data)), wrong[:]); err == nil {
		t.Fatal("put under a wrong sha256 succeeded")
	}
	if _, err := mc.Head(ctx, "k"); !errors.Is(err, repair.ErrNotFound) {
		t.Fatalf("after failed puts: %v (want not found)", err)
	}
	if err := mc.Put(ctx, "k", bytes.NewReader(data), int64(len(data)), sum[:]); err != nil {
		t.Fatal(err)
	}
	o, err := mc.Head(ctx, "k")
	if err != nil || o.Size != int64(len(data)) || !bytes.Equal(o.SHA256, sum[:]) {
		t.Fatalf("head: %+v %v", o, err)
	}
	rc, err := mc.Open(ctx, "k", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, data[1<<20:]) {
		t.Fatal("open at an offset: wrong bytes")
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
