package bridge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/flashback-network/flashback/storage"
	"github.com/versity/versitygw/s3api/utils"
	"github.com/versity/versitygw/s3err"
	"github.com/versity/versitygw/s3response"
)

// Checksums of multipart uploads, per S3's rules: CreateMultipartUpload
// names an algorithm and a type (COMPOSITE by default, FULL_OBJECT for
// CRC64NVME); every part then carries a checksum of that algorithm (the
// bridge computes it when the client sent none); completion checks the
// parts' checksums the client lists and stores the object's checksum:
// COMPOSITE is the checksum of the concatenated binary part checksums,
// suffixed "-<parts>", FULL_OBJECT the CRC of the whole content, combined
// from the parts' CRCs.

// partSumKey is where a part's checksum is kept when its backend could not
// take it in the part's metadata (a trailing checksum, see sealChecksum).
func partSumKey(br bucketRef, id string, n int32) string {
	return fmt.Sprintf("%ss%05d", uploadDir(br, id), n)
}

// partBody enforces the upload's checksum algorithm on a part body: a part
// checksum of another algorithm is refused, a missing one is computed.
func partBody(m uploadMeta, body io.Reader, sum func() (types.ChecksumAlgorithm, string)) (io.Reader, func() (types.ChecksumAlgorithm, string), error) {
	if m.ChecksumAlgo == "" {
		return body, sum, nil
	}
	a, _ := sum()
	if a != "" && a != m.ChecksumAlgo {
		return nil, nil, s3err.GetChecksumTypeMismatchErr(m.ChecksumAlgo, a)
	}
	if a != "" {
		return body, sum, nil
	}
	hr, err := utils.NewHashReader(body, "", utils.HashType(strings.ToLower(string(m.ChecksumAlgo))))
	if err != nil {
		return nil, nil, err
	}
	return hr, func() (types.ChecksumAlgorithm, string) { return m.ChecksumAlgo, hr.Sum() }, nil
}

// keepPartSum stores a part's checksum beside it if its backend did not
// keep it in the part's metadata.
func (g *gateway) keepPartSum(ctx context.Context, br bucketRef, id string, n int32, info storage.ObjectInfo, sum objChecksum) error {
	if sum.value == "" || info.UserMeta[metaChecksum] != "" {
		return nil
	}
	data := []byte(sum.encode())
	if _, err := g.write(ctx, br, partSumKey(br, id, n), bytes.NewReader(data), int64(len(data)), storage.ObjectMeta{}, nil); err != nil {
		return fmt.Errorf("store checksum of part %d: %w", n, err)
	}
	br.st.ingress.Add(-int64(len(data)))
	return nil
}

// partSum reads back a stored part's checksum ("" if it has none). The
// parts of a native upload (native_mpu.go) are no objects: theirs is
// always kept beside.
func (g *gateway) partSum(ctx context.Context, br bucketRef, m uploadMeta, id string, n int32) (string, error) {
	if m.Native == "" {
		info, err := br.be.Head(ctx, partKey(br, id, n))
		if err != nil {
			return "", err
		}
		if c := decodeChecksum(info.UserMeta[metaChecksum]); c.value != "" {
			return c.value, nil
		}
	}
	rc, _, err := br.be.Get(ctx, partSumKey(br, id, n), nil)
	if errors.Is(err, storage.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 4096))
	if err != nil {
		return "", err
	}
	return decodeChecksum(string(b)).value, nil
}

// removePartSums deletes the part checksums and SHA-256s (receipts.go)
// kept beside an upload's parts.
func (g *gateway) removePartSums(ctx context.Context, br bucketRef, id string) error {
	for _, kind := range []string{"s", "h"} {
		if err := g.removeUnder(ctx, br, uploadDir(br, id)+kind); err != nil {
			return err
		}
	}
	return nil
}

// removeUnder deletes the bookkeeping keys under prefix.
func (g *gateway) removeUnder(ctx context.Context, br bucketRef, prefix string) error {
	for {
		batch, err := br.be.List(ctx, prefix, "", 1000)
		if err != nil {
			return err
		}
		keys := make([]string, len(batch))
		for i, o := range batch {
			keys[i] = o.Key
		}
		if err := g.deleteKeys(ctx, br, keys); err != nil {
			return err
		}
		if len(batch) < 1000 {
			return nil
		}
	}
}

// completedSum returns the checksum a CompletedPart lists for algorithm a.
func completedSum(cp types.CompletedPart, a types.ChecksumAlgorithm) string {
	switch a {
	case types.ChecksumAlgorithmCrc32:
		return deref(cp.ChecksumCRC32)
	case types.ChecksumAlgorithmCrc32c:
		return deref(cp.ChecksumCRC32C)
	case types.ChecksumAlgorithmCrc64nvme:
		return deref(cp.ChecksumCRC64NVME)
	case types.ChecksumAlgorithmSha1:
		return deref(cp.ChecksumSHA1)
	case types.ChecksumAlgorithmSha256:
		return deref(cp.ChecksumSHA256)
	}
	return ""
}

