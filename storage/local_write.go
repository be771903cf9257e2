package storage

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// write builds a new object file for key in tmp with fill, then commits it.
// fill writes the content and returns the trailer.
func (l *Local) write(ctx context.Context, key string, fill func(f *os.File) (localTrailer, error)) (ObjectInfo, error) {
	info, _, err := l.writeReplacing(ctx, key, fill)
	return info, err
}

// writeReplacing is write that also tells what the commit replaced.
func (l *Local) writeReplacing(ctx context.Context, key string, fill func(f *os.File) (localTrailer, error)) (ObjectInfo, Replaced, error) {
	dst, err := l.path(key)
	if err != nil {
		return ObjectInfo{}, Replaced{}, err
	}
	f, err := os.CreateTemp(l.tmpDir, "put-*.tmp")
	if err != nil {
		return ObjectInfo{}, Replaced{}, fmt.Errorf("backend local: %w", err)
	}
	lockTemp(f)
	committed := false
	defer func() {
		if !committed {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	t, err := fill(f)
	if err != nil {
		return ObjectInfo{}, Replaced{}, err
	}
	if err := writeTrailer(f, t); err != nil {
		return ObjectInfo{}, Replaced{}, err
	}
	if err := f.Sync(); err != nil {
		return ObjectInfo{}, Replaced{}, err
	}
	st, err := f.Stat()
	if err != nil {
		return ObjectInfo{}, Replaced{}, err
	}
	if err := f.Close(); err != nil {
		return ObjectInfo{}, Replaced{}, err
	}
	if err := ctx.Err(); err != nil {
		return ObjectInfo{}, Replaced{}, err
	}
	// Best effort: List reads the metadata from here without opening the
	// file (it falls back to the trailer when the attribute is missing).
	setListAttr(f.Name(), t, st.ModTime())
	old, err := l.commit(f.Name(), dst)
	if err != nil {
		return ObjectInfo{}, Replaced{}, err
	}
	committed = true
	return t.info(key, st.ModTime()), old, nil
}

// commit renames the finished temp file onto dst and frees the chunks of
// the object it replaced, if that one was composed; it returns what it
// replaced.
func (l *Local) commit(tmp, dst string) (Replaced, error) {
	dir := filepath.Dir(dst)
	mu := l.commitLock(dst)
	mu.Lock()
	r := l.retire(dst)
	var err error
	// A concurrent Delete may remove an emptied directory between MkdirAll
	// and Rename: retry.
	for attempt := 0; ; attempt++ {
		if err = os.MkdirAll(dir, 0o750); err == nil {
			if err = os.Rename(tmp, dst); err == nil {
				break
			}
		}
		if !errors.Is(err, fs.ErrNotExist) || attempt == 5 {
			mu.Unlock()
			l.freeChunks(nil, r.trashed)
			return Replaced{}, fmt.Errorf("backend local: %w", err)
		}
	}
	mu.Unlock()
	syncDir(dir)
	l.freeChunks(r.chunks, r.trashed)
	return r.old, nil
}

// commitLock is the stripe of commitLocks for an object path.
func (l *Local) commitLock(path string) *sync.Mutex {
	var h uint32 = 2166136261
	for i := 0; i < len(path); i++ {
		h = (h ^ uint32(path[i])) * 16777619
	}
	return &l.commitLocks[h%uint32(len(l.commitLocks))]
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

func (l *Local) Put(ctx context.Context, key string, r io.Reader, size int64, meta ObjectMeta) (ObjectInfo, error) {
	info, _, err := l.PutReplace(ctx, key, r, size, meta)
	return info, err
}

// PutReplace is Put that also reports the object it replaced, read from its
// trailer as the new file is renamed over it.
func (l *Local) PutReplace(ctx context.Context, key string, r io.Reader, size int64, meta ObjectMeta) (ObjectInfo, Replaced, error) {
	return l.writeReplacing(ctx, key, func(f *os.File) (localTrailer, error) {
		pr := newPutReader(ctx, r, size, false)
		h := md5.New()
		if _, err := copyHashed(newWritebackFile(f), pr, size, h); err != nil {
			return localTrailer{}, err
		}
		if err := pr.check(); err != nil {
			return localTrailer{}, err
		}
		return localTrailer{Size: pr.n, ETag: hex.EncodeToString(h.Sum(nil)), ContentType: meta.ContentType, UserMeta: normMeta(meta.final())}, nil
	})
}

// onlyWriter hides ReadFrom so io.CopyBuffer uses our buffer and reader.
type onlyWriter struct{ w io.Writer }

func (o onlyWriter) Write(p []byte) (int, error) { return o.w.Write(p) }
