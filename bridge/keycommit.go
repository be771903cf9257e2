package bridge

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/flashback-network/flashback/storage"
)

// keyLocks coordinates the writers (puts, copies, multipart completions,
// deletes) of one backend key. S3 lets writers of one key proceed
// concurrently, the last to complete winning, so no lock is held while a
// body streams: the per-key lock only covers the short sections that read
// what the key holds (for preconditions and the quota reservation) and that
// account the result of a write.
//
// Accounting stays exact without serializing writers: each entry records
// the object the reservation's stored bytes are charged for under its key
// (its charge); every write or delete ends, under the lock, by setting the
// charge to what the key holds at that moment. When writers overlapped
// (the entry is contended) that means one HEAD of the key after the write,
// since another writer may have committed in between; otherwise the
// write's own result is what the key holds. The last of the overlapping
// writers to account syncs after the last backend commit, so once they are
// done the charge is the key's real size.
type keyLocks struct {
	mu sync.Mutex
	m  map[string]*keyEntry
}

// keyEntry is the coordination state of one key while operations on it are
// in flight (it is dropped when the last one ends).
type keyEntry struct {
	refs      int         // guarded by keyLocks.mu
	contended atomic.Bool // two operations overlapped during this entry's life

	mu      sync.Mutex // the short per-key lock
	charged bool       // info/exists below are what the accounting charged
	info    storage.ObjectInfo
	exists  bool
	// base/baseExists are what the Head that first charged the entry
	// read (see replaceUnheaded).
	base       storage.ObjectInfo
	baseExists bool
}

func (k *keyLocks) acquire(key string) *keyEntry {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = make(map[string]*keyEntry)
	}
	e := k.m[key]
	if e == nil {
		e = &keyEntry{}
		k.m[key] = e
	}
	e.refs++
	if e.refs > 1 {
		e.contended.Store(true)
	}
	return e
}

func (k *keyLocks) release(key string, e *keyEntry) {
	k.mu.Lock()
	defer k.mu.Unlock()
	e.refs--
	if e.refs == 0 {
		delete(k.m, key)
	}
}

// lock holds key's lock until the returned function is called: for the
// bridge's bookkeeping writes (extras, CORS), which are not accounted and
// must not interleave with each other.
func (k *keyLocks) lock(key string) func() {
	e := k.acquire(key)
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		k.release(key, e)
	}
}

// current returns the object the key is charged for, reading it from the
// backend the first time. Called with e.mu held.
func (e *keyEntry) current(ctx context.Context, be storage.Backend, bkey string) (storage.ObjectInfo, bool, error) {
	if !e.charged {
		info, exists, err := existing(ctx, be, bkey)
		if err != nil {
			return storage.ObjectInfo{}, false, err
		}
		e.info, e.exists, e.charged = info, exists, true
		e.base, e.baseExists = info, exists
	}
	return e.info, e.exists, nil
}

// settle sets the key's charge to what it holds now (written: what this
// operation left there, if nobody else wrote meanwhile) and returns the
// change of stored bytes. Called with e.mu held.
func (e *keyEntry) settle(ctx context.Context, be storage.Backend, bkey string, written storage.ObjectInfo, wrote bool) int64 {
	now, exists := written, wrote
	if e.contended.Load() {
		if info, ok, err := existing(ctx, be, bkey); err == nil {
			now, exists = info, ok
		}
	}
	var before, after int64
	if e.charged && e.exists {
		before = e.info.Size
	}
	if exists {
		after = now.Size
	}
	e.info, e.exists, e.charged = now, exists, true
	return after - before
}

func sizeIf(info storage.ObjectInfo, exists bool) int64 {
	if !exists {
		return 0
	}
	return info.Size
}

