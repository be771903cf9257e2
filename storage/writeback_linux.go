package storage

import (
	"os"

	"golang.org/x/sys/unix"
)

// writebackChunk: every this many bytes written, the local backend asks the
// kernel to start writing them to disk (without waiting), so the fsync that
// commits the object only waits for the tail instead of the whole file.
const writebackChunk = 8 << 20

// writebackFile is an *os.File whose written bytes are pushed to disk as
// they accumulate (sync_file_range SYNC_FILE_RANGE_WRITE, asynchronous).
type writebackFile struct {
	f          *os.File
	off, start int64 // bytes written; start of the range not yet pushed
}

func newWritebackFile(f *os.File) *writebackFile { return &writebackFile{f: f} }

func (w *writebackFile) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.off += int64(n)
	if w.off-w.start >= writebackChunk {
		// Best effort: a failure only means the fsync does all the work.
		unix.SyncFileRange(int(w.f.Fd()), w.start, w.off-w.start, unix.SYNC_FILE_RANGE_WRITE)
		w.start = w.off
	}
	return n, err
}
