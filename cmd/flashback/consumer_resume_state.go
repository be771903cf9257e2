package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
)

// The state of a resumable multipart upload, kept in
// HOME/uploads/<hash>.json so that a `cp` killed (Ctrl-C, SIGKILL, a lost
// connection) can be run again and send only the parts the bridge lacks.
// The file is named by the reservation, key and absolute local path; it
// records the local file's size and mtime, and a changed file invalidates
// it (the old upload is aborted). Each part done is written before the next
// completion is recorded, so a kill loses at most the parts in flight.

const uploadsDir = "uploads"

type uploadState struct {
	Reservation string      `json:"reservation"`
	Key         string      `json:"key"`
	File        string      `json:"file"`
	Size        int64       `json:"size"`
	MTimeNanos  int64       `json:"mtime_ns"`
	PartSize    int64       `json:"part_size"`
	UploadID    string      `json:"upload_id"`
	Parts       []statePart `json:"parts"`

	mu   sync.Mutex
	path string
}

// statePart is one part the bridge acknowledged: its ETag, size, the CRC32
// the upload is checked with, and the SHA-256 of the local bytes it was
// read from (to notice a file rewritten in place with the same mtime).
type statePart struct {
	N      int32  `json:"n"`
	ETag   string `json:"etag"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	CRC32  string `json:"crc32,omitempty"`
}

func (g *globals) uploadStatePath(res, key, absFile string) string {
	h := sha256.Sum256([]byte(res + "\x00" + key + "\x00" + absFile))
	return filepath.Join(g.home, uploadsDir, hex.EncodeToString(h[:16])+".json")
}

// loadUploadState reads the state at path; (nil, nil) if there is none.
// An unreadable state is removed: it can only cost a fresh upload.
func loadUploadState(path string) (*uploadState, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	st := &uploadState{}
	if err := json.Unmarshal(b, st); err != nil {
		_ = os.Remove(path)
		return nil, nil
	}
	st.path = path
	return st, nil
}

// addPart records a part done and saves the state.
func (st *uploadState) addPart(p statePart) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.Parts = append(st.Parts, p)
	return st.saveLocked()
}

func (st *uploadState) save() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.saveLocked()
}

// saveLocked writes the state atomically (temp file, rename), mode 0600:
// it names the upload, which the access key can complete.
func (st *uploadState) saveLocked() error {
	sort.Slice(st.Parts, func(i, j int) bool { return st.Parts[i].N < st.Parts[j].N })
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(st.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".upload-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), st.path); err != nil {
		return fmt.Errorf("save upload state: %w", err)
	}
	return nil
}

func (st *uploadState) remove() { _ = os.Remove(st.path) }

// partCount is the number of parts of a file of size bytes.
func partCount(size, partSize int64) int32 { return int32((size + partSize - 1) / partSize) }

// partSizeFor grows partSize (to a whole MiB) when a file would need more
// than 10,000 parts (S3's limit), as the SDK does.
func partSizeFor(size, partSize int64) int64 {
	const maxParts = 10000
	if need := (size + maxParts - 1) / maxParts; need > partSize {
		return (need + 1<<20 - 1) &^ (1<<20 - 1)
	}
	return partSize
}
