package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flashback-network/flashback/client"
)

// The quota is checked before the first byte: the bridge refuses the write
// that crosses a reservation's size, but only at the part that crosses it,
// after everything before it went up. The reserved size comes from the
// chain; what is used is counted at the bridge (the objects, plus the parts
// of pending multipart uploads, which count too), since the chain's
// stored_bytes lags by up to an epoch of usage reports.

// quotaNeed is what an upload will add: need bytes, of which the pending
// uploads in resuming are already at the bridge (their parts are part of
// need, not of the free space).
type quotaNeed struct {
	bytes    int64
	resuming map[string]bool // upload ids
}

// checkQuota refuses, with sizes in human units, an upload that cannot fit.
func (g *globals) checkQuota(ctx context.Context, bi *bucketInfo, need quotaNeed) error {
	if need.bytes <= 0 {
		return nil
	}
	r := bi.Res
	if r == nil {
		var err error
		if r, _, err = g.chainEndpoint(ctx, bi.Name); err != nil {
			g.note("warning: the reservation's size is unknown (%v): uploading without a quota check", explain(err))
			return nil
		}
	}
	used, pending, err := bucketUsed(ctx, bi.Bucket, need.resuming)
	if err != nil {
		return s3Explain(err, bi.Bucket, "")
	}
	reserved := int64(min(r.Bytes, 1<<62))
	free := max(0, reserved-used-pending.bytes)
	if need.bytes > free {
		unfinished := ""
		if pending.uploads > 0 {
			unfinished = fmt.Sprintf("; %s of it is held by %d unfinished upload(s), resumed by running the same cp again", bytesHuman(uint64(pending.bytes)), pending.uploads)
		}
		return fmt.Errorf("the upload needs %s, %s free of %s reserved in %s%s: nothing sent (free space with `flashback rm`, or grow it with `flashback tx reservation resize %s --size SIZE`)",
			bytesHuman(uint64(need.bytes)), bytesHuman(uint64(free)), bytesHuman(r.Bytes), bi.Name, unfinished, bi.Name)
	}
	return nil
}

// pendingUse is what unfinished multipart uploads hold at the bridge.
type pendingUse struct {
	bytes   int64
	uploads int
}

// bucketUsed sums the objects, and the parts of pending uploads (but those
// of the uploads in skip), as the bridge lists them.
func bucketUsed(ctx context.Context, b *client.Bucket, skip map[string]bool) (int64, pendingUse, error) {
	var pending pendingUse
	objs, err := b.List(ctx, "")
	if err != nil {
		return 0, pending, err
	}
	var used int64
	for _, o := range objs {
		used += o.Size
	}
	up := s3.NewListMultipartUploadsPaginator(b.S3, &s3.ListMultipartUploadsInput{Bucket: aws.String(b.Name)})
	for up.HasMorePages() {
		page, err := up.NextPage(ctx)
		if err != nil {
			return 0, pending, err
		}
		for _, u := range page.Uploads {
			if skip[aws.ToString(u.UploadId)] {
				continue
			}
			n, err := uploadedBytes(ctx, b, aws.ToString(u.Key), aws.ToString(u.UploadId))
			if err != nil {
				return 0, pending, err
			}
			pending.bytes += n
			pending.uploads++
		}
	}
	return used, pending, nil
}

func uploadedBytes(ctx context.Context, b *client.Bucket, key, id string) (int64, error) {
	var n int64
	p := s3.NewListPartsPaginator(b.S3, &s3.ListPartsInput{Bucket: aws.String(b.Name), Key: aws.String(key), UploadId: aws.String(id)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			if client.S3Code(err) == "NoSuchUpload" {
				return 0, nil // completed or aborted meanwhile
			}
			return 0, err
		}
		for _, part := range page.Parts {
			n += aws.ToInt64(part.Size)
		}
	}
	return n, nil
}

// pendingUploadOf returns the upload id recorded for uploading path to
// key of res, if a state file for the file as it is now exists.
func (g *globals) pendingUploadOf(res, key, absPath string, size, mtimeNanos int64) string {
	st, err := loadUploadState(g.uploadStatePath(res, key, absPath))
	if err != nil || st == nil || st.Size != size || st.MTimeNanos != mtimeNanos {
		return ""
	}
	return st.UploadID
}
