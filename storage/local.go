package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
