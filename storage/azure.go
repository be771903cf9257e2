package storage

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// AzureConfig configures a backend on an Azure Blob Storage container (or
// Azurite). Give either ConnectionString, or AccountName and AccountKey
// (with ServiceURL for anything but the public cloud).
type AzureConfig struct {
	ConnectionString string `json:"connection_string,omitempty"`
	AccountName      string `json:"account_name,omitempty"`
	AccountKey       string `json:"account_key,omitempty"`
	// ServiceURL, default https://ACCOUNT.blob.core.windows.net/ (Azurite:
	// http://127.0.0.1:10000/devstoreaccount1).
	ServiceURL string `json:"service_url,omitempty"`
	Container  string `json:"container"`
	Prefix     string `json:"prefix,omitempty"`
	// BlockSize: objects up to this size go up in one Put Blob; larger ones
	// as staged blocks of this size (each in-flight block is buffered).
	// Default 8 MiB.
	BlockSize int64 `json:"block_size,omitempty"`
	// Concurrency: blocks staged in parallel by one upload. Default 2.
	Concurrency int `json:"concurrency,omitempty"`
}

// Azure is a backend on an Azure Blob container. Objects are block blobs.
// Azure metadata names must be C# identifiers, so the user metadata travels
// as one JSON metadata entry; the content MD5 is the blob's Content-MD5
// property.
//
// A failed upload of a large object (staged blocks) leaves no blob, but the
// blocks it staged stay uncommitted (invisible, not listed) until the
// service discards them: at the next commit on that name, or after 7 days.
type Azure struct {
	cc        *container.Client
	prefix    string
	blockSize int64
	conc      int
}

var _ Composer = (*Azure)(nil)

const (
	azMetaUser = "flashback_meta" // base64(JSON user metadata)
	azMetaETag = "flashback_etag" // ETag when not the content MD5
)

// NewAzure builds an Azure backend. It does not contact the service.
func NewAzure(cfg AzureConfig) (*Azure, error) {
	if cfg.Container == "" {
		return nil, errors.New("backend azure-blob: container is empty")
	}
	var svc *azblob.Client
	var err error
	switch {
	case cfg.ConnectionString != "":
		svc, err = azblob.NewClientFromConnectionString(cfg.ConnectionString, nil)
	case cfg.AccountName != "" && cfg.AccountKey != "":
		var cred *azblob.SharedKeyCredential
		cred, err = azblob.NewSharedKeyCredential(cfg.AccountName, cfg.AccountKey)
		if err == nil {
			u := cfg.ServiceURL
			if u == "" {
				u = "https://" + cfg.AccountName + ".blob.core.windows.net/"
			}
			svc, err = azblob.NewClientWithSharedKeyCredential(u, cred, nil)
		}
	default:
		return nil, errors.New("backend azure-blob: give connection_string, or account_name and account_key")
	}
	if err != nil {
		return nil, fmt.Errorf("backend azure-blob: %w", err)
	}
	a := &Azure{cc: svc.ServiceClient().NewContainerClient(cfg.Container), prefix: cfg.Prefix,
		blockSize: cfg.BlockSize, conc: cfg.Concurrency}
	if a.blockSize <= 0 {
		a.blockSize = 8 << 20
	}
	if a.blockSize > 4000<<20 {
		a.blockSize = 4000 << 20
	}
	if a.conc <= 0 {
		a.conc = 2
	}
	return a, nil
}

// ContainerClient is the underlying SDK client (tests create the container).
func (a *Azure) ContainerClient() *container.Client { return a.cc }

func (a *Azure) blob(key string) (*blockblob.Client, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	return a.cc.NewBlockBlobClient(a.prefix + key), nil
}

func azErr(err error, key string) error {
	if err == nil {
		return nil
	}
	if bloberror.HasCode(err, bloberror.BlobNotFound, bloberror.ResourceNotFound) {
		return fmt.Errorf("%w: %q", ErrNotFound, key)
	}
	if bloberror.HasCode(err, bloberror.InvalidRange) {
		return fmt.Errorf("%w: %q", ErrInvalidRange, key)
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		switch re.StatusCode {
		case http.StatusNotFound:
			return fmt.Errorf("%w: %q", ErrNotFound, key)
		case http.StatusRequestedRangeNotSatisfiable:
			return fmt.Errorf("%w: %q", ErrInvalidRange, key)
		}
	}
	return fmt.Errorf("backend azure-blob: %q: %w", key, err)
}

// azMeta encodes user metadata (and an ETag override) as Azure metadata.
func azMeta(user map[string]string, etag string) (map[string]*string, error) {
	m := map[string]*string{}
	if u := normMeta(user); len(u) > 0 {
		j, err := json.Marshal(u)
		if err != nil {
			return nil, err
		}
		s := base64.StdEncoding.EncodeToString(j)
		m[azMetaUser] = &s
	}
	if etag != "" {
		m[azMetaETag] = &etag
	}
	return m, nil
}

