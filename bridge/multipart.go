package bridge

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/flashback-network/flashback/storage"
	vbackend "github.com/versity/versitygw/backend"
	"github.com/versity/versitygw/s3err"
	"github.com/versity/versitygw/s3response"
)

// Multipart uploads live under hidden keys of the reservation:
//
//	<res>/.fb-mpu/<uploadId>/meta      JSON uploadMeta
//	<res>/.fb-mpu/<uploadId>/p00001    part 1, ...
//
// Parts count towards the reservation's stored bytes (and quota) while the
// upload is pending; CompleteMultipartUpload composes the listed parts into
// the object and deletes every part, AbortMultipartUpload deletes them.

// minPartSize is S3's minimum size of every part but the last.
const minPartSize = 5 << 20

type uploadMeta struct {
	Key         string            `json:"key"`
	ContentType string            `json:"content_type,omitempty"`
	UserMeta    map[string]string `json:"user_meta,omitempty"`
	Initiated   time.Time         `json:"initiated"`
	Initiator   string            `json:"initiator,omitempty"`
	// Tags, from x-amz-tagging, are the object's once completed.
	Tags map[string]string `json:"tags,omitempty"`
	// ChecksumAlgo and ChecksumType are the upload's checksum (empty: none).
	ChecksumAlgo types.ChecksumAlgorithm `json:"checksum_algorithm,omitempty"`
	ChecksumType types.ChecksumType      `json:"checksum_type,omitempty"`
	// Done is set once the upload is completed (see completedUpload).
	Done   *completedUpload `json:"done,omitempty"`
	Native string           `json:"native,omitempty"` // the backend's own upload id (native_mpu.go)
}

func uploadDir(br bucketRef, id string) string { return br.key(mpuDir + id + "/") }
func metaKey(br bucketRef, id string) string   { return uploadDir(br, id) + "meta" }
func partKey(br bucketRef, id string, n int32) string {
	return fmt.Sprintf("%sp%05d", uploadDir(br, id), n)
}

func validUploadID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

func encodeToken(marker string) string { return base64.RawURLEncoding.EncodeToString([]byte(marker)) }

func decodeToken(tok string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	return string(b), err
}

// upload loads a pending upload's metadata, checking that it belongs to
// key.
func (g *gateway) upload(ctx context.Context, br bucketRef, id, key string) (uploadMeta, error) {
	m, err := g.loadUpload(ctx, br, id, key)
	if err == nil && m.Done != nil {
		return uploadMeta{}, s3err.GetNoSuchUploadErr(id)
	}
	return m, err
}

// loadUpload loads an upload's metadata, pending or completed.
func (g *gateway) loadUpload(ctx context.Context, br bucketRef, id, key string) (uploadMeta, error) {
	var m uploadMeta
	if !validUploadID(id) {
		return m, s3err.GetNoSuchUploadErr(id)
	}
	rc, _, err := br.be.Get(ctx, metaKey(br, id), nil)
	if errors.Is(err, storage.ErrNotFound) {
		return m, s3err.GetNoSuchUploadErr(id)
	}
	if err != nil {
		return m, err
	}
	defer rc.Close()
	if err := json.NewDecoder(io.LimitReader(rc, 1<<20)).Decode(&m); err != nil {
		return m, fmt.Errorf("upload %s metadata: %w", id, err)
	}
	if key != "" && m.Key != key {
		return m, s3err.GetNoSuchUploadErr(id)
	}
	return m, nil
}

