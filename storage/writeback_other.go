//go:build !linux

package storage

import "os"

// writebackFile is the plain file where the kernel offers no
// sync_file_range: the commit's fsync does all the writing.
type writebackFile struct{ f *os.File }

func newWritebackFile(f *os.File) *writebackFile { return &writebackFile{f: f} }

func (w *writebackFile) Write(p []byte) (int, error) { return w.f.Write(p) }
