package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

func (l *Local) Get(ctx context.Context, key string, rng *Range) (io.ReadCloser, ObjectInfo, error) {
	if err := checkRangeArg(rng); err != nil {
		return nil, ObjectInfo{}, err
	}
	f, t, info, err := l.openTrailer(key)
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	start, n := int64(0), info.Size
	if rng != nil {
		r, err := checkRange(rng, info.Size)
		if err != nil {
			f.Close()
			return nil, ObjectInfo{}, err
		}
		start, n = r.Start, r.End-r.Start+1
	}
	if len(t.Chunks) > 0 {
		f.Close()
		rc, err := l.openChunks(key, t.Chunks, start, n)
		return rc, info, err
	}
	return &fileSection{SectionReader: io.NewSectionReader(f, start, n), f: f}, info, nil
}

type fileSection struct {
	*io.SectionReader
	f *os.File
}

func (s *fileSection) Close() error { return s.f.Close() }

func (l *Local) Head(ctx context.Context, key string) (ObjectInfo, error) {
	f, info, err := l.open(key)
	if err != nil {
		return ObjectInfo{}, err
	}
	f.Close()
	return info, nil
}

func (l *Local) Delete(ctx context.Context, key string) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	mu := l.commitLock(p)
	mu.Lock()
	r := l.retire(p)
	err = os.Remove(p)
	mu.Unlock()
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil
		}
		return fmt.Errorf("backend local: %w", err)
	}
	l.freeChunks(r.chunks, r.trashed)
	// Remove directories the delete emptied, up to objects/.
	for dir := filepath.Dir(p); dir != l.objDir && strings.HasPrefix(dir, l.objDir); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			break
		}
	}
	return nil
}

func (l *Local) Copy(ctx context.Context, src, dst string) (ObjectInfo, error) {
	if _, err := l.path(dst); err != nil {
		return ObjectInfo{}, err
	}
	in, t, info, err := l.openTrailer(src)
	if err != nil {
		return ObjectInfo{}, err
	}
	defer in.Close()
	if len(t.Chunks) > 0 {
		return l.copyChunked(ctx, dst, t)
	}
	return l.write(ctx, dst, func(f *os.File) (localTrailer, error) {
		if err := copyContent(ctx, f, in, info.Size); err != nil {
			return localTrailer{}, err
		}
		return localTrailer{Size: info.Size, ETag: info.ETag, ContentType: info.ContentType, UserMeta: info.UserMeta}, nil
	})
}

func copyContent(ctx context.Context, dst io.Writer, src *os.File, size int64) error {
	bp := copyBufPool.Get().(*[]byte)
	defer copyBufPool.Put(bp)
	n, err := io.CopyBuffer(onlyWriter{dst}, &ctxReader{ctx, io.NewSectionReader(src, 0, size)}, *bp)
	if err == nil && n != size {
		err = fmt.Errorf("backend local: %s changed while copying", src.Name())
	}
	return err
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
