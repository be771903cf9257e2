package storage

import (
	"context"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// LocalConfig configures the local-disk backend.
type LocalConfig struct {
	// Root is the directory holding the unit's data; created if missing.
	Root string `json:"root"`
	// StaleTempAge: where the file system has no flock (so a temp file of
	// an upload in flight in another process cannot be told from one left
	// by a crash), temporary files older than this are removed when the
	// backend is opened; elsewhere every temp file no live writer holds is.
	// Default 1h.
	StaleTempAge Duration `json:"stale_temp_age,omitempty"`
}

// Duration is a time.Duration that reads "90s"-style strings from JSON.
type Duration time.Duration

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n int64
		if err2 := json.Unmarshal(b, &n); err2 != nil {
			return fmt.Errorf("duration: %w", err)
		}
		*d = Duration(n)
		return nil
	}
	v, err := time.ParseDuration(s)
	*d = Duration(v)
	return err
}

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// Local stores objects as files under Root.
//
// Layout: Root/objects holds one file per object; each key segment but the
// last is a directory named SEGMENT.d and the last is a file named
// SEGMENT.o, so that keys "a" and "a/b" can both exist, and no key can name
// anything outside Root (every path component gets a suffix). Root/tmp holds
// uploads in progress.
//
// An object file is the content followed by a trailer holding the metadata
// as JSON: content | JSON | uint32 big-endian JSON length | "FBOBJ01\n".
// One file per object means one rename commits content and metadata
// together: Put writes a temp file, fsyncs it, renames it into place and
// fsyncs the directory, so a crash leaves either the old object or the new
// one, never a partial one.
type Local struct {
	root, objDir, tmpDir, chunkDir, trashDir string
	// commitLocks serialize, per object path, the short step that replaces
	// or removes an object file and frees the chunks of the one it replaced
	// (striped; the bodies are written without any lock).
	commitLocks [64]sync.Mutex
	// reapMu guards reaping (a goroutine is emptying trashDir) and
	// trashGen (bumped whenever chunks are moved there).
	reapMu   sync.Mutex
	reaping  bool
	trashGen uint64
}

var _ Composer = (*Local)(nil)

const (
	localMagic    = "FBOBJ01\n"
	localTrailerN = 4 + len(localMagic)
	localDirSfx   = ".d"
	localObjSfx   = ".o"
	maxSegment    = 255 - 2
	copyBufSize   = 256 << 10
)

var copyBufPool = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

// NewLocal opens (creating if needed) a local backend.
func NewLocal(cfg LocalConfig) (*Local, error) {
	if cfg.Root == "" {
		return nil, errors.New("backend local: root is empty")
	}
	root, err := filepath.Abs(cfg.Root)
	if err != nil {
		return nil, err
	}
	l := &Local{root: root, objDir: filepath.Join(root, "objects"), tmpDir: filepath.Join(root, "tmp"),
		chunkDir: filepath.Join(root, "chunks"), trashDir: filepath.Join(root, "trash")}
	for _, d := range []string{l.objDir, l.tmpDir, l.chunkDir, l.trashDir} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("backend local: %w", err)
		}
	}
	age := time.Duration(cfg.StaleTempAge)
	if age <= 0 {
		age = time.Hour
	}
	l.recoverChunkIntents() // before the intents go with the stale temps
	l.removeStaleTemps(age)
	l.reap() // chunks a crash left in the trash
	return l, nil
}

// Root is the directory the backend was opened on.
func (l *Local) Root() string { return l.root }

// TempDir is where uploads in progress live (tests check it is left empty).
func (l *Local) TempDir() string { return l.tmpDir }

// path maps a key to its object file.
func (l *Local) path(key string) (string, error) {
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	segs := strings.Split(key, "/")
	parts := make([]string, 0, len(segs)+1)
	parts = append(parts, l.objDir)
	for i, s := range segs {
		if i == len(segs)-1 {
			parts = appendSegment(parts, s, localObjSfx)
		} else {
			parts = appendSegment(parts, s, localDirSfx)
		}
	}
	return filepath.Join(parts...), nil
}

