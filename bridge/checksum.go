package bridge

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/flashback-network/flashback/storage"
	"github.com/versity/versitygw/s3response"
)

// Reserved user-metadata keys of the bridge's own bookkeeping, stored in the
// object's backend metadata (they are written with the content and never
// change without it). Clients can neither set nor see them: every key with
// the reserved prefix is dropped from what they send and from what they get.
const (
	reservedMetaPrefix = "flashback-"
	metaChecksum       = "flashback-checksum" // "<ALGORITHM> <TYPE> <base64 value>"
	metaParts          = "flashback-parts"    // number of parts of a multipart object
)

// checkClientMeta refuses user metadata that uses the reserved prefix, so
// that nothing a client sends is silently dropped.
func checkClientMeta(m map[string]string) error {
	for k := range m {
		if strings.HasPrefix(strings.ToLower(k), reservedMetaPrefix) {
			return invalidArg(fmt.Sprintf("User metadata keys starting with %q are reserved by the bridge (x-amz-meta-%s).", reservedMetaPrefix, k))
		}
	}
	return nil
}

// clientMeta is user metadata without the reserved keys (m itself when it
// has none, nil when nothing is left).
func clientMeta(m map[string]string) map[string]string {
	reserved := 0
	for k := range m {
		if strings.HasPrefix(strings.ToLower(k), reservedMetaPrefix) {
			reserved++
		}
	}
	if reserved == 0 {
		return m
	}
	if reserved == len(m) {
		return nil
	}
	out := make(map[string]string, len(m)-reserved)
	for k, v := range m {
		if !strings.HasPrefix(strings.ToLower(k), reservedMetaPrefix) {
			out[k] = v
		}
	}
	return out
}

// withoutBookkeeping is m without the checksum and part count keys (m
// itself when it has neither).
func withoutBookkeeping(m map[string]string) map[string]string {
	_, c := m[metaChecksum]
	_, p := m[metaParts]
	if !c && !p {
		return m
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if k != metaChecksum && k != metaParts {
			out[k] = v
		}
	}
	return out
}

// objChecksum is the checksum stored with an object.
type objChecksum struct {
	algo  types.ChecksumAlgorithm
	typ   types.ChecksumType
	value string // base64; composite checksums end in "-<parts>"
}

// withBookkeeping returns stored metadata with the bridge's bookkeeping
// replaced: the checksum (if any) and the part count (if > 0). Other
// reserved keys (the stored standard headers, see objmeta.go) stay.
func withBookkeeping(user map[string]string, sum objChecksum, parts int) map[string]string {
	user = withoutBookkeeping(user)
	if sum.value == "" && parts == 0 {
		return user
	}
	out := make(map[string]string, len(user)+2)
	for k, v := range user {
		out[k] = v
	}
	if sum.value != "" {
		out[metaChecksum] = sum.encode()
	}
	if parts > 0 {
		out[metaParts] = strconv.Itoa(parts)
	}
	return out
}

// storedChecksum reads the bookkeeping back from backend metadata.
func storedChecksum(meta map[string]string) (objChecksum, int) {
	parts, _ := strconv.Atoi(meta[metaParts])
	return decodeChecksum(meta[metaChecksum]), parts
}

// served is the checksum to send on a GET or HEAD: only with checksum mode
// enabled, and only for the whole object (S3 sends none for a range).
func (g *gateway) served(ctx context.Context, br bucketRef, key string, meta map[string]string, mode types.ChecksumMode, ranged bool) (checksumFields, types.ChecksumType, error) {
	if mode != types.ChecksumModeEnabled || ranged {
		return checksumFields{}, "", nil
	}
	c, _, err := g.storedSum(ctx, br, key, meta)
	if err != nil || c.value == "" {
		return checksumFields{}, "", err
	}
	return toFields(c.algo, c.value), c.typ, nil
}

