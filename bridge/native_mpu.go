package bridge

import (
	"context"
	"io"
	"sort"

	"github.com/flashback-network/flashback/storage"
	"github.com/versity/versitygw/s3response"
)

// Multipart uploads on backends with uploads of their own (storage.Uploader,
// the S3 backend): the upload's metadata object is kept under .fb-mpu/ as
// for every backend (ListMultipartUploads, ownership checks), but its parts
// stream straight into the backend's upload (uploadMeta.Native is its id)
// and completion is the backend's CompleteMultipartUpload, so no byte is
// copied again. Pending parts count towards the reservation's stored bytes
// like parts stored as objects, also for a bridge restarted while an
// upload is pending (pendingNativeBytes).

// startNative starts the backend's upload for m when the backend has them.
func (g *gateway) startNative(ctx context.Context, br bucketRef, m *uploadMeta) error {
	u, ok := br.be.(storage.Uploader)
	if !ok {
		return nil
	}
	id, err := u.CreateUpload(ctx, br.key(m.Key), storage.ObjectMeta{ContentType: m.ContentType, UserMeta: m.UserMeta})
	if err != nil {
		return s3Error(err, m.Key)
	}
	m.Native = id
	return nil
}

// nativePart streams part n into the backend's upload under the quota: the
// part's bytes are reserved before any is read, and a part replacing one of
// the same number gives the old one's bytes back.
func (g *gateway) nativePart(ctx context.Context, br bucketRef, m uploadMeta, n int32, body io.Reader, size int64) (storage.ObjectInfo, error) {
	u := br.be.(storage.Uploader)
	bkey := br.key(m.Key)
	var oldSize int64
	parts, err := u.UploadParts(ctx, bkey, m.Native)
	if err != nil {
		return storage.ObjectInfo{}, s3Error(err, m.Key)
	}
	for _, p := range parts {
		if p.Num == int(n) {
			oldSize = p.Size
		}
	}
	if err := br.st.reserve(br.res, size); err != nil {
		return storage.ObjectInfo{}, err
	}
	lb := &limitedBody{r: body, max: size, res: br.st, m: g.b.metrics}
	p, err := u.PutUploadPart(ctx, bkey, m.Native, int(n), lb, size)
	if err != nil {
		br.st.release(size)
		return storage.ObjectInfo{}, s3Error(bodyError(lb, err), m.Key)
	}
	br.st.commit(size, p.Size-oldSize)
	br.st.ingress.Add(p.Size)
	return storage.ObjectInfo{Size: p.Size, ETag: p.ETag, LastModified: p.LastModified}, nil
}

// nativeParts lists the parts of the backend's upload after afterPart, at
// most limit of them (0: all), and whether more follow.
func (g *gateway) nativeParts(ctx context.Context, br bucketRef, m uploadMeta, afterPart int32, limit int) ([]s3response.Part, bool, error) {
	ps, err := br.be.(storage.Uploader).UploadParts(ctx, br.key(m.Key), m.Native)
	if err != nil {
		return nil, false, err
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Num < ps[j].Num })
	var out []s3response.Part
	for _, p := range ps {
		if p.Num <= int(afterPart) {
			continue
		}
		if limit > 0 && len(out) == limit {
			return out, true, nil
		}
		out = append(out, s3response.Part{PartNumber: p.Num, ETag: quote(p.ETag), Size: p.Size, LastModified: p.LastModified})
	}
	return out, false, nil
}

// completeNative completes the backend's upload with the chosen parts and
// gives back the bytes of every pending part (the object's own bytes are
// charged by the caller).
func (g *gateway) completeNative(ctx context.Context, br bucketRef, m uploadMeta, use []s3response.Part, all []s3response.Part) (storage.ObjectInfo, error) {
	parts := make([]storage.UploadPart, len(use))
	for i, p := range use {
		parts[i] = storage.UploadPart{Num: p.PartNumber, ETag: unquote(p.ETag), Size: p.Size}
	}
	info, err := br.be.(storage.Uploader).CompleteUpload(ctx, br.key(m.Key), m.Native, parts)
	if err != nil {
		return storage.ObjectInfo{}, err
	}
	var pending int64
	for _, p := range all {
		pending += p.Size
	}
	br.st.adjust(-pending)
	return info, nil
}

// abortNative drops the backend's upload and gives its parts' bytes back.
func (g *gateway) abortNative(ctx context.Context, br bucketRef, m uploadMeta) error {
	all, _, err := g.nativeParts(ctx, br, m, 0, 0)
	if err != nil {
		return err
	}
	if err := br.be.(storage.Uploader).AbortUpload(ctx, br.key(m.Key), m.Native); err != nil {
		return err
	}
	var pending int64
	for _, p := range all {
		pending += p.Size
	}
	br.st.adjust(-pending)
	return nil
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// uploadParts lists an upload's parts: the backend's for a native upload,
// else the part objects.
func (g *gateway) uploadParts(ctx context.Context, br bucketRef, m uploadMeta, id string, afterPart int32, limit int) ([]s3response.Part, bool, error) {
	if m.Native != "" {
		return g.nativeParts(ctx, br, m, afterPart, limit)
	}
	return g.parts(ctx, br, id, afterPart, limit)
}
