package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/flashback-network/flashback/storage"
)

// pendingNativeBytes sums the parts of the reservation's pending native
// uploads (native_mpu.go): they live in the backend's own uploads, not as
// objects, so a bridge loading a reservation's usage after a restart would
// not see them in its listing although they are charged until the upload
// completes or is aborted.
func pendingNativeBytes(ctx context.Context, be storage.Backend, res string) (int64, error) {
	u, ok := be.(storage.Uploader)
	if !ok {
		return 0, nil
	}
	dir := res + "/" + mpuDir
	var total int64
	after := ""
	for {
		batch, err := be.List(ctx, dir, after, 1000)
		if err != nil {
			return 0, fmt.Errorf("pending uploads of %s: %w", res, err)
		}
		for _, o := range batch {
			if !strings.HasSuffix(o.Key, "/meta") {
				continue
			}
			m, ok := readUploadMeta(ctx, be, o.Key)
			if !ok || m.Native == "" || m.Done != nil {
				continue
			}
			parts, err := u.UploadParts(ctx, res+"/"+encodeKey(m.Key), m.Native)
			if err != nil {
				continue // the backend's upload is gone: nothing charged
			}
			for _, p := range parts {
				total += p.Size
			}
		}
		if len(batch) < 1000 {
			return total, nil
		}
		after = batch[len(batch)-1].Key
	}
}

func readUploadMeta(ctx context.Context, be storage.Backend, key string) (uploadMeta, bool) {
	var m uploadMeta
	rc, _, err := be.Get(ctx, key, nil)
	if err != nil {
		return m, false
	}
	defer rc.Close()
	if err := json.NewDecoder(io.LimitReader(rc, 1<<20)).Decode(&m); err != nil {
		return m, false
	}
	return m, true
}
