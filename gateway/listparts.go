package gateway

import (
	"context"
	"sort"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/versity/versitygw/s3response"
)

// ListParts lists an upload's parts from the gateway's record (the parts
// that reached the quorum), so a client can resume an upload.
func (b *backend) ListParts(ctx context.Context, in *s3.ListPartsInput) (s3response.ListPartsResult, error) {
	_, rec, err := b.upload(ctx, in.Bucket, in.Key, in.UploadId)
	if err != nil {
		return s3response.ListPartsResult{}, err
	}
	after, _ := strconv.Atoi(deref(in.PartNumberMarker))
	maxParts := int(deref(in.MaxParts))
	if maxParts <= 0 || maxParts > 1000 {
		maxParts = 1000
	}
	var nums []int
	for n := range rec.Parts {
		if int(n) > after {
			nums = append(nums, int(n))
		}
	}
	sort.Ints(nums)
	out := s3response.ListPartsResult{
		Bucket: deref(in.Bucket), Key: deref(in.Key), UploadID: rec.ID, ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
		ChecksumType: types.ChecksumTypeComposite, StorageClass: types.StorageClassStandard,
		PartNumberMarker: after, MaxParts: maxParts,
	}
	for _, n := range nums {
		if len(out.Parts) == maxParts {
			out.IsTruncated = true
			break
		}
		var p mpuPart
		for _, id := range sortedKeys(rec.Parts[int32(n)]) {
			p = rec.Parts[int32(n)][id]
			break
		}
		sum := p.SHA256
		out.Parts = append(out.Parts, s3response.Part{PartNumber: n, ETag: p.ETag, Size: p.Size, ChecksumSHA256: &sum, LastModified: rec.Created})
		out.NextPartNumberMarker = n
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
