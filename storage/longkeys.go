package storage

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode/utf8"
)

// S3, GCS and Azure cap object names at 1,024 bytes, counting the backend's
// own prefix, but a key a client may use is up to MaxKeyLen bytes and the
// bridge stores it under "<reservation>/" with escapes (MaxStoredKeyLen).
// longKeys wraps such a backend: a key that fits is stored as itself; a
// longer one under a hidden name
//
//	.flashback-long/<head>~/<hex sha256(key)>
//
// where head is the key's first bytes (as many as fit, cut at a rune
// boundary) and the rest of the key travels in the object's metadata
// (metaLongKey, base64url). Hidden names sort like their keys' first
// groupLen bytes, so List can push prefix and start-after down to the
// service and merge the two listings in true key order; only keys that
// share their first groupLen bytes need their tail to be ordered.
type longKeys struct {
	inner   Backend
	maxLen  int // longest name the service takes after the backend's prefix
	headLen int // key bytes a hidden name keeps at most
	// groupLen: every hidden name holds at least this many bytes of its
	// key (headLen less a cut rune).
	groupLen int

	mu    sync.Mutex
	known map[string]string // hidden name -> key (names are hashes: never stale)
}

const (
	// longKeyDir holds the hidden names; no key may start with it.
	longKeyDir = ".flashback-long/"
	// metaLongKey is the user-metadata entry with a long key's tail.
	metaLongKey = "flashback-long-key"
	// longNameSuffix is "~/" and the hex SHA-256: the hash in a segment of
	// its own keeps every segment short (MinIO caps them at 255 bytes).
	longNameSuffix   = 2 + 2*sha256.Size
	maxKnownLongKeys = 4096
	// serviceMaxKeyLen is the name limit of S3, GCS and Azure.
	serviceMaxKeyLen = 1024
)

// longKeysBackend is what every wrapped backend offers; Uploader and
// Replacer are added when the inner backend has them.
type longKeysBackend interface {
	Backend
	Composer
	io.Closer
	unwrap() Backend
	nameLimit() int
}

// wrapLongKeys wraps inner, whose service takes names of up to maxLen
// bytes (after its own prefix).
func wrapLongKeys(inner Backend, maxLen int) (Backend, error) {
	w, err := newLongKeys(inner, maxLen)
	if err != nil {
		return nil, err
	}
	_, up := inner.(Uploader)
	_, rep := inner.(Replacer)
	switch {
	case up && rep:
		return struct {
			longKeysBackend
			Uploader
			Replacer
		}{w, longKeysUploads{w}, longKeysReplace{w}}, nil
	case up:
		return struct {
			longKeysBackend
			Uploader
		}{w, longKeysUploads{w}}, nil
	case rep:
		return struct {
			longKeysBackend
			Replacer
		}{w, longKeysReplace{w}}, nil
	}
	return struct{ longKeysBackend }{w}, nil
}

func newLongKeys(inner Backend, maxLen int) (*longKeys, error) {
	headLen := maxLen - len(longKeyDir) - longNameSuffix
	if headLen < 128 {
		return nil, fmt.Errorf("backend: prefix too long: object names would have %d bytes left", maxLen)
	}
	return &longKeys{inner: inner, maxLen: maxLen, headLen: headLen, groupLen: headLen - (utf8.UTFMax - 1),
		known: map[string]string{}}, nil
}

// wrapCloud wraps a backend on a service with 1,024-byte names whose own
// prefix is prefix.
func wrapCloud[B Backend](b B, err error, prefix string) (Backend, error) {
	if err != nil {
		return nil, err
	}
	return wrapLongKeys(b, serviceMaxKeyLen-len(prefix))
}

func (w *longKeys) unwrap() Backend { return w.inner }

// nameLimit is the longest name the wrapper gives the inner backend.
func (w *longKeys) nameLimit() int { return w.maxLen }