func (g *gateway) CreateMultipartUpload(ctx context.Context, in s3response.CreateMultipartUploadInput) (s3response.InitiateMultipartUploadResult, error) {
	var out s3response.InitiateMultipartUploadResult
	br, key, err := g.object(ctx, in.Bucket, in.Key)
	if err != nil {
		return out, err
	}
	var idb [16]byte
	if _, err := rand.Read(idb[:]); err != nil {
		return out, err
	}
	id := hex.EncodeToString(idb[:])
	sc := string(in.StorageClass)
	if sc == "" {
		sc = requestHeader(ctx, "X-Amz-Storage-Class")
	}
	if err := checkStorageClass(sc); err != nil {
		return out, err
	}
	tags, err := parseTagHeader(in.Tagging)
	if err != nil {
		return out, err
	}
	meta, err := objectMeta(deref(in.ContentType), in.Metadata,
		newObjectHeaders(in.CacheControl, in.Expires, in.ContentEncoding, in.ContentDisposition, in.ContentLanguage))
	if err != nil {
		return out, err
	}
	m := uploadMeta{Key: key, ContentType: meta.ContentType, UserMeta: meta.UserMeta, Initiated: time.Now().UTC(),
		Tags: tags, ChecksumAlgo: in.ChecksumAlgorithm, ChecksumType: in.ChecksumType}
	if err := g.startNative(ctx, br, &m); err != nil {
		return out, err
	}
	data, err := json.Marshal(m)
	if err != nil {
		return out, err
	}
	if _, err := g.write(ctx, br, metaKey(br, id), bytes.NewReader(data), int64(len(data)), storage.ObjectMeta{ContentType: "application/json"}, nil); err != nil {
		return out, err
	}
	br.st.ingress.Add(-int64(len(data))) // bookkeeping, not client ingress
	return s3response.InitiateMultipartUploadResult{Bucket: br.res.ID, Key: key, UploadId: id}, nil
}

func (g *gateway) UploadPart(ctx context.Context, in *s3.UploadPartInput) (*s3.UploadPartOutput, error) {
	br, key, err := g.object(ctx, in.Bucket, in.Key)
	if err != nil {
		return nil, err
	}
	id := deref(in.UploadId)
	m, err := g.upload(ctx, br, id, key)
	if err != nil {
		return nil, err
	}
	n := deref(in.PartNumber)
	if n < 1 || n > 10000 {
		return nil, s3err.GetInvalidArgumentErr(s3err.InvalidArgPartNumber, strconv.Itoa(int(n)))
	}
	body, sum, err := bodyChecksum(in.Body, in.ChecksumAlgorithm, map[types.ChecksumAlgorithm]*string{
		types.ChecksumAlgorithmCrc32: in.ChecksumCRC32, types.ChecksumAlgorithmCrc32c: in.ChecksumCRC32C,
		types.ChecksumAlgorithmSha1: in.ChecksumSHA1, types.ChecksumAlgorithmSha256: in.ChecksumSHA256,
		types.ChecksumAlgorithmCrc64nvme: in.ChecksumCRC64NVME,
	})
	if err != nil {
		return nil, err
	}
	if body, sum, err = partBody(m, body, sum); err != nil {
		return nil, err
	}
	body, digest, release := g.digestBody(body, deref(in.ContentLength), in.Body)
	defer release()
	var meta storage.ObjectMeta
	sealChecksum(&meta, sum, headerChecksum(in.ChecksumCRC32, in.ChecksumCRC32C, in.ChecksumCRC64NVME, in.ChecksumSHA1, in.ChecksumSHA256))
	var info storage.ObjectInfo
	if m.Native != "" {
		info, err = g.nativePart(ctx, br, m, n, body, deref(in.ContentLength))
	} else {
		info, err = g.write(ctx, br, partKey(br, id, n), body, deref(in.ContentLength), meta, nil)
	}
	if err != nil {
		return nil, err
	}
	if err := g.partStillWanted(ctx, br, id, key, n); err != nil {
		return nil, err
	}
	a, v := sum()
	if err := g.keepPartSum(ctx, br, id, n, info, objChecksum{algo: a, typ: types.ChecksumTypeFullObject, value: v}); err != nil {
		return nil, err
	}
	g.keepPartHash(ctx, br, id, n, info, digest)
	f := toFields(a, v)
	return &s3.UploadPartOutput{
		ETag:          ptr(quote(info.ETag)),
		ChecksumCRC32: f.CRC32, ChecksumCRC32C: f.CRC32C, ChecksumCRC64NVME: f.CRC64NVME,
		ChecksumSHA1: f.SHA1, ChecksumSHA256: f.SHA256,
	}, nil
}