// headExtras fills what a HEAD answer tells besides the backend's info:
// the checksum (with checksum mode, from the stored metadata) and the tag
// count; and it hides the bookkeeping metadata.
func (g *gateway) headExtras(ctx context.Context, br bucketRef, key string, stored map[string]string, out *s3.HeadObjectOutput, mode types.ChecksumMode) error {
	f, typ, err := g.served(ctx, br, key, stored, mode, out.ContentRange != nil)
	if err != nil {
		return err
	}
	out.ChecksumCRC32, out.ChecksumCRC32C, out.ChecksumCRC64NVME = f.CRC32, f.CRC32C, f.CRC64NVME
	out.ChecksumSHA1, out.ChecksumSHA256, out.ChecksumType = f.SHA1, f.SHA256, typ
	out.Metadata = clientMeta(out.Metadata)
	out.TagCount, err = g.tagCount(ctx, br, key)
	return err
}

// getExtras is headExtras for a GET answer.
func (g *gateway) getExtras(ctx context.Context, br bucketRef, key string, stored map[string]string, out *s3.GetObjectOutput, mode types.ChecksumMode) error {
	f, typ, err := g.served(ctx, br, key, stored, mode, out.ContentRange != nil)
	if err != nil {
		return err
	}
	out.ChecksumCRC32, out.ChecksumCRC32C, out.ChecksumCRC64NVME = f.CRC32, f.CRC32C, f.CRC64NVME
	out.ChecksumSHA1, out.ChecksumSHA256, out.ChecksumType = f.SHA1, f.SHA256, typ
	out.Metadata = clientMeta(out.Metadata)
	out.TagCount, err = g.tagCount(ctx, br, key)
	return err
}

// GetObjectAttributes serves ETag, Checksum, ObjectSize, StorageClass and
// (for multipart objects) ObjectParts; versitygw filters what was asked.
func (g *gateway) GetObjectAttributes(ctx context.Context, in *s3.GetObjectAttributesInput) (s3response.GetObjectAttributesResponse, error) {
	var out s3response.GetObjectAttributesResponse
	br, key, err := g.object(ctx, in.Bucket, in.Key)
	if err != nil {
		return out, err
	}
	info, err := br.be.Head(ctx, br.key(key))
	if err != nil {
		return out, s3Error(err, key)
	}
	sum, nparts, err := g.storedSum(ctx, br, key, info.UserMeta)
	if err != nil {
		return out, err
	}
	out = s3response.GetObjectAttributesResponse{
		ETag: ptr(strings.Trim(info.ETag, `"`)), ObjectSize: ptr(info.Size), StorageClass: types.StorageClassStandard,
		LastModified: ptr(info.LastModified),
	}
	if sum.value != "" {
		f := toFields(sum.algo, sum.value)
		out.Checksum = &types.Checksum{ChecksumCRC32: f.CRC32, ChecksumCRC32C: f.CRC32C, ChecksumCRC64NVME: f.CRC64NVME,
			ChecksumSHA1: f.SHA1, ChecksumSHA256: f.SHA256, ChecksumType: sum.typ}
	}
	if nparts == 0 {
		return out, nil
	}
	extra, err := g.getExtra(ctx, br, key)
	if err != nil {
		return out, err
	}
	out.ObjectParts, err = objectParts(extra.Parts, sum.algo, in)
	return out, err
}

// objectParts pages the parts of a multipart object for GetObjectAttributes.
func objectParts(parts []partRecord, algo types.ChecksumAlgorithm, in *s3.GetObjectAttributesInput) (*s3response.ObjectParts, error) {
	marker := 0
	if s := deref(in.PartNumberMarker); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return nil, invalidArg("Part number marker must be a non-negative integer.")
		}
		marker = n
	}
	max := 1000
	if in.MaxParts != nil && *in.MaxParts >= 0 && *in.MaxParts < 1000 {
		max = int(*in.MaxParts)
	}
	op := &s3response.ObjectParts{PartNumberMarker: marker, MaxParts: max}
	for _, p := range parts {
		if int(p.Number) <= marker {
			continue
		}
		if len(op.Parts) == max {
			op.IsTruncated = true
			break
		}
		f := toFields(algo, p.Checksum)
		op.Parts = append(op.Parts, types.ObjectPart{PartNumber: ptr(p.Number), Size: ptr(p.Size),
			ChecksumCRC32: f.CRC32, ChecksumCRC32C: f.CRC32C, ChecksumCRC64NVME: f.CRC64NVME, ChecksumSHA1: f.SHA1, ChecksumSHA256: f.SHA256})
		op.NextPartNumberMarker = int(p.Number)
	}
	return op, nil
}

