package bridge

import (
	"bytes"
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/flashback-network/flashback/storage"
)

// headCounting is a local backend that counts Head calls.
type headCounting struct {
	*storage.Local
	heads atomic.Int64
}

func (h *headCounting) Head(ctx context.Context, key string) (storage.ObjectInfo, error) {
	h.heads.Add(1)
	return h.Local.Head(ctx, key)
}

// TestPutWithoutHead: a PutObject without conditions makes no Head on the
// backend, and the reservation's stored bytes and quota rules are the same
// as with one: an overwrite that fits only because it replaces a bigger
// object is accepted, a write past the quota is refused and leaves nothing.
func TestPutWithoutHead(t *testing.T) {
	var be *headCounting
	f := newFixture(t, fixtureOpts{backendFor: func(dir string) storage.Backend {
		l, err := storage.NewLocal(storage.LocalConfig{Root: dir + "/counted"})
		if err != nil {
			t.Fatal(err)
		}
		be = &headCounting{Local: l}
		return be
	}})
	ctx := context.Background()
	c := f.sdk(keySmallW)
	put := func(key string, n int) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("res-small"), Key: aws.String(key),
			Body: bytes.NewReader(bytes.Repeat([]byte("q"), n))})
		return err
	}
	stored := func() int64 { return f.b.Usage()["res-small"].StoredBytes }
	if err := put("a", 600<<10); err != nil {
		t.Fatal(err)
	}
	if err := put("a", 300<<10); err != nil {
		t.Fatal(err)
	}
	if n := be.heads.Load(); n != 0 {
		t.Errorf("%d backend Heads for two PUTs", n)
	}
	if s := stored(); s != 300<<10 {
		t.Errorf("stored %d after overwriting 600 KiB with 300 KiB, want %d", s, 300<<10)
	}
	// 300 KiB stored; 900 KiB more would pass 1 MiB as a new object, but
	// replacing "a" it leaves 900 KiB: accepted.
	if err := put("a", 900<<10); err != nil {
		t.Fatalf("overwrite that fits the quota: %v", err)
	}
	if s := stored(); s != 900<<10 {
		t.Errorf("stored %d, want %d", s, 900<<10)
	}
	err := put("b", 200<<10)
	wantCode(t, err, "QuotaExceeded", 403)
	if _, err := be.Local.Head(ctx, "res-small/b"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("refused write left an object: %v", err)
	}
	if s := stored(); s != 900<<10 {
		t.Errorf("stored %d after a refused write, want %d", s, 900<<10)
	}
	// A conditional PUT still reads the old object (it needs its ETag).
	before := be.heads.Load()
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("res-small"), Key: aws.String("a"),
		Body: bytes.NewReader([]byte("x")), IfNoneMatch: aws.String("*")})
	wantCode(t, err, "PreconditionFailed", 412)
	if be.heads.Load() == before {
		t.Errorf("conditional PUT made no Head")
	}
}