// azInfo decodes what azMeta stored, and picks the ETag.
func azInfo(key string, size int64, md5sum []byte, modified *time.Time, ctype *string, meta map[string]*string) ObjectInfo {
	info := ObjectInfo{Key: key, Size: size, ContentType: deref(ctype)}
	if modified != nil {
		info.LastModified = modified.UTC()
	}
	for k, v := range meta {
		switch strings.ToLower(k) {
		case azMetaUser:
			if j, err := base64.StdEncoding.DecodeString(deref(v)); err == nil {
				var u map[string]string
				if json.Unmarshal(j, &u) == nil && len(u) > 0 {
					info.UserMeta = u
				}
			}
		case azMetaETag:
			info.ETag = deref(v)
		}
	}
	if info.ETag == "" {
		if len(md5sum) == md5.Size {
			info.ETag = hex.EncodeToString(md5sum)
		} else if size == 0 {
			info.ETag = hex.EncodeToString(md5.New().Sum(nil))
		}
	}
	return info
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (a *Azure) Put(ctx context.Context, key string, r io.Reader, size int64, meta ObjectMeta) (ObjectInfo, error) {
	ctx = detach(ctx)
	return a.put(ctx, key, r, size, meta, "")
}

// put uploads r; etag, when set, is stored as the ETag to report instead of
// the content MD5 (Compose).
func (a *Azure) put(ctx context.Context, key string, r io.Reader, size int64, meta ObjectMeta, etag string) (ObjectInfo, error) {
	bc, err := a.blob(key)
	if err != nil {
		return ObjectInfo{}, err
	}
	md, err := azMeta(meta.UserMeta, etag)
	if err != nil {
		return ObjectInfo{}, err
	}
	pr := newPutReader(ctx, r, size, true)
	firstLen := a.blockSize
	if size >= 0 && size < firstLen {
		firstLen = size
	}
	first := make([]byte, firstLen)
	n, eof, err := readFull(pr, first)
	if err != nil {
		return ObjectInfo{}, err
	}
	if !eof && size >= 0 && int64(n) == size {
		// Known size fully read: make sure nothing follows.
		if _, err := pr.Read(nil); err != nil && err != io.EOF {
			return ObjectInfo{}, err
		}
		eof = true
	}
	if eof {
		// Small object: one Put Blob, atomic.
		if err := pr.check(); err != nil {
			return ObjectInfo{}, err
		}
		sum := pr.md5.Sum(nil)
		out, err := bc.Upload(ctx, streaming.NopCloser(bytes.NewReader(first[:n])), &blockblob.UploadOptions{
			HTTPHeaders:             &blob.HTTPHeaders{BlobContentType: nonEmpty(meta.ContentType), BlobContentMD5: sum},
			Metadata:                md,
			TransactionalContentMD5: sum,
		})
		if err != nil {
			return ObjectInfo{}, azErr(err, key)
		}
		return azInfo(key, int64(n), sum, out.LastModified, nonEmpty(meta.ContentType), md), nil
	}
	return a.putBlocks(ctx, bc, key, pr, first[:n], meta, md)
}

// putBlocks stores a large object: it stages the blocks (first, then the
// rest of pr), then commits the list with the MD5.
func (a *Azure) putBlocks(ctx context.Context, bc *blockblob.Client, key string, pr *putReader, first []byte, meta ObjectMeta, md map[string]*string) (ObjectInfo, error) {
	var idPrefix [16]byte
	rand.Read(idPrefix[:])
	blockID := func(num int) string {
		var b [20]byte
		copy(b[:], idPrefix[:])
		binary.BigEndian.PutUint32(b[16:], uint32(num))
		return base64.StdEncoding.EncodeToString(b[:])
	}
	var mu sync.Mutex
	maxNum := 0
	_, err := uploadParts(ctx, pr, first, int(a.blockSize), a.conc, func(ctx context.Context, num int, data []byte) error {
		if num > 50000 {
			return fmt.Errorf("object larger than 50000 blocks of %d bytes", a.blockSize)
		}
		_, err := bc.StageBlock(ctx, blockID(num), streaming.NopCloser(bytes.NewReader(data)), nil)
		mu.Lock()
		maxNum = max(maxNum, num)
		mu.Unlock()
		return err
	})
	if err == nil {
		err = pr.check()
	}
	if err != nil {
		if errors.Is(err, ErrSizeMismatch) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return ObjectInfo{}, err
		}
		return ObjectInfo{}, azErr(err, key)
	}
	ids := make([]string, maxNum)
	for i := range ids {
		ids[i] = blockID(i + 1)
	}
	sum := pr.md5.Sum(nil)
	out, err := bc.CommitBlockList(ctx, ids, &blockblob.CommitBlockListOptions{
		HTTPHeaders: &blob.HTTPHeaders{BlobContentType: nonEmpty(meta.ContentType), BlobContentMD5: sum},
		Metadata:    md,
	})
	if err != nil {
		return ObjectInfo{}, azErr(err, key)
	}
	return azInfo(key, pr.n, sum, out.LastModified, nonEmpty(meta.ContentType), md), nil
}