func (c objChecksum) encode() string {
	if c.value == "" {
		return ""
	}
	return string(c.algo) + " " + string(c.typ) + " " + c.value
}

func decodeChecksum(s string) objChecksum {
	f := strings.Fields(s)
	if len(f) != 3 {
		return objChecksum{}
	}
	return objChecksum{algo: types.ChecksumAlgorithm(f[0]), typ: types.ChecksumType(f[1]), value: f[2]}
}

// headerChecksum says whether a checksum came as a request header (known
// before the body) rather than as an aws-chunked trailer.
func headerChecksum(vals ...*string) bool {
	for _, v := range vals {
		if deref(v) != "" {
			return true
		}
	}
	return false
}

// sealChecksum arranges for the body's checksum to be stored with the
// object: in its metadata up front when it came as a header, else as a
// metadata trailer (taken by backends that write metadata last; afterWrite
// keeps it in the object's extras on the others).
func sealChecksum(meta *storage.ObjectMeta, sum func() (types.ChecksumAlgorithm, string), known bool) {
	if known {
		a, v := sum()
		meta.UserMeta = withBookkeeping(meta.UserMeta, objChecksum{algo: a, typ: types.ChecksumTypeFullObject, value: v}, 0)
		return
	}
	meta.Trailer = func() map[string]string {
		a, v := sum()
		if v == "" {
			return nil
		}
		return map[string]string{metaChecksum: objChecksum{algo: a, typ: types.ChecksumTypeFullObject, value: v}.encode()}
	}
}

// afterWrite records what did not travel with a written object's content:
// its tags, its parts, and its checksum when the backend did not keep it.
func (g *gateway) afterWrite(ctx context.Context, br bucketRef, key string, info storage.ObjectInfo, sum objChecksum, tags map[string]string, parts []partRecord) error {
	e := objectExtra{Tags: tags, Parts: parts}
	if sum.value != "" && info.UserMeta[metaChecksum] == "" {
		e.Checksum = sum.encode()
	}
	return g.putExtra(ctx, br, key, e)
}

// checksumOf returns an object's stored checksum and part count, from its
// metadata or, failing that, its extras.
func (g *gateway) storedSum(ctx context.Context, br bucketRef, key string, meta map[string]string) (objChecksum, int, error) {
	c, n := storedChecksum(meta)
	if c.value != "" {
		return c, n, nil
	}
	e, err := g.getExtra(ctx, br, key)
	return decodeChecksum(e.Checksum), n, err
}

// copiedExtras is what a CopyObject's destination gets besides content
// and client metadata: tags (per the tagging directive), checksum and, for
// a native copy of a multipart object, its parts.
type copiedExtras struct {
	tags  map[string]string
	sum   objChecksum
	parts []partRecord
}

func (g *gateway) copyExtras(ctx context.Context, src bucketRef, srcKey string, sinfo storage.ObjectInfo, in s3response.CopyObjectInput) (copiedExtras, error) {
	var ex copiedExtras
	var err error
	if ex.tags, err = g.copyTags(ctx, src, srcKey, in.TaggingDirective, in.Tagging); err != nil {
		return ex, err
	}
	var nparts int
	if ex.sum, nparts, err = g.storedSum(ctx, src, srcKey, sinfo.UserMeta); err != nil || nparts == 0 {
		return ex, err
	}
	e, err := g.getExtra(ctx, src, srcKey)
	ex.parts = e.Parts
	return ex, err
}

// streamed adapts the extras to a copy made by streaming the content into
// a new single-part object: its parts are gone, and a composite checksum
// of the source's parts does not describe it. It returns the metadata to
// write.
func (ex *copiedExtras) streamed(meta map[string]string) map[string]string {
	if ex.sum.typ != types.ChecksumTypeFullObject {
		ex.sum = objChecksum{}
	}
	ex.parts = nil
	return withBookkeeping(meta, ex.sum, 0)
}
