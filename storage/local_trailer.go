package storage

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
	"time"
)

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
