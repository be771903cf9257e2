package repair

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flashback-network/flashback/storage"
)

// localCopy is a member over a real storage backend: a storage.Local, or
// a storage.S3 talking to a real bridge (bridge_test.go), as the gateway's
// member client is. The checksum travels as user metadata; over a Local,
// quota stands for the reservation's capacity (a bridge enforces its own).
type localCopy struct {
	id    string
	be    storage.Backend
	root  string // the Local directory holding the bytes (to damage them)
	quota int64  // 0: none; else Put fails with ErrNoRoom past it
	puts  atomic.Int64
	// failOpenAfter, when > 0, makes readers from Open fail after that
	// many bytes (a bridge dying mid-stream).
	failOpenAfter int64
}

func newLocalCopy(t testing.TB, id string) *localCopy {
	t.Helper()
	be, err := storage.NewLocal(storage.LocalConfig{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return &localCopy{id: id, be: be, root: be.Root()}
}

func (c *localCopy) ID() string { return c.id }

func toObject(i storage.ObjectInfo) Object {
	sum, _ := hex.DecodeString(i.UserMeta["sha256"])
	return Object{Key: i.Key, Size: i.Size, SHA256: sum}
}

func (c *localCopy) List(ctx context.Context, after string, max int) ([]Object, error) {
	infos, err := c.be.List(ctx, "", after, max)
	if err != nil {
		return nil, err
	}
	out := make([]Object, len(infos))
	for i, in := range infos {
		out[i] = toObject(in)
	}
	return out, nil
}

func (c *localCopy) Head(ctx context.Context, key string) (Object, error) {
	in, err := c.be.Head(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return Object{}, fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	if err != nil {
		return Object{}, err
	}
	return toObject(in), nil
}

func (c *localCopy) Open(ctx context.Context, key string, off int64) (io.ReadCloser, error) {
	var rng *storage.Range
	if off > 0 {
		rng = &storage.Range{Start: off, End: 1<<62 - 1}
	}
	rc, _, err := c.be.Get(ctx, key, rng)
	if err != nil || c.failOpenAfter <= 0 {
		return rc, err
	}
	return &failingReader{rc: rc, left: c.failOpenAfter}, nil
}

type failingReader struct {
	rc   io.ReadCloser
	left int64
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.left <= 0 {
		return 0, errors.New("connection reset by peer")
	}
	n, err := f.rc.Read(p[:min(int64(len(p)), f.left)])
	f.left -= int64(n)
	return n, err
}

func (f *failingReader) Close() error { return f.rc.Close() }

func (c *localCopy) used(ctx context.Context) int64 {
	var n int64
	after := ""
	for {
		page, err := c.be.List(ctx, "", after, 1000)
		if err != nil || len(page) == 0 {
			return n
		}
		for _, o := range page {
			n += o.Size
		}
		after = page[len(page)-1].Key
	}
}

func (c *localCopy) Put(ctx context.Context, key string, r io.Reader, size int64, sum []byte) error {
	c.puts.Add(1)
	if c.quota > 0 && c.used(ctx)+size > c.quota {
		return fmt.Errorf("member %s: %w: %d bytes do not fit in the %d-byte reservation", c.id, ErrNoRoom, size, c.quota)
	}
	_, err := c.be.Put(ctx, key, r, size, storage.ObjectMeta{UserMeta: map[string]string{"sha256": hex.EncodeToString(sum)}})
	return err
}

func (c *localCopy) Delete(ctx context.Context, key string) error { return c.be.Delete(ctx, key) }

// content reads key's bytes on c (nil, false if missing).
func (c *localCopy) content(t testing.TB, key string) ([]byte, bool) {
	t.Helper()
	rc, _, err := c.be.Get(context.Background(), key, nil)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b, true
}

// flipByte flips one content byte of key's object file on disk, under
// the backend (its recorded checksum stays as it was).
func (c *localCopy) flipByte(t testing.TB, key string, at int64) {
	t.Helper()
	// A bridge stores key under its reservation's folder.
	ps, _ := filepath.Glob(filepath.Join(c.root, "objects", "*", key+".o"))
	ps = append(ps, filepath.Join(c.root, "objects", key+".o"))
	p := ps[0]
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := []byte{0}
	if _, err := f.ReadAt(b, at); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x40
	if _, err := f.WriteAt(b, at); err != nil {
		t.Fatal(err)
	}
}

func put(t testing.TB, key string, data []byte, cs ...*localCopy) {
	t.Helper()
	sum := sha256.Sum256(data)
	for _, c := range cs {
		if _, err := c.be.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)),
			storage.ObjectMeta{UserMeta: map[string]string{"sha256": hex.EncodeToString(sum[:])}}); err != nil {
			t.Fatal(err)
		}
	}
}

func data(seed, n int) []byte {
	r := rand.New(rand.NewPCG(uint64(seed), 42))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// fixture is n members holding the same objects.
type fixture struct {
	cs   []*localCopy
	objs map[string][]byte
}

func newFixture(t testing.TB, n int, sizes ...int) *fixture {
	f := &fixture{objs: map[string][]byte{}}
	for i := 0; i < n; i++ {
		f.cs = append(f.cs, newLocalCopy(t, fmt.Sprintf("m%d", i)))
	}
	for i, sz := range sizes {
		key := fmt.Sprintf("obj-%03d", i)
		f.objs[key] = data(i, sz)
		put(t, key, f.objs[key], f.cs...)
	}
	return f
}

func (f *fixture) copies(cs ...*localCopy) []Copy {
	if cs == nil {
		cs = f.cs
	}
	out := make([]Copy, len(cs))
	for i, c := range cs {
		out[i] = c
	}
	return out
}

// fastCfg: no waiting between retries, unless a test says otherwise.
func fastCfg() Config {
	return Config{BackoffBase: time.Nanosecond, BackoffMax: time.Nanosecond, PageSize: 7}
}

func newRepairer(t testing.TB, cs []Copy, cfg Config) *Repairer {
	t.Helper()
	r, err := New(cs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func once(t testing.TB, r *Repairer) PassResult {
	t.Helper()
	res, err := r.Once(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// level checks that every object of f is byte for byte on every copy in cs.
func (f *fixture) level(t testing.TB, cs ...*localCopy) {
	t.Helper()
	for _, c := range cs {
		for k, want := range f.objs {
			got, ok := c.content(t, k)
			if !ok || !bytes.Equal(got, want) {
				t.Fatalf("%s: %q present %v, equal %v", c.id, k, ok, bytes.Equal(got, want))
			}
		}
	}
}

func memberOf(st Status, id string) MemberStatus {
	for _, m := range st.Members {
		if m.ID == id {
			return m
		}
	}
	return MemberStatus{}
}