// parts lists the stored parts of an upload, by number.
func (g *gateway) parts(ctx context.Context, br bucketRef, id string, afterPart int32, limit int) ([]s3response.Part, bool, error) {
	dir := uploadDir(br, id)
	after := ""
	if afterPart > 0 {
		after = fmt.Sprintf("%sp%05d", dir, afterPart)
	}
	var out []s3response.Part
	for {
		batch, err := br.be.List(ctx, dir+"p", after, 1000)
		if err != nil {
			return nil, false, err
		}
		for _, o := range batch {
			after = o.Key
			n, err := strconv.Atoi(strings.TrimPrefix(o.Key, dir+"p"))
			if err != nil {
				continue
			}
			if limit > 0 && len(out) == limit {
				return out, true, nil
			}
			out = append(out, s3response.Part{PartNumber: n, ETag: quote(o.ETag), Size: o.Size, LastModified: o.LastModified})
		}
		if len(batch) < 1000 {
			return out, false, nil
		}
	}
}

func (g *gateway) ListParts(ctx context.Context, in *s3.ListPartsInput) (s3response.ListPartsResult, error) {
	var out s3response.ListPartsResult
	br, key, err := g.object(ctx, in.Bucket, in.Key)
	if err != nil {
		return out, err
	}
	id := deref(in.UploadId)
	m, err := g.upload(ctx, br, id, key)
	if err != nil {
		return out, err
	}
	marker := 0
	if s := deref(in.PartNumberMarker); s != "" {
		if marker, err = strconv.Atoi(s); err != nil || marker < 0 {
			return out, invalidArg("Part number marker must be a non-negative integer.")
		}
	}
	max := 1000
	if in.MaxParts != nil && *in.MaxParts >= 0 && *in.MaxParts < 1000 {
		max = int(*in.MaxParts)
	}
	parts, truncated, err := g.uploadParts(ctx, br, m, id, int32(marker), max)
	if err != nil {
		return out, s3Error(err, key)
	}
	out = s3response.ListPartsResult{
		Bucket: br.res.ID, Key: key, UploadID: id, StorageClass: types.StorageClassStandard,
		Initiator: s3response.Initiator{ID: m.Initiator}, Owner: s3response.Owner{ID: m.Initiator},
		PartNumberMarker: marker, MaxParts: max, IsTruncated: truncated, Parts: parts,
	}
	if len(parts) > 0 {
		out.NextPartNumberMarker = parts[len(parts)-1].PartNumber
	}
	return out, g.listedPartSums(ctx, br, id, m, &out)
}

