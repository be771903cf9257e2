package gateway

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/versity/versitygw/s3err"
	"github.com/versity/versitygw/s3response"
)

// CompleteMultipartUpload completes the upload on every member that holds
// all the listed parts, under a write intent (the upload's id is the write
// id its members' objects carry): at quorum the others are aborted and
// queued for repair; below it, the object is deleted where it completed.
func (b *backend) CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput) (s3response.CompleteMultipartUploadResult, string, error) {
	ctx, cancel := detach(ctx)
	defer cancel()
	var none s3response.CompleteMultipartUploadResult
	t, rec, err := b.upload(ctx, in.Bucket, in.Key, in.UploadId)
	if err != nil {
		return none, "", err
	}
	unlock := b.g.uploads.lock(rec.ID)
	defer unlock()
	if rec, err = b.g.uploads.load(rec.ID); err != nil {
		return none, "", err
	}
	var listed []types.CompletedPart
	if in.MultipartUpload != nil {
		listed = in.MultipartUpload.Parts
	}
	if len(listed) == 0 {
		return none, "", s3err.GetAPIError(s3err.ErrMalformedXML)
	}
	for i, p := range listed {
		if _, ok := rec.Parts[deref(p.PartNumber)]; !ok {
			return none, "", s3err.GetAPIError(s3err.ErrInvalidPart)
		}
		if i > 0 && deref(p.PartNumber) <= deref(listed[i-1].PartNumber) {
			return none, "", s3err.GetAPIError(s3err.ErrInvalidPartOrder)
		}
	}
	ms := uploadMembers(t.repo, rec)
	if rec.Encrypted {
		if listed, err = b.g.encIndexPart(ctx, t, &rec, ms, listed); err != nil {
			return none, "", err
		}
	}
	it := Intent{WriteID: rec.ID, Time: time.Now().UTC(), Repo: rec.Repo, Key: rec.Key, Quorum: rec.Quorum}
	for _, m := range ms {
		it.Members = append(it.Members, m.ID)
	}
	if err := b.g.intents.put(it); err != nil {
		return none, "", unavailable(err.Error())
	}
	done := b.g.track(rec.ID)
	defer done()
	results := b.g.completeAll(ctx, rec, ms, listed)
	var acked []streamResult
	var missed []streamResult
	for _, r := range results {
		if r.err == nil {
			acked = append(acked, r)
		} else {
			missed = append(missed, r)
		}
	}
	if len(acked) < rec.Quorum {
		b.g.undo(it)
		b.g.abortMembers(ctx, t.repo, rec)
		b.g.uploads.remove(rec.ID)
		return none, "", clientWriteError(errNoQuorum, missed)
	}
	for _, id := range rec.Missed {
		missed = append(missed, streamResult{member: id, err: errors.New("no upload on the member")})
	}
	b.g.queueMissed(rec.Repo, rec.Key, missed, RepairPut)
	b.g.intents.clear(rec.ID)
	b.g.uploads.remove(rec.ID)
	out := s3response.CompleteMultipartUploadResult{
		Bucket: in.Bucket, Key: in.Key, ETag: aws.String(acked[0].etag), ChecksumSHA256: nonEmpty(acked[0].sha256),
	}
	if rec.Encrypted {
		out.ChecksumSHA256 = nil // the ciphertext's
	}
	return out, "", nil
}

// completeAll completes the upload on each member holding every listed
// part (and aborts it on the others).
func (g *Gateway) completeAll(ctx context.Context, rec mpu, ms []Member, listed []types.CompletedPart) []streamResult {
	results := make([]streamResult, len(ms))
	var wg sync.WaitGroup
	for i, m := range ms {
		results[i].member = m.ID
		var parts []types.CompletedPart
		for _, p := range listed {
			got, ok := rec.Parts[deref(p.PartNumber)][m.ID]
			if !ok {
				parts = nil
				break
			}
			parts = append(parts, types.CompletedPart{PartNumber: p.PartNumber, ETag: aws.String(got.ETag), ChecksumSHA256: nonEmpty(got.SHA256)})
		}
		mc := g.clients.get(m)
		up := rec.Members[m.ID]
		if parts == nil {
			results[i].err = errors.New("the member missed parts of the upload")
			wg.Add(1)
			go func() {
				defer wg.Done()
				mc.s3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(m.ID), Key: aws.String(rec.Key), UploadId: aws.String(up)})
			}()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := mc.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
				Bucket: aws.String(m.ID), Key: aws.String(rec.Key), UploadId: aws.String(up),
				MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
			})
			if err != nil {
				results[i].err = fmt.Errorf("member %s: %w", m.ID, err)
				return
			}
			results[i].etag, results[i].sha256 = deref(out.ETag), deref(out.ChecksumSHA256)
		}()
	}
	wg.Wait()
	return results
}
