package bridge

import (
	"context"

	"github.com/flashback-network/flashback/storage"
)

// replaceUnheaded is replaceKey's path without a Head before the write, for
// an unconditional write of a key nobody else is using when it starts, on a
// backend that reports what a write replaced (storage.Replacer). The whole
// size is reserved (as if the key were new) and the charge is settled with
// the replaced object's size once the write has committed. When the whole
// size does not fit the quota, handled is false and the caller takes the
// Head path, so an overwrite that fits only because it replaces a bigger
// object is still accepted.
//
// Writers that start while this one streams find the entry contended and
// take the Head path; the first of them charges the entry from its Head.
// That Head either came before this write committed (it read what the
// stored bytes are charged for: the chain of charges is exact, and this
// write settles like any contended writer) or after (it read this write's
// object, not yet accounted: this write then also adds its own change,
// written minus replaced). The two are told apart by the Head's ETag and
// size; the corner case is a write whose content is identical to the
// object the Head read before it committed, where both readings agree
// anyway unless a third writer committed in between.
//
// Called, and returns, with e.mu held; e is uncharged and uncontended.
func (g *gateway) replaceUnheaded(ctx context.Context, br bucketRef, bkey string, e *keyEntry, w keyWrite) (storage.ObjectInfo, bool, error) {
	if br.st.reserve(br.res, w.size) != nil {
		return storage.ObjectInfo{}, false, nil
	}
	e.mu.Unlock()
	info, old, err := w.replace(ctx)
	e.mu.Lock()
	if err != nil {
		br.st.release(w.size)
		if e.charged && e.contended.Load() {
			br.st.adjust(e.settle(ctx, br.be, bkey, e.info, e.exists))
		}
		return storage.ObjectInfo{}, true, err
	}
	replaced := int64(0)
	if old.Existed {
		replaced = old.Size
	}
	var delta int64
	if !e.charged {
		// Nobody charged the key meanwhile: the stored bytes hold what
		// this write replaced.
		e.info, e.exists, e.charged = storage.ObjectInfo{Size: replaced}, old.Existed, true
	} else if e.baseExists && e.base.ETag == info.ETag && e.base.Size == info.Size {
		// The chain began from a Head that already read this object.
		delta = info.Size - replaced
	}
	delta += e.settle(ctx, br.be, bkey, info, true)
	br.st.commit(w.size, delta)
	return info, true, nil
}