func (g *gateway) ListMultipartUploads(ctx context.Context, in *s3.ListMultipartUploadsInput) (s3response.ListMultipartUploadsResult, error) {
	var out s3response.ListMultipartUploadsResult
	br, err := g.bucket(ctx, deref(in.Bucket))
	if err != nil {
		return out, err
	}
	prefix := deref(in.Prefix)
	var uploads []s3response.Upload
	dir := br.key(mpuDir)
	after := ""
	for {
		batch, err := br.be.List(ctx, dir, after, 1000)
		if err != nil {
			return out, s3Error(err, "")
		}
		for _, o := range batch {
			after = o.Key
			rest := strings.TrimPrefix(o.Key, dir)
			id, name, _ := strings.Cut(rest, "/")
			if name != "meta" {
				continue
			}
			m, err := g.upload(ctx, br, id, "")
			if err != nil {
				continue // aborted meanwhile
			}
			if !strings.HasPrefix(m.Key, prefix) {
				continue
			}
			uploads = append(uploads, s3response.Upload{
				Key: m.Key, UploadID: id, Initiated: m.Initiated, StorageClass: types.StorageClassStandard,
				Initiator: s3response.Initiator{ID: m.Initiator}, Owner: s3response.Owner{ID: m.Initiator},
			})
		}
		if len(batch) < 1000 {
			break
		}
	}
	sort.Slice(uploads, func(i, j int) bool {
		if uploads[i].Key != uploads[j].Key {
			return uploads[i].Key < uploads[j].Key
		}
		if !uploads[i].Initiated.Equal(uploads[j].Initiated) {
			return uploads[i].Initiated.Before(uploads[j].Initiated)
		}
		return uploads[i].UploadID < uploads[j].UploadID
	})
	uploads = uploadsAfterMarkers(uploads, prefix, deref(in.Delimiter), deref(in.KeyMarker), deref(in.UploadIdMarker))
	max := 1000
	if in.MaxUploads != nil && *in.MaxUploads >= 0 && *in.MaxUploads < 1000 {
		max = int(*in.MaxUploads)
	}
	// The markers were applied above (versitygw's lister drops the rest
	// of the marker key's uploads).
	page, err := vbackend.ListMultipartUploads(uploads, prefix, deref(in.Delimiter), "", "", max)
	if err != nil {
		return out, err
	}
	out = s3response.ListMultipartUploadsResult{
		Bucket: br.res.ID, KeyMarker: deref(in.KeyMarker), UploadIDMarker: deref(in.UploadIdMarker),
		NextKeyMarker: page.NextKeyMarker, NextUploadIDMarker: page.NextUploadIDMarker,
		Delimiter: deref(in.Delimiter), Prefix: prefix, MaxUploads: max, IsTruncated: page.IsTruncated,
		Uploads: page.Uploads, CommonPrefixes: page.CommonPrefixes,
	}
	return out, finishUploadsList(ctx, &out)
}

// removeParts deletes the stored parts of an upload and their checksums.
func (g *gateway) removeParts(ctx context.Context, br bucketRef, id string) error {
	if err := g.removePartSums(ctx, br, id); err != nil {
		return err
	}
	parts, _, err := g.parts(ctx, br, id, 0, 0)
	if err != nil {
		return err
	}
	keys := make([]string, len(parts))
	for i, p := range parts {
		keys[i] = partKey(br, id, int32(p.PartNumber))
	}
	return g.deleteKeys(ctx, br, keys)
}

func (g *gateway) AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput) error {
	br, err := g.bucket(ctx, deref(in.Bucket))
	if err != nil {
		return err
	}
	key, err := objectKey(in.Key)
	if err != nil {
		return err
	}
	id := deref(in.UploadId)
	m, err := g.upload(ctx, br, id, key)
	if err != nil {
		return err
	}
	// The meta goes first: a part that commits after this sees the
	// upload gone and removes itself (partStillWanted).
	if err := g.deleteKey(ctx, br, metaKey(br, id)); err != nil {
		return s3Error(err, key)
	}
	if m.Native != "" {
		if err := g.abortNative(ctx, br, m); err != nil {
			return s3Error(err, key)
		}
	}
	return s3Error(g.removeParts(ctx, br, id), key)
}

