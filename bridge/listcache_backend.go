package bridge

import (
	"context"
	"io"
	"reflect"

	"github.com/flashback-network/flashback/storage"
)

// cachedBackend is a backend with a listCache in front of its List: every
// call of the bridge to the backend goes through it, so it sees every
// write. Reads other than List pass straight through.
//
// It wraps only backends that are also Composer, Replacer and Uploader (the
// S3 backend), so that it offers the same optional interfaces as what it
// wraps; a backend with cheap listings of its own (local disk) gains
// nothing from it.
type cachedBackend struct {
	fullBackend
	c *listCache
}

type fullBackend interface {
	storage.Backend
	storage.Composer
	storage.Replacer
	storage.Uploader
}

var _ fullBackend = (*cachedBackend)(nil)

// withListCache puts a listing cache of budget bytes in front of be, when
// be is a backend it applies to and budget is not negative (0: default).
func withListCache(be storage.Backend, budget int64) storage.Backend {
	fb, ok := be.(fullBackend)
	if !ok || budget < 0 || be == nil {
		return be
	}
	if budget == 0 {
		budget = defaultListCacheBytes
	}
	return &cachedBackend{fullBackend: fb, c: newListCache(budget)}
}

func (b *cachedBackend) List(ctx context.Context, prefix, startAfter string, limit int) ([]storage.ObjectInfo, error) {
	name, ok := cacheableList(prefix, startAfter)
	if !ok {
		return b.fullBackend.List(ctx, prefix, startAfter, limit)
	}
	if limit <= 0 {
		limit = 1000
	}
	s := b.c.space(name)
	if objs, ok := s.serve(prefix, startAfter, limit); ok {
		return objs, nil
	}
	sc := s.startScan()
	objs, err := b.fullBackend.List(ctx, prefix, startAfter, limit)
	s.finishScan(sc, prefix, startAfter, limit, objs, err)
	b.c.evict(s)
	return objs, err
}

func putOutcome(info storage.ObjectInfo, err error) writeOutcome {
	return writeOutcome{ok: err == nil, exists: true, size: info.Size}
}

func (b *cachedBackend) Put(ctx context.Context, key string, r io.Reader, size int64, meta storage.ObjectMeta) (storage.ObjectInfo, error) {
	end := b.c.beginWrite(key)
	info, err := b.fullBackend.Put(ctx, key, r, size, meta)
	end(putOutcome(info, err))
	return info, err
}

// PutReplace answers what the write replaced from the cache when it knows,
// which saves the backend's Head.
func (b *cachedBackend) PutReplace(ctx context.Context, key string, r io.Reader, size int64, meta storage.ObjectMeta) (storage.ObjectInfo, storage.Replaced, error) {
	end, old, known := b.c.beginReplace(key)
	if known {
		info, err := b.fullBackend.Put(ctx, key, r, size, meta)
		end(putOutcome(info, err))
		if err != nil {
			return storage.ObjectInfo{}, storage.Replaced{}, err
		}
		return info, old, nil
	}
	info, old, err := b.fullBackend.PutReplace(ctx, key, r, size, meta)
	end(putOutcome(info, err))
	return info, old, err
}

func (b *cachedBackend) Delete(ctx context.Context, key string) error {
	end := b.c.beginWrite(key)
	err := b.fullBackend.Delete(ctx, key)
	end(writeOutcome{ok: err == nil})
	return err
}

func (b *cachedBackend) Copy(ctx context.Context, src, dst string) (storage.ObjectInfo, error) {
	end := b.c.beginWrite(dst)
	info, err := b.fullBackend.Copy(ctx, src, dst)
	end(putOutcome(info, err))
	return info, err
}

func (b *cachedBackend) Compose(ctx context.Context, dst string, parts []string, meta storage.ObjectMeta) (storage.ObjectInfo, error) {
	end := b.c.beginWrite(dst)
	info, err := b.fullBackend.Compose(ctx, dst, parts, meta)
	end(putOutcome(info, err))
	return info, err
}

func (b *cachedBackend) CompleteUpload(ctx context.Context, key, uploadID string, parts []storage.UploadPart) (storage.ObjectInfo, error) {
	end := b.c.beginWrite(key)
	info, err := b.fullBackend.CompleteUpload(ctx, key, uploadID, parts)
	end(putOutcome(info, err))
	return info, err
}

// withListCaches puts a listing cache in front of each backend of a
// Config (one per backend value, shared by the units that share it).
func withListCaches(def storage.Backend, units map[string]storage.Backend, budget int64) (storage.Backend, map[string]storage.Backend) {
	done := map[storage.Backend]storage.Backend{}
	wrap := func(be storage.Backend) storage.Backend {
		if be == nil || !reflect.TypeOf(be).Comparable() {
			return withListCache(be, budget)
		}
		if w, ok := done[be]; ok {
			return w
		}
		w := withListCache(be, budget)
		done[be] = w
		return w
	}
	out := make(map[string]storage.Backend, len(units))
	for u, be := range units {
		out[u] = wrap(be)
	}
	return wrap(def), out
}