type localTrailer struct {
	Size        int64             `json:"size"`
	ETag        string            `json:"etag"`
	ContentType string            `json:"content_type,omitempty"`
	UserMeta    map[string]string `json:"user_meta,omitempty"`
	// Chunks, when set, hold the content (in order) instead of the object
	// file itself, whose content part is then empty: see local_compose.go.
	Chunks []localChunk `json:"chunks,omitempty"`
}

func writeTrailer(w io.Writer, t localTrailer) error {
	j, err := json.Marshal(t)
	if err != nil {
		return err
	}
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(j)))
	j = append(j, n[:]...)
	j = append(j, localMagic...)
	_, err = w.Write(j)
	return err
}

// readTrailer reads the metadata of an open object file.
func readTrailer(f *os.File, key string) (ObjectInfo, error) {
	t, mtime, err := readLocalTrailer(f)
	if err != nil {
		return ObjectInfo{}, err
	}
	return t.info(key, mtime), nil
}

// readLocalTrailer reads and checks the trailer of an open object file; it
// also returns the file's modification time (the object's LastModified).
func readLocalTrailer(f *os.File) (localTrailer, time.Time, error) {
	st, err := f.Stat()
	if err != nil {
		return localTrailer{}, time.Time{}, err
	}
	corrupt := func(why string) error {
		return fmt.Errorf("backend local: object file %s is corrupt: %s", f.Name(), why)
	}
	if st.Size() < int64(localTrailerN) {
		return localTrailer{}, time.Time{}, corrupt("too short")
	}
	var tail [localTrailerN]byte
	if _, err := f.ReadAt(tail[:], st.Size()-int64(localTrailerN)); err != nil {
		return localTrailer{}, time.Time{}, err
	}
	if string(tail[4:]) != localMagic {
		return localTrailer{}, time.Time{}, corrupt("bad magic")
	}
	jn := int64(binary.BigEndian.Uint32(tail[:4]))
	if jn > st.Size()-int64(localTrailerN) || jn > 1<<20 {
		return localTrailer{}, time.Time{}, corrupt("bad trailer length")
	}
	j := make([]byte, jn)
	if _, err := f.ReadAt(j, st.Size()-int64(localTrailerN)-jn); err != nil {
		return localTrailer{}, time.Time{}, err
	}
	var t localTrailer
	if err := json.Unmarshal(j, &t); err != nil {
		return localTrailer{}, time.Time{}, corrupt(err.Error())
	}
	if t.contentLen() != st.Size()-int64(localTrailerN)-jn {
		return localTrailer{}, time.Time{}, corrupt("size does not match trailer")
	}
	return t, st.ModTime(), nil
}

func (t localTrailer) info(key string, mtime time.Time) ObjectInfo {
	return ObjectInfo{
		Key: key, Size: t.Size, ETag: t.ETag, LastModified: mtime.UTC(),
		ContentType: t.ContentType, UserMeta: t.UserMeta,
	}
}

func notFound(err error, key string) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("%w: %q", ErrNotFound, key)
	}
	return err
}

// open opens key's file and reads its trailer.
func (l *Local) open(key string) (*os.File, ObjectInfo, error) {
	f, _, info, err := l.openTrailer(key)
	return f, info, err
}

// openTrailer is open that also returns the raw trailer (chunk list).
func (l *Local) openTrailer(key string) (*os.File, localTrailer, ObjectInfo, error) {
	p, err := l.path(key)
	if err != nil {
		return nil, localTrailer{}, ObjectInfo{}, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, localTrailer{}, ObjectInfo{}, notFound(err, key)
	}
	t, mtime, err := readLocalTrailer(f)
	if err != nil {
		f.Close()
		return nil, localTrailer{}, ObjectInfo{}, err
	}
	return f, t, t.info(key, mtime), nil
}

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