// keyWrite describes a write of one backend key for replaceKey.
type keyWrite struct {
	// size is the size of the object the write makes, for the quota
	// reservation; reserve=false skips the reservation (multipart
	// completion: its parts are already charged).
	size    int64
	reserve bool
	// check, when set, is evaluated against the key's current object
	// before the write (preconditions). A conditional write holds the
	// per-key lock for its whole duration: the condition must still hold
	// when it commits, which the backends cannot check for us.
	check func(old storage.ObjectInfo, exists bool) error
	// op performs the write and returns the written object.
	op func(ctx context.Context) (storage.ObjectInfo, error)
	// replace, when set (the backend is a storage.Replacer), performs the
	// same write and also reports the object it replaced, so that the
	// write needs no Head before it (replaceUnheaded).
	replace func(ctx context.Context) (storage.ObjectInfo, storage.Replaced, error)
}

// replaceKey runs w on bkey of br under the quota, with the accounting
// described on keyLocks. On failure nothing is charged.
func (g *gateway) replaceKey(ctx context.Context, br bucketRef, bkey string, w keyWrite) (storage.ObjectInfo, error) {
	e := g.b.locks.acquire(bkey)
	defer g.b.locks.release(bkey, e)
	e.mu.Lock()
	locked := true
	defer func() {
		if locked {
			e.mu.Unlock()
		}
	}()
	if w.replace != nil && w.check == nil && w.reserve && !uncharged(bkey) && !e.charged && !e.contended.Load() {
		if info, handled, err := g.replaceUnheaded(ctx, br, bkey, e, w); handled {
			return info, err
		}
	}
	old, exists, err := e.current(ctx, br.be, bkey)
	if err != nil {
		return storage.ObjectInfo{}, s3Error(err, br.name(bkey))
	}
	if w.check != nil {
		if err := w.check(old, exists); err != nil {
			return storage.ObjectInfo{}, err
		}
	}
	var reserved int64
	free := uncharged(bkey)
	if w.reserve && !free {
		reserved = w.size - sizeIf(old, exists)
		if err := br.st.reserve(br.res, reserved); err != nil {
			return storage.ObjectInfo{}, err
		}
	}
	if w.check == nil {
		e.mu.Unlock()
		locked = false
	}
	info, err := w.op(ctx)
	if !locked {
		e.mu.Lock()
		locked = true
	}
	if err != nil {
		br.st.release(reserved)
		// A failed write leaves the key as it was, but a contended entry
		// may have missed another writer's commit: resync.
		if e.contended.Load() {
			br.st.adjust(chargeOf(free, e.settle(ctx, br.be, bkey, e.info, e.exists)))
		}
		return storage.ObjectInfo{}, err
	}
	br.st.commit(reserved, chargeOf(free, e.settle(ctx, br.be, bkey, info, true)))
	return info, nil
}

// uncharged says whether a backend key is bookkeeping the reservation is
// not charged for: the metadata of multipart uploads
// ("<res>/.fb-mpu/<id>/meta") and the checksums kept beside their parts
// ("<res>/.fb-mpu/<id>/sNNNNN", partSumKey) and their SHA-256s for receipts
// ("<res>/.fb-mpu/<id>/hNNNNN", partHashKey); clients cannot write keys
// under .fb-mpu/. S3 charges for none of it; the parts are charged.
func uncharged(bkey string) bool {
	_, rel, _ := strings.Cut(bkey, "/")
	if !strings.HasPrefix(rel, mpuDir) {
		return false
	}
	name := rel[strings.LastIndexByte(rel, '/')+1:]
	return name == "meta" || (len(name) == 6 && (name[0] == 's' || name[0] == 'h'))
}

func chargeOf(free bool, delta int64) int64 {
	if free {
		return 0
	}
	return delta
}

// deleteKey removes bkey and gives its bytes back to the quota.
func (g *gateway) deleteKey(ctx context.Context, br bucketRef, bkey string) error {
	e := g.b.locks.acquire(bkey)
	defer g.b.locks.release(bkey, e)
	e.mu.Lock()
	defer e.mu.Unlock()
	_, exists, err := e.current(ctx, br.be, bkey)
	if err != nil {
		return err
	}
	// A contended key may hold a write not accounted yet: delete anyway.
	if !exists && !e.contended.Load() {
		return nil
	}
	if err := br.be.Delete(ctx, bkey); err != nil {
		return err
	}
	br.st.adjust(chargeOf(uncharged(bkey), e.settle(ctx, br.be, bkey, storage.ObjectInfo{}, false)))
	return nil
}
