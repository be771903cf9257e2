package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Composed objects of the local backend are served from their parts in
// place: Compose hard-links every part's file into Root/chunks under a fresh
// name and commits an object file whose trailer lists those chunks (and
// whose own content is empty). Completing a multipart upload of any size is
// then one link per part plus one small file, and deleting the parts
// afterwards (as the bridge does) leaves the chunks' data alive through the
// links. A chunk is the first Size bytes of a linked part file (the part's
// own trailer follows them and is never read).
//
// A chunk belongs to exactly one object file; it is removed when that file
// is replaced or deleted (under the object's commit lock, see commit), so a
// Copy of a composed object links the chunks again under new names.

// localChunk is one piece of a composed object's content.
type localChunk struct {
	Name string `json:"name"` // file name in Root/chunks
	Size int64  `json:"size"`
}

// contentLen is how many content bytes the object file itself holds.
func (t localTrailer) contentLen() int64 {
	if len(t.Chunks) > 0 {
		return 0
	}
	return t.Size
}

func newChunkName() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// bigFile is the size from which an object file replaced or deleted is
// unlinked by the reaper rather than inline (see freeChunks).
const bigFile = 1 << 20

// retired is what retire learnt about the object file being replaced or
// removed.
type retired struct {
	chunks  []localChunk // its chunks, if it is composed
	trashed bool         // the file was linked into the trash
	old     Replaced
}