func (g *gateway) CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput) (s3response.CompleteMultipartUploadResult, string, error) {
	var out s3response.CompleteMultipartUploadResult
	br, key, err := g.object(ctx, in.Bucket, in.Key)
	if err != nil {
		return out, "", err
	}
	id := deref(in.UploadId)
	m, err := g.loadUpload(ctx, br, id, key)
	if err != nil {
		return out, "", err
	}
	if m.Done != nil {
		return g.completedAgain(ctx, br, id, key, m)
	}
	if in.MultipartUpload == nil || len(in.MultipartUpload.Parts) == 0 {
		return out, "", s3err.GetAPIError(s3err.ErrMalformedXML)
	}
	stored, _, err := g.uploadParts(ctx, br, m, id, 0, 0)
	if err != nil {
		return out, "", s3Error(err, key)
	}
	keys, sizes, use, err := selectParts(br, id, in, stored)
	if err != nil {
		return out, "", err
	}

	sum, recs, err := g.completeChecksum(ctx, br, id, m, in, sizes)
	if err != nil {
		return out, "", err
	}

	bkey := br.key(key)
	var check func(storage.ObjectInfo, bool) error
	if in.IfMatch != nil || in.IfNoneMatch != nil {
		check = func(old storage.ObjectInfo, exists bool) error {
			return vbackend.EvaluateObjectPutPreconditions(old.ETag, in.IfMatch, in.IfNoneMatch, exists)
		}
	}
	// No quota reservation: the parts are already charged, and once they
	// are deleted below the object takes no more than they did (the bytes
	// of parts left out of the list are given back).
	// A native upload's metadata was fixed when it began: its checksum and
	// parts are in its extras (afterWrite), its part count in its ETag.
	info, err := g.replaceKey(ctx, br, bkey, keyWrite{check: check,
		op: func(ctx context.Context) (storage.ObjectInfo, error) {
			if m.Native != "" {
				info, err := g.completeNative(ctx, br, m, use, stored)
				return info, s3Error(err, key)
			}
			info, err := storage.Compose(ctx, br.be, bkey, keys, storage.ObjectMeta{ContentType: m.ContentType,
				UserMeta: withBookkeeping(m.UserMeta, sum, len(keys))})
			return info, s3Error(err, key)
		}})
	if err != nil {
		return out, "", err
	}
	if err := g.afterWrite(ctx, br, key, info, sum, m.Tags, recs); err != nil {
		return out, "", err
	}
	rcpt := g.completeReceipt(ctx, br, key, id, info, use)
	if err := g.markCompleted(ctx, br, id, m, info, rcpt); err != nil {
		return out, "", s3Error(err, key)
	}
	if err := g.removeParts(ctx, br, id); err != nil {
		return out, "", s3Error(err, key)
	}
	out = completeResult(br, key, info.ETag)
	setCompleteChecksum(&out, sum)
	return out, "", nil
}

// selectParts checks a CompleteMultipartUpload part list against the stored
// parts (ascending numbers, matching ETags, every part but the last at least
// minPartSize, the declared total size) and returns the parts' keys, sizes
// and records in list order.
func selectParts(br bucketRef, id string, in *s3.CompleteMultipartUploadInput, stored []s3response.Part) ([]string, []int64, []s3response.Part, error) {
	byNum := make(map[int]s3response.Part, len(stored))
	for _, p := range stored {
		byNum[p.PartNumber] = p
	}
	var keys []string
	var sizes []int64
	var use []s3response.Part
	var total int64
	last := int32(0)
	for i, cp := range in.MultipartUpload.Parts {
		n := deref(cp.PartNumber)
		if n <= last {
			return nil, nil, nil, s3err.GetAPIError(s3err.ErrInvalidPartOrder)
		}
		last = n
		p, ok := byNum[int(n)]
		if !ok || strings.Trim(deref(cp.ETag), `"`) != strings.Trim(p.ETag, `"`) {
			return nil, nil, nil, s3err.GetAPIError(s3err.ErrInvalidPart)
		}
		if i < len(in.MultipartUpload.Parts)-1 && p.Size < minPartSize {
			return nil, nil, nil, s3err.GetAPIError(s3err.ErrEntityTooSmall)
		}
		if in.MpuObjectSize != nil && i == len(in.MultipartUpload.Parts)-1 && total+p.Size != *in.MpuObjectSize {
			return nil, nil, nil, s3err.GetIncorrectMpObjectSizeErr(total+p.Size, *in.MpuObjectSize)
		}
		keys = append(keys, partKey(br, id, n))
		sizes = append(sizes, p.Size)
		use = append(use, p)
		total += p.Size
	}
	return keys, sizes, use, nil
}
