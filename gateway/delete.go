package gateway

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/versity/versitygw/s3err"
	"github.com/versity/versitygw/s3response"
)

// DeleteObject deletes on every member at once. It succeeds when the write
// quorum deleted it; every member that missed it is queued for repair (a
// delete), so the key goes away there too.
func (b *backend) DeleteObject(ctx context.Context, in *s3.DeleteObjectInput) (*s3.DeleteObjectOutput, error) {
	ctx, cancel := detach(ctx)
	defer cancel()
	t, err := b.object(ctx, in.Bucket, in.Key)
	if err != nil {
		return nil, err
	}
	errs := make([]error, len(t.members))
	var wg sync.WaitGroup
	for i, m := range t.members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = b.g.clients.get(m).s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(m.ID), Key: aws.String(t.key)})
		}()
	}
	wg.Wait()
	acked := 0
	var missed []streamResult
	for i, err := range errs {
		if err == nil || isNotFound(err) {
			acked++
			continue
		}
		missed = append(missed, streamResult{member: t.members[i].ID, err: err})
	}
	b.g.queueMissed(t.repo.Name, t.key, missed, RepairDelete)
	if acked < t.repo.quorum(len(writersOf(t))) {
		return nil, clientWriteError(errNoQuorum, missed)
	}
	return &s3.DeleteObjectOutput{}, nil
}

// DeleteObjects deletes keys one DeleteObject at a time per key (each to
// every member at once), a few keys at once.
func (b *backend) DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput) (s3response.DeleteResult, error) {
	ctx, cancel := detach(ctx)
	defer cancel()
	if _, err := b.repo(ctx, deref(in.Bucket)); err != nil {
		return s3response.DeleteResult{}, err
	}
	var objs []types.ObjectIdentifier
	quiet := false
	if in.Delete != nil {
		objs, quiet = in.Delete.Objects, deref(in.Delete.Quiet)
	}
	errs := make([]error, len(objs))
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i, o := range objs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			_, errs[i] = b.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: in.Bucket, Key: o.Key})
		}()
	}
	wg.Wait()
	var out s3response.DeleteResult
	for i, o := range objs {
		if errs[i] == nil {
			if !quiet {
				out.Deleted = append(out.Deleted, types.DeletedObject{Key: o.Key})
			}
			continue
		}
		code, msg := "InternalError", errs[i].Error()
		if ae, ok := errs[i].(interface{ BaseError() s3err.APIError }); ok {
			code, msg = ae.BaseError().Code, ae.BaseError().Description
		}
		out.Error = append(out.Error, types.Error{Key: o.Key, Code: aws.String(code), Message: aws.String(msg)})
	}
	return out, nil
}