func (l *Local) List(ctx context.Context, prefix, startAfter string, limit int) ([]ObjectInfo, error) {
	if err := validateListArg(prefix); err != nil {
		return nil, err
	}
	if err := validateListArg(startAfter); err != nil {
		return nil, err
	}
	lw := &localLister{l: l, ctx: ctx, prefix: prefix, startAfter: startAfter, limit: listLimit(limit)}
	// Start at the deepest directory the prefix names completely.
	dir, keyPrefix := l.objDir, ""
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		parts := []string{dir}
		for _, s := range strings.Split(prefix[:i], "/") {
			if s == "." || s == ".." {
				return nil, nil // no key can live there
			}
			parts = appendSegment(parts, s, localDirSfx)
		}
		dir = filepath.Join(parts...)
		keyPrefix = prefix[:i+1]
	}
	if _, err := lw.walk(dir, keyPrefix); err != nil {
		return nil, err
	}
	return lw.out, nil
}

type localLister struct {
	l                  *Local
	ctx                context.Context
	prefix, startAfter string
	limit              int
	out                []ObjectInfo
	attrBuf            []byte
}

// entryInfo reads a listed object's metadata: from its list attribute, or
// else from its trailer. ok is false when the file is gone.
func (lw *localLister) entryInfo(path, key string) (ObjectInfo, bool, error) {
	if lw.attrBuf == nil {
		lw.attrBuf = make([]byte, maxListAttr)
	}
	if t, mtime, ok := getListAttr(path, lw.attrBuf); ok {
		return t.info(key, mtime), true, nil
	}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return ObjectInfo{}, false, nil
		}
		return ObjectInfo{}, false, err
	}
	info, err := readTrailer(f, key)
	f.Close()
	return info, err == nil, err
}

type localEntry struct {
	sortKey string // segment for objects, segment+"/" for directories
	name    string
	dir     bool
}

// walk lists dir, whose keys all start with keyPrefix, in key order. It
// returns done when the listing is complete (limit reached or past prefix).
func (lw *localLister) walk(dir, keyPrefix string) (bool, error) {
	if err := lw.ctx.Err(); err != nil {
		return true, err
	}
	des, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return false, nil
		}
		return true, err
	}
	ents := make([]localEntry, 0, len(des))
	for _, de := range des {
		n := de.Name()
		switch {
		case strings.HasSuffix(n, localObjSfx) && !de.IsDir():
			ents = append(ents, localEntry{sortKey: n[:len(n)-2], name: n})
		case strings.HasSuffix(n, localDirSfx) && de.IsDir():
			ents = append(ents, localEntry{sortKey: n[:len(n)-2] + "/", name: n, dir: true})
		case strings.HasSuffix(n, localLongSfx) && de.IsDir():
			ents = append(ents, localEntry{sortKey: n[:len(n)-2], name: n, dir: true})
		}
	}
	// An object sorts before the continuation of its name (same sortKey).
	sort.Slice(ents, func(i, j int) bool {
		if ents[i].sortKey != ents[j].sortKey {
			return ents[i].sortKey < ents[j].sortKey
		}
		return !ents[i].dir && ents[j].dir
	})
	for _, e := range ents {
		full := keyPrefix + e.sortKey
		if !strings.HasPrefix(full, lw.prefix) && !(e.dir && strings.HasPrefix(lw.prefix, full)) {
			if full > lw.prefix {
				return true, nil // sorted: everything after is past the prefix
			}
			continue
		}
		if e.dir {
			if full < lw.startAfter && !strings.HasPrefix(lw.startAfter, full) {
				continue // every key in there is <= startAfter
			}
			done, err := lw.walk(filepath.Join(dir, e.name), full)
			if done || err != nil {
				return done, err
			}
			continue
		}
		if full <= lw.startAfter {
			continue
		}
		info, ok, err := lw.entryInfo(filepath.Join(dir, e.name), full)
		if err != nil {
			return true, err
		}
		if !ok {
			continue // deleted meanwhile
		}
		lw.out = append(lw.out, info)
		if len(lw.out) >= lw.limit {
			return true, nil
		}
	}
	return false, nil
}
