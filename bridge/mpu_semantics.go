package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/flashback-network/flashback/storage"
	"github.com/versity/versitygw/s3err"
	"github.com/versity/versitygw/s3response"
)

// uploadsAfterMarkers keeps the uploads (sorted by key, then initiation)
// that a ListMultipartUploads page with these markers starts from, as S3
// does: with only key-marker, the uploads of later keys; with an
// upload-id-marker too, also the uploads of key-marker's key after that
// upload. A key-marker that is a common prefix (it ends with the
// delimiter) skips every key under it, which the previous page rolled up.
func uploadsAfterMarkers(uploads []s3response.Upload, prefix, delimiter, keyMarker, uploadIDMarker string) []s3response.Upload {
	if keyMarker == "" {
		return uploads
	}
	skipUnder := ""
	if delimiter != "" && strings.HasPrefix(keyMarker, prefix) && strings.HasSuffix(keyMarker, delimiter) {
		skipUnder = keyMarker
	}
	out := uploads[:0:0]
	afterID := false
	for _, u := range uploads {
		switch {
		case skipUnder != "" && strings.HasPrefix(u.Key, skipUnder):
		case u.Key > keyMarker:
			out = append(out, u)
		case u.Key == keyMarker && uploadIDMarker != "":
			if afterID {
				out = append(out, u)
			}
			afterID = afterID || u.UploadID == uploadIDMarker
		}
	}
	return out
}

// completedUpload is what a completed upload's metadata keeps, so that a
// repeated CompleteMultipartUpload answers the same result (S3 does, for
// clients retrying a completion whose answer they lost).
type completedUpload struct {
	ETag string    `json:"etag"`
	At   time.Time `json:"at"`
	// Receipt is the header value of the completion's receipt, answered
	// again to a repeated completion ("" if none was signed).
	Receipt string `json:"receipt,omitempty"`
}

// completedTTL is how long a completed upload's metadata is kept for
// repeated completions; older ones are removed by sweepUploads.
const completedTTL = 24 * time.Hour

func completeResult(br bucketRef, key, etag string) s3response.CompleteMultipartUploadResult {
	loc := "/" + br.res.ID + "/" + key
	return s3response.CompleteMultipartUploadResult{Location: &loc, Bucket: &br.res.ID, Key: &key, ETag: ptr(quote(etag))}
}

// markCompleted rewrites an upload's metadata as completed with the
// object it made.
func (g *gateway) markCompleted(ctx context.Context, br bucketRef, id string, m uploadMeta, info storage.ObjectInfo, rcpt string) error {
	m.Done = &completedUpload{ETag: info.ETag, At: time.Now().UTC(), Receipt: rcpt}
	m.UserMeta = nil
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if _, err := g.write(ctx, br, metaKey(br, id), bytes.NewReader(data), int64(len(data)), storage.ObjectMeta{ContentType: "application/json"}, nil); err != nil {
		return err
	}
	br.st.ingress.Add(-int64(len(data))) // bookkeeping, not client ingress
	return nil
}

// completedAgain answers a CompleteMultipartUpload of an upload already
// completed: the same result while the key still holds the object it made,
// else NoSuchUpload (as S3 once the object was overwritten or deleted).
func (g *gateway) completedAgain(ctx context.Context, br bucketRef, id, key string, m uploadMeta) (s3response.CompleteMultipartUploadResult, string, error) {
	info, err := br.be.Head(ctx, br.key(key))
	if err != nil || info.ETag != m.Done.ETag {
		return s3response.CompleteMultipartUploadResult{}, "", s3err.GetNoSuchUploadErr(id)
	}
	setReceiptHeader(ctx, m.Done.Receipt)
	return completeResult(br, key, info.ETag), "", nil
}

// partStillWanted is checked after a part is stored: if its upload was
// aborted or completed meanwhile, nothing will ever list or remove the
// part, so it removes it (and its charge) itself. AbortMultipartUpload
// deletes the metadata before the parts, so every part is removed by one
// side or the other.
func (g *gateway) partStillWanted(ctx context.Context, br bucketRef, id, key string, n int32) error {
	_, err := g.upload(ctx, br, id, key)
	if se, ok := asS3(err); err == nil || !ok || se.BaseError().Code != "NoSuchUpload" {
		// Wanted, or the metadata could not be read: the part stays (if
		// its upload did end, sweepUploads removes it later).
		return nil
	}
	if derr := g.deleteKey(ctx, br, partKey(br, id, n)); derr != nil {
		return fmt.Errorf("removing part %d of ended upload %s: %w", n, id, derr)
	}
	return err
}

