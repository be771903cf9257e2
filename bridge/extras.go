package bridge

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/flashback-network/flashback/storage"
)

// metaDir is the hidden key prefix (inside a reservation) of what the bridge
// stores about objects and the bucket besides their content: clients can
// neither see nor write keys under it. It holds
//
//	<res>/.fb-meta/cors.xml          the bucket's CORS configuration
//	<res>/.fb-meta/o/<sha256(key)>   JSON objectExtra of object <key>
//
// Extras live beside the object, not in its backend metadata, because they
// change without the content (PutObjectTagging) and rewriting an object to
// change its metadata would copy it and change a multipart ETag.
const metaDir = ".fb-meta/"

// hiddenPrefix says whether a bucket-relative key lies in one of the
// bridge's hidden areas, and the prefix of that area.
func hiddenPrefix(rel string) (string, bool) {
	for _, p := range [...]string{mpuDir, metaDir} {
		if strings.HasPrefix(rel, p) {
			return p, true
		}
	}
	return "", false
}

// objectExtra is what the bridge knows about an object besides its content
// and backend metadata.
type objectExtra struct {
	Key   string            `json:"key"`
	Tags  map[string]string `json:"tags,omitempty"`
	Parts []partRecord      `json:"parts,omitempty"` // multipart objects: the parts, in order
	// Checksum is the stored checksum (metaChecksum form) when the backend
	// could not take it in its metadata (a trailing checksum on a backend
	// that writes metadata before the content).
	Checksum string `json:"checksum,omitempty"`
}

// partRecord is one part of a completed multipart object.
type partRecord struct {
	Number   int32  `json:"n"`
	Size     int64  `json:"size"`
	Checksum string `json:"checksum,omitempty"` // base64, of the upload's algorithm
}

func (e objectExtra) empty() bool { return len(e.Tags) == 0 && len(e.Parts) == 0 && e.Checksum == "" }

func extraName(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

func extraKey(br bucketRef, key string) string { return br.key(metaDir + "o/" + extraName(key)) }

// extrasIndex remembers, per reservation, which objects have extras, so that
// writes and deletes of objects without any (the common case) cost no
// backend call for them. It is loaded from one listing of the extras
// directory on a reservation's first use.
type extrasIndex struct {
	mu   sync.Mutex
	sets map[string]*extraSet
}

type extraSet struct {
	once  sync.Mutex
	ready bool
	mu    sync.Mutex
	names map[string]bool
}

func (x *extrasIndex) set(ctx context.Context, br bucketRef) (*extraSet, error) {
	x.mu.Lock()
	if x.sets == nil {
		x.sets = make(map[string]*extraSet)
	}
	s := x.sets[br.res.ID]
	if s == nil {
		s = &extraSet{names: make(map[string]bool)}
		x.sets[br.res.ID] = s
	}
	x.mu.Unlock()
	s.once.Lock()
	defer s.once.Unlock()
	if s.ready {
		return s, nil
	}
	dir := br.key(metaDir + "o/")
	after := ""
	for {
		batch, err := br.be.List(ctx, dir, after, 1000)
		if err != nil {
			return nil, fmt.Errorf("list object extras of %s: %w", br.res.ID, err)
		}
		s.mu.Lock()
		for _, o := range batch {
			s.names[strings.TrimPrefix(o.Key, dir)] = true
		}
		s.mu.Unlock()
		if len(batch) < 1000 {
			break
		}
		after = batch[len(batch)-1].Key
	}
	s.ready = true
	return s, nil
}

func (s *extraSet) has(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.names[name]
}

func (s *extraSet) mark(name string, present bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if present {
		s.names[name] = true
	} else {
		delete(s.names, name)
	}
}

// getExtra returns the extras of object key (zero if none).
func (g *gateway) getExtra(ctx context.Context, br bucketRef, key string) (objectExtra, error) {
	var e objectExtra
	s, err := g.b.extras.set(ctx, br)
	if err != nil || !s.has(extraName(key)) {
		return e, err
	}
	rc, _, err := br.be.Get(ctx, extraKey(br, key), nil)
	if errors.Is(err, storage.ErrNotFound) {
		return e, nil
	}
	if err != nil {
		return e, fmt.Errorf("read extras of %q: %w", key, err)
	}
	defer rc.Close()
	if err := json.NewDecoder(io.LimitReader(rc, 4<<20)).Decode(&e); err != nil {
		return e, fmt.Errorf("decode extras of %q: %w", key, err)
	}
	if e.Key != key { // a hash collision would need a broken SHA-256
		return objectExtra{}, nil
	}
	return e, nil
}

// putExtra replaces the extras of object key (an empty one removes them).
func (g *gateway) putExtra(ctx context.Context, br bucketRef, key string, e objectExtra) error {
	s, err := g.b.extras.set(ctx, br)
	if err != nil {
		return err
	}
	name, bkey := extraName(key), extraKey(br, key)
	if e.empty() && !s.has(name) {
		return nil
	}
	// Extras are bookkeeping, bounded by the object they describe: they
	// are neither charged to the quota nor counted as stored bytes (see
	// resState.load), so a reservation's usage is its objects' bytes.
	unlock := g.b.locks.lock(bkey)
	defer unlock()
	if e.empty() {
		if err := br.be.Delete(ctx, bkey); err != nil {
			return fmt.Errorf("delete extras of %q: %w", key, err)
		}
		s.mark(name, false)
		return nil
	}
	e.Key = key
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if _, err := br.be.Put(ctx, bkey, bytes.NewReader(data), int64(len(data)), storage.ObjectMeta{ContentType: "application/json"}); err != nil {
		return fmt.Errorf("store extras of %q: %w", key, err)
	}
	s.mark(name, true)
	return nil
}