// completeChecksum checks the listed parts' checksums against the stored
// ones and computes the object's checksum (zero if the upload has none).
// It returns the parts' records for the object's extras.
func (g *gateway) completeChecksum(ctx context.Context, br bucketRef, id string, m uploadMeta, in *s3.CompleteMultipartUploadInput, sizes []int64) (objChecksum, []partRecord, error) {
	listed := in.MultipartUpload.Parts
	recs := make([]partRecord, len(listed))
	for i, cp := range listed {
		recs[i] = partRecord{Number: deref(cp.PartNumber), Size: sizes[i]}
	}
	a := m.ChecksumAlgo
	if a == "" {
		return objChecksum{}, recs, nil
	}
	for i, cp := range listed {
		v, err := g.partSum(ctx, br, m, id, recs[i].Number)
		if err != nil {
			return objChecksum{}, nil, s3Error(err, m.Key)
		}
		if v == "" || (completedSum(cp, a) != "" && completedSum(cp, a) != v) {
			return objChecksum{}, nil, s3err.GetAPIError(s3err.ErrInvalidPart)
		}
		recs[i].Checksum = v
	}
	sum, err := combine(a, m.ChecksumType, recs)
	if err != nil {
		return objChecksum{}, nil, err
	}
	if want := completeHeaderSum(in, a); want != "" && want != sum.value && want+fmt.Sprintf("-%d", len(recs)) != sum.value {
		return objChecksum{}, nil, s3err.GetChecksumBadDigestErr(a)
	}
	return sum, recs, nil
}

func completeHeaderSum(in *s3.CompleteMultipartUploadInput, a types.ChecksumAlgorithm) string {
	return completedSum(types.CompletedPart{ChecksumCRC32: in.ChecksumCRC32, ChecksumCRC32C: in.ChecksumCRC32C,
		ChecksumCRC64NVME: in.ChecksumCRC64NVME, ChecksumSHA1: in.ChecksumSHA1, ChecksumSHA256: in.ChecksumSHA256}, a)
}

// combine computes a multipart object's checksum from its parts'.
func combine(a types.ChecksumAlgorithm, typ types.ChecksumType, recs []partRecord) (objChecksum, error) {
	out := objChecksum{algo: a, typ: typ}
	if typ == types.ChecksumTypeFullObject {
		v := recs[0].Checksum
		for _, r := range recs[1:] {
			var err error
			if v, err = utils.AddCRCChecksum(a, v, r.Checksum, r.Size); err != nil {
				return out, s3err.GetAPIError(s3err.ErrInvalidPart)
			}
		}
		out.value = v
		return out, nil
	}
	cr, err := utils.NewCompositeChecksumReader(utils.HashType(strings.ToLower(string(a))))
	if err != nil {
		return out, s3err.GetChecksumSchemaMismatchErr(a, typ)
	}
	for _, r := range recs {
		if err := cr.Process(r.Checksum); err != nil {
			return out, s3err.GetAPIError(s3err.ErrInvalidPart)
		}
	}
	out.value = fmt.Sprintf("%s-%d", cr.Sum(), len(recs))
	return out, nil
}

// setCompleteChecksum fills a CompleteMultipartUpload answer's checksum.
func setCompleteChecksum(out *s3response.CompleteMultipartUploadResult, sum objChecksum) {
	if sum.value == "" {
		return
	}
	f := toFields(sum.algo, sum.value)
	out.ChecksumCRC32, out.ChecksumCRC32C, out.ChecksumCRC64NVME = f.CRC32, f.CRC32C, f.CRC64NVME
	out.ChecksumSHA1, out.ChecksumSHA256, out.ChecksumType = f.SHA1, f.SHA256, &sum.typ
}

// listedPartSums adds the upload's checksum algorithm and type and each
// listed part's checksum to a ListParts answer (one backend call per part,
// for uploads with a checksum only).
func (g *gateway) listedPartSums(ctx context.Context, br bucketRef, id string, m uploadMeta, out *s3response.ListPartsResult) error {
	if m.ChecksumAlgo == "" {
		return nil
	}
	out.ChecksumAlgorithm, out.ChecksumType = m.ChecksumAlgo, m.ChecksumType
	for i := range out.Parts {
		p := &out.Parts[i]
		v, err := g.partSum(ctx, br, m, id, int32(p.PartNumber))
		if errors.Is(err, storage.ErrNotFound) {
			continue // aborted or completed meanwhile
		}
		if err != nil {
			return s3Error(err, m.Key)
		}
		f := toFields(m.ChecksumAlgo, v)
		p.ChecksumCRC32, p.ChecksumCRC32C, p.ChecksumCRC64NVME, p.ChecksumSHA1, p.ChecksumSHA256 = f.CRC32, f.CRC32C, f.CRC64NVME, f.SHA1, f.SHA256
	}
	return nil
}
