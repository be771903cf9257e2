package gateway

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	vbackend "github.com/versity/versitygw/backend"
	"github.com/versity/versitygw/s3response"
)

// CopyObject copies within each member (server-side: no byte passes
// through the gateway), on every writing member at once; it succeeds at
// the write quorum and queues the members that missed it. The bridge
// keeps the source's stored SHA-256 with the copy. Copies across
// repositories, or across folders of a normal repository (two different
// members), are not offered.
func (b *backend) CopyObject(ctx context.Context, in s3response.CopyObjectInput) (s3response.CopyObjectOutput, error) {
	ctx, cancel := detach(ctx)
	defer cancel()
	var none s3response.CopyObjectOutput
	dst, err := b.object(ctx, in.Bucket, in.Key)
	if err != nil {
		return none, err
	}
	sb, sk, vid, err := vbackend.ParseCopySource(deref(in.CopySource))
	if err != nil {
		return none, err
	}
	if vid != "" {
		return none, apiErr("NotImplemented", http.StatusNotImplemented, "Repositories keep no versions.")
	}
	src, err := b.object(ctx, &sb, &sk)
	if err != nil {
		return none, err
	}
	if src.repo.Name != dst.repo.Name || (dst.repo.Mode == ModeNormal && src.members[0].ID != dst.members[0].ID) {
		return none, apiErr("NotImplemented", http.StatusNotImplemented,
			"CopyObject works within one repository (and, in a normal repository, within one member folder).")
	}
	if dst.repo.Encrypted {
		return b.copyEncrypted(ctx, in, src, dst)
	}
	writers := writersOf(dst)
	results := make([]streamResult, len(writers))
	var wg sync.WaitGroup
	for i, m := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i].member = m.ID
			out, err := b.g.clients.get(m).s3.CopyObject(ctx, &s3.CopyObjectInput{
				Bucket: aws.String(m.ID), Key: aws.String(dst.key), CopySource: aws.String(m.ID + "/" + escapeKey(src.key)),
				MetadataDirective: in.MetadataDirective, Metadata: in.Metadata, ContentType: in.ContentType,
				CacheControl: in.CacheControl, ContentDisposition: in.ContentDisposition, ContentLanguage: in.ContentLanguage,
				CopySourceIfMatch: in.CopySourceIfMatch, CopySourceIfNoneMatch: in.CopySourceIfNoneMatch,
			})
			if err != nil {
				results[i].err = fmt.Errorf("member %s: %w", m.ID, err)
				return
			}
			if r := out.CopyObjectResult; r != nil {
				results[i].etag, results[i].sha256 = deref(r.ETag), deref(r.ChecksumSHA256)
			}
		}()
	}
	wg.Wait()
	var acked, missed []streamResult
	for _, r := range results {
		if r.err == nil {
			acked = append(acked, r)
		} else {
			missed = append(missed, r)
		}
	}
	q := dst.repo.quorum(len(writers))
	if len(acked) < q {
		// Every member refused it the same way (a missing source, a failed
		// precondition): say so; else a member failure.
		if len(acked) == 0 && len(missed) > 0 && isClientError(missed[0].err) {
			return none, toS3(missed[0].err)
		}
		// Unlike a PUT, a copy below quorum is not undone (it carries no
		// write id of its own): the members that missed it are queued, so
		// repair completes it from the copies made.
		b.g.queueMissed(dst.repo.Name, dst.key, missed, RepairPut)
		return none, clientWriteError(errNoQuorum, missed)
	}
	b.g.queueMissed(dst.repo.Name, dst.key, missed, RepairPut)
	return s3response.CopyObjectOutput{CopyObjectResult: &s3response.CopyObjectResult{
		ETag: aws.String(acked[0].etag), ChecksumSHA256: nonEmpty(acked[0].sha256),
	}}, nil
}

// copyEncrypted copies an object of an encrypted repository by decrypting
// the source and encrypting it anew as the destination. A server-side copy
// cannot do: every chunk's authentication binds the object's name (so a
// provider cannot pass one object off as another), and a copied
// ciphertext would carry the source's name and fail to decrypt as the
// destination. Taking the name out of the derivation would buy server-side
// copies at the price of that protection; copies are rarer than reads.
func (b *backend) copyEncrypted(ctx context.Context, in s3response.CopyObjectInput, src, dst target) (s3response.CopyObjectOutput, error) {
	var none s3response.CopyObjectOutput
	srcKey := encName(src)
	get, err := b.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(src.repo.Name), Key: aws.String(srcKey),
		IfMatch: in.CopySourceIfMatch, IfNoneMatch: in.CopySourceIfNoneMatch})
	if err != nil {
		return none, err
	}
	defer get.Body.Close()
	put := s3response.PutObjectInput{
		Bucket: in.Bucket, Key: in.Key, ContentLength: get.ContentLength, Body: get.Body,
		Metadata: get.Metadata, ContentType: get.ContentType, CacheControl: get.CacheControl,
		ContentDisposition: get.ContentDisposition, ContentLanguage: get.ContentLanguage, ContentEncoding: get.ContentEncoding,
	}
	if in.MetadataDirective == types.MetadataDirectiveReplace {
		put.Metadata, put.ContentType, put.CacheControl = in.Metadata, in.ContentType, in.CacheControl
		put.ContentDisposition, put.ContentLanguage, put.ContentEncoding = in.ContentDisposition, in.ContentLanguage, in.ContentEncoding
	}
	out, err := b.PutObject(ctx, put)
	if err != nil {
		return none, err
	}
	return s3response.CopyObjectOutput{CopyObjectResult: &s3response.CopyObjectResult{ETag: aws.String(out.ETag)}}, nil
}