// runeCut is the largest n' <= n at which s can be cut without splitting a
// rune.
func runeCut(s string, n int) int {
	if n >= len(s) {
		return len(s)
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return n
}

// stored is the name key is stored under.
func (w *longKeys) stored(key string) (string, error) {
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	if strings.HasPrefix(key, longKeyDir) {
		return "", fmt.Errorf("%w %q: the prefix %s is reserved", ErrInvalidKey, key, longKeyDir)
	}
	if len(key) <= w.maxLen {
		return key, nil
	}
	return w.hiddenName(key), nil
}

func (w *longKeys) hiddenName(key string) string {
	sum := sha256.Sum256([]byte(key))
	return longKeyDir + key[:runeCut(key, w.headLen)] + "~/" + hex.EncodeToString(sum[:])
}

// withKey is meta as stored for key: a client's metaLongKey entry is
// dropped, and a long key's tail added.
func (w *longKeys) withKey(key string, meta ObjectMeta) ObjectMeta {
	long := len(key) > w.maxLen
	_, clash := lookupFold(meta.UserMeta, metaLongKey)
	if !long && !clash {
		return meta
	}
	um := make(map[string]string, len(meta.UserMeta)+1)
	for k, v := range meta.UserMeta {
		if !strings.EqualFold(k, metaLongKey) {
			um[k] = v
		}
	}
	if long {
		um[metaLongKey] = base64.RawURLEncoding.EncodeToString([]byte(key[runeCut(key, w.headLen):]))
	}
	meta.UserMeta = um
	return meta
}

func lookupFold(m map[string]string, name string) (string, bool) {
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// clean is info as the wrapper reports it: under key, without metaLongKey.
func clean(info ObjectInfo, key string) ObjectInfo {
	info.Key = key
	if _, ok := info.UserMeta[metaLongKey]; ok {
		um := make(map[string]string, len(info.UserMeta))
		for k, v := range info.UserMeta {
			if k != metaLongKey {
				um[k] = v
			}
		}
		if len(um) == 0 {
			um = nil
		}
		info.UserMeta = um
	}
	return info
}

// keyOf recovers the key of a hidden object from its name and the tail in
// meta; ok is false for anything the wrapper did not write.
func (w *longKeys) keyOf(name string, meta map[string]string) (string, bool) {
	head, ok := strings.CutPrefix(name, longKeyDir)
	if !ok || len(head) < longNameSuffix || head[len(head)-longNameSuffix:][:2] != "~/" {
		return "", false
	}
	tail, err := base64.RawURLEncoding.DecodeString(meta[metaLongKey])
	if err != nil {
		return "", false
	}
	key := head[:len(head)-longNameSuffix] + string(tail)
	if len(key) <= w.maxLen || w.hiddenName(key) != name {
		return "", false
	}
	return key, true
}

// resolve is keyOf for a listed hidden object: from the listing's
// metadata (GCS, Azure), what the wrapper already knows, or a Head (S3
// lists no metadata).
func (w *longKeys) resolve(ctx context.Context, o ObjectInfo) (string, bool) {
	if key, ok := w.keyOf(o.Key, o.UserMeta); ok {
		return key, true
	}
	w.mu.Lock()
	key, ok := w.known[o.Key]
	w.mu.Unlock()
	if ok {
		return key, true
	}
	info, err := w.inner.Head(ctx, o.Key)
	if err != nil {
		return "", false // deleted since listed, or not ours
	}
	if key, ok = w.keyOf(o.Key, info.UserMeta); ok {
		w.mu.Lock()
		if len(w.known) >= maxKnownLongKeys {
			clear(w.known)
		}
		w.known[o.Key] = key
		w.mu.Unlock()
	}
	return key, ok
}

func (w *longKeys) Put(ctx context.Context, key string, r io.Reader, size int64, meta ObjectMeta) (ObjectInfo, error) {
	name, err := w.stored(key)
	if err != nil {
		return ObjectInfo{}, err
	}
	info, err := w.inner.Put(ctx, name, r, size, w.withKey(key, meta))
	if err != nil {
		return ObjectInfo{}, err
	}
	return clean(info, key), nil
}

func (w *longKeys) Get(ctx context.Context, key string, rng *Range) (io.ReadCloser, ObjectInfo, error) {
	name, err := w.stored(key)
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	rc, info, err := w.inner.Get(ctx, name, rng)
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	return rc, clean(info, key), nil
}

func (w *longKeys) Head(ctx context.Context, key string) (ObjectInfo, error) {
	name, err := w.stored(key)
	if err != nil {
		return ObjectInfo{}, err
	}
	info, err := w.inner.Head(ctx, name)
	if err != nil {
		return ObjectInfo{}, err
	}
	return clean(info, key), nil
}

func (w *longKeys) Delete(ctx context.Context, key string) error {
	name, err := w.stored(key)
	if err != nil {
		return err
	}
	return w.inner.Delete(ctx, name)
}

func (w *longKeys) Close() error {
	if c, ok := w.inner.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
