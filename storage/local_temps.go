package storage

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Temp files of uploads in flight are flocked by their writer for as long
// as it writes them. The kernel drops the lock when the writer's process
// dies, so a temp file nobody holds was left by a crash (or a kill) and is
// garbage: opening the backend removes every such file at once, while the
// uploads in flight of other processes sharing the root keep theirs.

// lockTemp marks f as in use by this process. Failure (a file system
// without flock) is not an error: such files are then swept by age only.
func lockTemp(f *os.File) {
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

// tempInUse says whether a live writer holds the temp file at path, and
// whether that could be told at all (flock supported).
func tempInUse(path string) (inUse, known bool) {
	f, err := os.Open(path)
	if err != nil {
		return false, false
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	switch {
	case err == nil:
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return false, true
	case errors.Is(err, syscall.EWOULDBLOCK):
		return true, true
	default:
		return false, false
	}
}

// removeStaleTemps removes the temp files crashed writers left: those no
// live writer holds, or, where that cannot be told, those older than age.
func (l *Local) removeStaleTemps(age time.Duration) {
	ents, err := os.ReadDir(l.tmpDir)
	if err != nil {
		return
	}
	for _, e := range ents {
		p := filepath.Join(l.tmpDir, e.Name())
		inUse, known := tempInUse(p)
		if known {
			if !inUse {
				os.Remove(p)
			}
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > age {
			os.Remove(p)
		}
	}
}
