package bridge

import (
	"context"
	"io"

	"github.com/flashback-network/flashback/storage"
)

// writeReplacing is write without a Head before the Put, for backends that
// report what a Put replaced (storage.Replacer) and writes with nothing to
// check against the old object. The whole size is reserved up front (as
// if the key were new) and the reservation is settled with the replaced
// object's size once the Put has committed. When the reservation does not
// fit the quota, handled is false and the caller takes the exact path
// (Head, then reserve the difference), so an overwrite that fits only
// because it replaces a bigger object is still accepted.
func (g *gateway) writeReplacing(ctx context.Context, br bucketRef, rp storage.Replacer, bkey string, body io.Reader,
	size int64, meta storage.ObjectMeta) (info storage.ObjectInfo, handled bool, err error) {
	unlock := g.b.locks.lock(bkey)
	defer unlock()
	if br.st.reserve(br.res, size) != nil {
		return storage.ObjectInfo{}, false, nil
	}
	lb := &limitedBody{r: body, max: size, res: br.st, m: g.b.metrics}
	info, old, err := rp.PutReplace(ctx, bkey, lb, size, meta)
	if err != nil {
		br.st.release(size)
		return storage.ObjectInfo{}, true, s3Error(bodyError(lb, err), bkey)
	}
	br.st.commit(size, info.Size-old.Size)
	br.st.ingress.Add(info.Size)
	return info, true, nil
}