func (a *Azure) Get(ctx context.Context, key string, rng *Range) (io.ReadCloser, ObjectInfo, error) {
	ctx = detach(ctx)
	bc, err := a.blob(key)
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	if err := checkRangeArg(rng); err != nil {
		return nil, ObjectInfo{}, err
	}
	opts := &blob.DownloadStreamOptions{}
	if rng != nil {
		opts.Range = blob.HTTPRange{Offset: rng.Start, Count: rng.End - rng.Start + 1}
	}
	resp, err := bc.DownloadStream(ctx, opts)
	if err != nil {
		return nil, ObjectInfo{}, azErr(err, key)
	}
	size := deref64(resp.ContentLength)
	md5sum := resp.ContentMD5
	var body io.ReadCloser = resp.NewRetryReader(ctx, &blob.RetryReaderOptions{MaxRetries: 3})
	if rng != nil {
		if cr := deref(resp.ContentRange); cr != "" {
			i := strings.LastIndexByte(cr, '/')
			total, perr := strconv.ParseInt(cr[i+1:], 10, 64)
			if i < 0 || perr != nil {
				body.Close()
				return nil, ObjectInfo{}, fmt.Errorf("backend azure-blob: %q: bad Content-Range %q", key, cr)
			}
			size = total
			md5sum = resp.BlobContentMD5
		}
		// Azurite answers some unsatisfiable ranges (past the end, any range
		// of an empty blob) with content instead of 416: check here too.
		r, err := checkRange(rng, size)
		if err != nil {
			body.Close()
			return nil, ObjectInfo{}, err
		}
		if resp.ContentRange == nil {
			// Whole blob sent: cut the range out of it.
			if _, err := io.CopyN(io.Discard, body, r.Start); err != nil {
				body.Close()
				return nil, ObjectInfo{}, azErr(err, key)
			}
			body = struct {
				io.Reader
				io.Closer
			}{io.LimitReader(body, r.End-r.Start+1), body}
		}
	}
	info := azInfo(key, size, md5sum, resp.LastModified, resp.ContentType, resp.Metadata)
	return body, info, nil
}

func deref64(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func (a *Azure) Head(ctx context.Context, key string) (ObjectInfo, error) {
	ctx = detach(ctx)
	bc, err := a.blob(key)
	if err != nil {
		return ObjectInfo{}, err
	}
	p, err := bc.GetProperties(ctx, nil)
	if err != nil {
		return ObjectInfo{}, azErr(err, key)
	}
	return azInfo(key, deref64(p.ContentLength), p.ContentMD5, p.LastModified, p.ContentType, p.Metadata), nil
}

func (a *Azure) Delete(ctx context.Context, key string) error {
	ctx = detach(ctx)
	bc, err := a.blob(key)
	if err != nil {
		return err
	}
	_, err = bc.Delete(ctx, &blob.DeleteOptions{DeleteSnapshots: to(blob.DeleteSnapshotsOptionTypeInclude)})
	if err = azErr(err, key); errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

func to[T any](v T) *T { return &v }

// List filters the container listing: Azure has no start-after, so keys
// up to startAfter (within prefix) are read and skipped, and so are the
// staging blobs of multipart uploads (azure_uploads.go).
func (a *Azure) List(ctx context.Context, prefix, startAfter string, limit int) ([]ObjectInfo, error) {
	ctx = detach(ctx)
	if err := validateListArg(prefix); err != nil {
		return nil, err
	}
	if err := validateListArg(startAfter); err != nil {
		return nil, err
	}
	limit = listLimit(limit)
	pager := a.cc.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{
		Prefix:     to(a.prefix + prefix),
		Include:    container.ListBlobsInclude{Metadata: true},
		MaxResults: to(int32(min(limit, 5000))),
	})
	var out []ObjectInfo
	for pager.More() && len(out) < limit {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, azErr(err, prefix)
		}
		for _, it := range page.Segment.BlobItems {
			k := strings.TrimPrefix(deref(it.Name), a.prefix)
			if k <= startAfter || it.Properties == nil || a.isStaging(deref(it.Name), it.Metadata) {
				continue
			}
			p := it.Properties
			out = append(out, azInfo(k, deref64(p.ContentLength), p.ContentMD5, p.LastModified, p.ContentType, it.Metadata))
			if len(out) == limit {
				break
			}
		}
	}
	return out, nil
}
