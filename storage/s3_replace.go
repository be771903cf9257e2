package storage

import (
	"context"
	"io"
	"sync"
)

var _ Replacer = (*S3)(nil)

// PutReplace is Put that also reports the object it replaced. S3 does not
// say what a PutObject replaced, so the Head still happens, but alongside
// the upload rather than before it: it is sent first, and the body's last
// bytes are held back until its answer is in, so the Head cannot see the
// new object (S3 commits a PutObject only once it has the whole body).
// When the Head fails for another reason than a missing key, the write is
// reported as replacing nothing.
func (b *S3) PutReplace(ctx context.Context, key string, r io.Reader, size int64, meta ObjectMeta) (ObjectInfo, Replaced, error) {
	ctx = detach(ctx)
	if _, err := b.full(key); err != nil {
		return ObjectInfo{}, Replaced{}, err
	}
	var (
		once sync.Once
		old  Replaced
		done = make(chan struct{})
	)
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(done)
		if info, err := b.Head(hctx, key); err == nil {
			old = Replaced{Existed: true, Size: info.Size}
		}
	}()
	wait := func() { once.Do(func() { <-done }) }
	if size == 0 || size < 0 || size > b.maxSinglePut {
		// An empty body is sent without reading, and a multipart upload
		// (unknown or huge size) commits apart from its body: Head first.
		wait()
		info, err := b.Put(ctx, key, r, size, meta)
		return info, old, err
	}
	info, err := b.Put(ctx, key, &gatedReader{r: r, left: size, wait: wait}, size, meta)
	wait()
	return info, old, err
}

// gatedReader passes r through but calls wait before it hands out the
// last of its left bytes.
type gatedReader struct {
	r    io.Reader
	left int64
	wait func()
}

func (g *gatedReader) Read(p []byte) (int, error) {
	if int64(len(p)) >= g.left {
		g.wait()
	}
	n, err := g.r.Read(p)
	g.left -= int64(n)
	return n, err
}
