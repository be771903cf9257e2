package storage

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// A crash between linking a composed object's chunks into Root/chunks and
// committing the object file that lists them would leave chunks no object
// references, holding their parts' blocks for good. So before linking,
// Compose and copyChunked write (and sync) an intent file in Root/tmp
// naming the object file and every chunk it is about to link, and remove
// it once the object is committed or the chunks freed. NewLocal reads the
// intents a crash left (before stale temps are removed) and moves to the
// trash every chunk listed there that the named object file does not
// reference. The chunk names are drawn before the intent is written, so
// one sync covers them all.

// chunkIntent is the intent file of one compose in progress.
type chunkIntent struct {
	f *os.File
}

// beginChunks writes the intent of linking chunks named names for the
// object file at path.
func (l *Local) beginChunks(path string, names []string) (*chunkIntent, error) {
	f, err := os.CreateTemp(l.tmpDir, "chunks-*.intent")
	if err != nil {
		return nil, fmt.Errorf("backend local: chunk intent: %w", err)
	}
	lockTemp(f)
	rel, err := filepath.Rel(l.root, path)
	if err == nil {
		w := bufio.NewWriter(f)
		fmt.Fprintln(w, rel)
		for _, n := range names {
			fmt.Fprintln(w, n)
		}
		if err = w.Flush(); err == nil {
			err = f.Sync()
		}
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("backend local: chunk intent: %w", err)
	}
	return &chunkIntent{f: f}, nil
}

// end removes the intent: the object committed, or its chunks were freed.
func (ci *chunkIntent) end() {
	ci.f.Close()
	os.Remove(ci.f.Name())
}

// newChunkNames draws n chunk names.
func newChunkNames(n int) ([]string, error) {
	names := make([]string, n)
	for i := range names {
		var err error
		if names[i], err = newChunkName(); err != nil {
			return nil, err
		}
	}
	return names, nil
}

// recoverChunkIntents frees the chunks of composes a crash interrupted.
// Intents still locked belong to a live process sharing the root.
func (l *Local) recoverChunkIntents() {
	ents, err := os.ReadDir(l.tmpDir)
	if err != nil {
		return
	}
	freed := false
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "chunks-") || !strings.HasSuffix(e.Name(), ".intent") {
			continue
		}
		p := filepath.Join(l.tmpDir, e.Name())
		if inUse, known := tempInUse(p); inUse || !known {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		kept := map[string]bool{}
		if f, err := os.Open(filepath.Join(l.root, lines[0])); err == nil {
			if t, _, err := readLocalTrailer(f); err == nil {
				for _, c := range t.Chunks {
					kept[c.Name] = true
				}
			}
			f.Close()
		}
		for _, n := range lines[1:] {
			if n == "" || kept[n] || strings.ContainsAny(n, `/\`) {
				continue
			}
			if os.Rename(filepath.Join(l.chunkDir, n), filepath.Join(l.trashDir, n)) == nil {
				freed = true
			}
		}
		os.Remove(p)
	}
	if freed {
		syncDir(l.trashDir)
	}
}
