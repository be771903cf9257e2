package storage

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
)

// azCompletion is what completing an Azure upload commits.
type azCompletion struct {
	ids   []string // blocks of the staging blob, in order
	empty []string // numbers of the empty parts among the chosen
	etag  string   // multipart ETag
	size  int64
}

// planCompletion picks the blocks of the chosen parts from those staged.
func planCompletion(key string, staged map[int]azStagedPart, parts []UploadPart) (azCompletion, error) {
	var c azCompletion
	var etags []string
	for _, want := range parts {
		p, ok := staged[want.Num]
		if !ok || p.ETag != strings.Trim(want.ETag, `"`) {
			return c, fmt.Errorf("backend azure-blob: upload of %q has no part %d with ETag %q", key, want.Num, want.ETag)
		}
		if p.Size == 0 {
			c.empty = append(c.empty, strconv.Itoa(p.Num))
		}
		c.ids, etags, c.size = append(c.ids, p.blocks...), append(etags, p.ETag), c.size+p.Size
	}
	if len(c.ids) > 50000 {
		return c, fmt.Errorf("backend azure-blob: %q would have %d blocks, more than 50000 (raise block_size)", key, len(c.ids))
	}
	var err error
	c.etag, err = MultipartETag(etags)
	return c, err
}

// commitStaging commits the plan's blocks as the staging blob's content
// (metadata work: the blocks are already stored), keeping its content type
// and metadata (azMetaUpload: it stays hidden) and recording its empty
// parts, whose marker blocks the commit discards.
func commitStaging(ctx context.Context, sc *blockblob.Client, props blob.GetPropertiesResponse, c azCompletion, key string) error {
	md := make(map[string]*string, len(props.Metadata)+1)
	for k, v := range props.Metadata {
		if !strings.EqualFold(k, azMetaEmpty) {
			md[k] = v
		}
	}
	if len(c.empty) > 0 {
		md[azMetaEmpty] = to(strings.Join(c.empty, " "))
	}
	_, err := sc.CommitBlockList(ctx, c.ids, &blockblob.CommitBlockListOptions{
		HTTPHeaders: &blob.HTTPHeaders{BlobContentType: props.ContentType},
		Metadata:    md,
	})
	return azErr(err, key)
}

// CompleteUpload commits the chosen parts' blocks on the staging blob,
// copies it onto key (server-side) and drops the staging blob. A failure
// before the copy succeeded leaves the upload as it was: its parts listed,
// completable again.
func (a *Azure) CompleteUpload(ctx context.Context, key, uploadID string, parts []UploadPart) (ObjectInfo, error) {
	ctx = detach(ctx)
	if len(parts) == 0 {
		return ObjectInfo{}, errors.New("backend azure-blob: completing an upload needs at least one part")
	}
	sc, props, err := a.upload(ctx, key, uploadID)
	if err != nil {
		return ObjectInfo{}, err
	}
	staged, err := stagedParts(ctx, sc, key, props)
	if err != nil {
		return ObjectInfo{}, err
	}
	plan, err := planCompletion(key, staged, parts)
	if err != nil {
		return ObjectInfo{}, err
	}
	if err := commitStaging(ctx, sc, props, plan, key); err != nil {
		return ObjectInfo{}, err
	}
	dc, err := a.blob(key)
	if err != nil {
		return ObjectInfo{}, err
	}
	md := map[string]*string{azMetaETag: &plan.etag}
	if u := metaValue(props.Metadata, azMetaUser); u != "" {
		md[azMetaUser] = &u
	}
	res, err := dc.StartCopyFromURL(ctx, sc.URL(), &blob.StartCopyFromURLOptions{Metadata: md})
	if err != nil {
		return ObjectInfo{}, azErr(err, key)
	}
	if err := a.awaitCopy(ctx, dc, res, key); err != nil {
		return ObjectInfo{}, err
	}
	_ = a.dropStaging(ctx, sc) // the object is complete whatever happens here
	return azInfo(key, plan.size, nil, res.LastModified, props.ContentType, md), nil
}
