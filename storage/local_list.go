package storage

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

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