// partRange resolves ?partNumber=n of an object: the Range header that
// selects the part ("" for the whole object: part 1 of an object not made
// by a multipart upload) and the parts count to answer. The parts of a
// multipart object are those its extras record. A part number past the
// last part is refused with 400 InvalidPartNumber.
func (g *gateway) partRange(ctx context.Context, br bucketRef, key string, info storage.ObjectInfo, n int32) (string, int32, error) {
	var parts []partRecord
	if _, count := storedChecksum(info.UserMeta); count > 0 || etagParts(info.ETag) > 0 {
		e, err := g.getExtra(ctx, br, key)
		if err != nil {
			return "", 0, err
		}
		var total int64
		for _, p := range e.Parts {
			total += p.Size
		}
		if total == info.Size {
			parts = e.Parts
		}
	}
	if len(parts) == 0 {
		if n != 1 {
			return "", 0, invalidPartNumber(n, 1)
		}
		return "", 1, nil
	}
	if n < 1 || int(n) > len(parts) {
		return "", 0, invalidPartNumber(n, len(parts))
	}
	var start int64
	for _, p := range parts[:n-1] {
		start += p.Size
	}
	size := parts[n-1].Size
	if size == 0 {
		return "", int32(len(parts)), nil
	}
	return fmt.Sprintf("bytes=%d-%d", start, start+size-1), int32(len(parts)), nil
}

func invalidPartNumber(n int32, parts int) error {
	return s3err.APIError{Code: "InvalidPartNumber",
		Description:    fmt.Sprintf("The requested partnumber is not satisfiable: part %d of an object of %d part(s).", n, parts),
		HTTPStatusCode: http.StatusBadRequest}
}

// sweepUploads removes, when a bridge first uses a reservation, what ended
// multipart uploads left behind: parts whose upload is gone (a part that
// was streaming when the upload was aborted, before a crash or a restart
// could remove it), the parts of completed uploads, and completed uploads'
// metadata older than completedTTL. None of it can be listed or removed by
// clients, yet it would count against the quota.
func sweepUploads(ctx context.Context, be storage.Backend, res string) error {
	dir := res + "/" + mpuDir
	type upload struct {
		meta  *storage.ObjectInfo
		parts []string
	}
	var order []string
	uploads := map[string]*upload{}
	after := ""
	for {
		batch, err := be.List(ctx, dir, after, 1000)
		if err != nil {
			return fmt.Errorf("sweep uploads of %s: %w", res, err)
		}
		for i, o := range batch {
			id, name, _ := strings.Cut(strings.TrimPrefix(o.Key, dir), "/")
			u := uploads[id]
			if u == nil {
				u = &upload{}
				uploads[id] = u
				order = append(order, id)
			}
			if name == "meta" {
				u.meta = &batch[i]
			} else {
				u.parts = append(u.parts, o.Key)
			}
		}
		if len(batch) < 1000 {
			break
		}
		after = batch[len(batch)-1].Key
	}
	for _, id := range order {
		u := uploads[id]
		remove := u.parts
		if u.meta != nil && (len(u.parts) > 0 || time.Since(u.meta.LastModified) > completedTTL) {
			done, err := uploadDone(ctx, be, u.meta.Key)
			if err != nil {
				return fmt.Errorf("sweep upload %s of %s: %w", id, res, err)
			}
			if !done {
				remove = nil // pending: its parts are wanted
			} else if time.Since(u.meta.LastModified) > completedTTL {
				remove = append(remove, u.meta.Key)
			}
		}
		for _, k := range remove {
			if err := be.Delete(ctx, k); err != nil {
				return fmt.Errorf("sweep upload %s of %s: %w", id, res, err)
			}
		}
	}
	return nil
}

// uploadDone reads an upload's metadata and says whether it is completed.
func uploadDone(ctx context.Context, be storage.Backend, metaKey string) (bool, error) {
	rc, _, err := be.Get(ctx, metaKey, nil)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer rc.Close()
	var m uploadMeta
	if err := json.NewDecoder(io.LimitReader(rc, 1<<20)).Decode(&m); err != nil {
		return false, nil // unreadable: leave it alone
	}
	return m.Done != nil, nil
}

// etagParts is the part count an object's ETag tells ("<md5>-<parts>", as a
// backend's own multipart upload makes it), 0 if none.
func etagParts(etag string) int {
	_, n, ok := strings.Cut(strings.Trim(etag, `"`), "-")
	if !ok {
		return 0
	}
	parts, err := strconv.Atoi(n)
	if err != nil || parts < 1 {
		return 0
	}
	return parts
}
