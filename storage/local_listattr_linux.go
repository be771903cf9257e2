package storage

import (
	"encoding/json"
	"syscall"
	"time"
)

// The local backend keeps a copy of each object's listing metadata (size,
// ETag, content type, user metadata, modification time) in an extended
// attribute of its file, set on the temp file before the rename that
// commits it, so that List reads one attribute per object instead of
// opening the file and reading its trailer. Objects without it (an older
// layout, a file system without user xattrs, metadata too large for one)
// are listed from their trailer.
const listAttrName = "user.flashback.list"

// maxListAttr keeps the attribute within what ext4 stores inline.
const maxListAttr = 2048

type listAttr struct {
	localTrailer
	MTime int64 `json:"mtime"` // unix nanoseconds
}

func setListAttr(path string, t localTrailer, mtime time.Time) {
	t.Chunks = nil
	j, err := json.Marshal(listAttr{localTrailer: t, MTime: mtime.UnixNano()})
	if err != nil || len(j) > maxListAttr {
		return
	}
	syscall.Setxattr(path, listAttrName, j, 0)
}

// getListAttr reads the listing metadata of the object file at path; ok is
// false when it has none (the caller reads the trailer).
func getListAttr(path string, buf []byte) (localTrailer, time.Time, bool) {
	n, err := syscall.Getxattr(path, listAttrName, buf)
	if err != nil || n <= 0 || n > len(buf) {
		return localTrailer{}, time.Time{}, false
	}
	var a listAttr
	if json.Unmarshal(buf[:n], &a) != nil || a.ETag == "" {
		return localTrailer{}, time.Time{}, false
	}
	return a.localTrailer, time.Unix(0, a.MTime), true
}

// removeListAttr drops the list attribute (tests: the trailer fallback).
func removeListAttr(path string) error { return syscall.Removexattr(path, listAttrName) }