// retire prepares the object file at path for being replaced or removed
// (under its commit lock): it reads its trailer (size, chunks) and when the
// file itself is big it hard-links it into the trash, so that the rename
// or unlink that follows does not free its blocks inline.
func (l *Local) retire(path string) retired {
	var r retired
	f, err := os.Open(path)
	if err != nil {
		return r
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() >= bigFile {
		if name, err := newChunkName(); err == nil {
			r.trashed = os.Link(path, filepath.Join(l.trashDir, name)) == nil
		}
	}
	if t, _, err := readLocalTrailer(f); err == nil {
		r.chunks, r.old = t.Chunks, Replaced{Existed: true, Size: t.Size}
	}
	return r
}

// freeChunks drops chunks no object references any more. Unlinking the
// last link of a large file frees its blocks, which takes the file system
// a while (about 0.25 s per GiB here): the chunks are moved to Root/trash
// (a rename each) and unlinked there in the background, so that an
// overwrite or delete of a composed object answers at once.
func (l *Local) freeChunks(chunks []localChunk, trashed bool) {
	if len(chunks) == 0 {
		if trashed {
			l.reap()
		}
		return
	}
	for _, c := range chunks {
		if os.Rename(filepath.Join(l.chunkDir, c.Name), filepath.Join(l.trashDir, c.Name)) != nil {
			os.Remove(filepath.Join(l.chunkDir, c.Name))
		}
	}
	l.reap()
}

// reap empties the trash on a goroutine, unless one is at it already (it
// then goes round again: trashGen tells it something was added).
func (l *Local) reap() {
	l.reapMu.Lock()
	defer l.reapMu.Unlock()
	l.trashGen++
	if l.reaping {
		return
	}
	l.reaping = true
	go func() {
		for {
			l.reapMu.Lock()
			gen := l.trashGen
			l.reapMu.Unlock()
			ents, _ := os.ReadDir(l.trashDir)
			for _, e := range ents {
				os.Remove(filepath.Join(l.trashDir, e.Name()))
			}
			l.reapMu.Lock()
			if len(ents) == 0 && gen == l.trashGen {
				l.reaping = false
				l.reapMu.Unlock()
				return
			}
			l.reapMu.Unlock()
		}
	}()
}

func (l *Local) linkChunk(src, name string, size int64) (localChunk, error) {
	if err := os.Link(src, filepath.Join(l.chunkDir, name)); err != nil {
		return localChunk{}, err
	}
	return localChunk{Name: name, Size: size}, nil
}

// linkPart makes a chunk of the plain object at key (none for an empty
// one). It returns the part's trailer.
func (l *Local) linkPart(key, name string) ([]localChunk, localTrailer, error) {
	p, err := l.path(key)
	if err != nil {
		return nil, localTrailer{}, err
	}
	// Link first, then read what was linked: a concurrent overwrite of the
	// part cannot make the trailer read disagree with the data kept.
	c, err := l.linkChunk(p, name, 0)
	if err != nil {
		return nil, localTrailer{}, notFound(err, key)
	}
	f, err := os.Open(filepath.Join(l.chunkDir, c.Name))
	if err != nil {
		l.freeChunks([]localChunk{c}, false)
		return nil, localTrailer{}, err
	}
	t, _, err := readLocalTrailer(f)
	f.Close()
	switch {
	case err != nil:
	case len(t.Chunks) > 0:
		// Its ETag is a multipart one, which MultipartETag refuses anyway.
		err = fmt.Errorf("backend local: %q is itself composed", key)
	case t.Size > 0:
		c.Size = t.Size
		return []localChunk{c}, t, nil
	}
	l.freeChunks([]localChunk{c}, false)
	return nil, t, err
}

// Compose commits dst as the concatenation of parts without copying any
// content: one hard link per part and a small object file.
func (l *Local) Compose(ctx context.Context, dst string, parts []string, meta ObjectMeta) (ObjectInfo, error) {
	if len(parts) == 0 {
		return ObjectInfo{}, errors.New("backend: compose needs at least one part")
	}
	dstPath, err := l.path(dst)
	if err != nil {
		return ObjectInfo{}, err
	}
	names, err := newChunkNames(len(parts))
	if err != nil {
		return ObjectInfo{}, err
	}
	intent, err := l.beginChunks(dstPath, names)
	if err != nil {
		return ObjectInfo{}, err
	}
	defer intent.end()
	var chunks []localChunk
	committed := false
	defer func() {
		if !committed {
			l.freeChunks(chunks, false)
		}
	}()
	var total int64
	etags := make([]string, len(parts))
	for i, p := range parts {
		if err := ctx.Err(); err != nil {
			return ObjectInfo{}, err
		}
		cs, t, err := l.linkPart(p, names[i])
		if err != nil {
			return ObjectInfo{}, fmt.Errorf("compose part %q: %w", p, err)
		}
		chunks = append(chunks, cs...)
		etags[i] = t.ETag
		total += t.Size
	}
	etag, err := MultipartETag(etags)
	if err != nil {
		return ObjectInfo{}, err
	}
	syncDir(l.chunkDir)
	info, err := l.write(ctx, dst, func(*os.File) (localTrailer, error) {
		return localTrailer{Size: total, ETag: etag, ContentType: meta.ContentType,
			UserMeta: normMeta(meta.UserMeta), Chunks: chunks}, nil
	})
	committed = err == nil
	return info, err
}

// copyChunked commits dst as a composed object with src's chunks linked
// again (no content copied).
func (l *Local) copyChunked(ctx context.Context, dst string, t localTrailer) (ObjectInfo, error) {
	dstPath, err := l.path(dst)
	if err != nil {
		return ObjectInfo{}, err
	}
	names, err := newChunkNames(len(t.Chunks))
	if err != nil {
		return ObjectInfo{}, err
	}
	intent, err := l.beginChunks(dstPath, names)
	if err != nil {
		return ObjectInfo{}, err
	}
	defer intent.end()
	var chunks []localChunk
	committed := false
	defer func() {
		if !committed {
			l.freeChunks(chunks, false)
		}
	}()
	for i, c := range t.Chunks {
		nc, err := l.linkChunk(filepath.Join(l.chunkDir, c.Name), names[i], c.Size)
		if err != nil {
			return ObjectInfo{}, fmt.Errorf("backend local: copy: %w", notFound(err, dst))
		}
		chunks = append(chunks, nc)
	}
	syncDir(l.chunkDir)
	t.Chunks = chunks
	info, err := l.write(ctx, dst, func(*os.File) (localTrailer, error) { return t, nil })
	committed = err == nil
	return info, err
}

// openChunks opens the n content bytes from start of a composed object.
// Every chunk needed is opened now, so that a Delete racing with the read
// cannot cut it short.
func (l *Local) openChunks(key string, chunks []localChunk, start, n int64) (io.ReadCloser, error) {
	cr := &chunkReader{}
	off := int64(0)
	for _, c := range chunks {
		cStart, cEnd := off, off+c.Size
		off = cEnd
		if cEnd <= start || cStart >= start+n {
			continue
		}
		f, err := os.Open(filepath.Join(l.chunkDir, c.Name))
		if err != nil {
			cr.Close()
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("%w: %q", ErrNotFound, key) // deleted meanwhile
			}
			return nil, err
		}
		from := max(start, cStart) - cStart
		to := min(start+n, cEnd) - cStart
		cr.files = append(cr.files, f)
		cr.readers = append(cr.readers, io.NewSectionReader(f, from, to-from))
	}
	cr.r = io.MultiReader(cr.readers...)
	return cr, nil
}

type chunkReader struct {
	files   []*os.File
	readers []io.Reader
	r       io.Reader
}

func (c *chunkReader) Read(p []byte) (int, error) { return c.r.Read(p) }

func (c *chunkReader) Close() error {
	for _, f := range c.files {
		f.Close()
	}
	c.files = nil
	return nil
}
