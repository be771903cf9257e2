package storage

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
)

// GCSConfig configures a backend on a Google Cloud Storage bucket (or
// fake-gcs-server).
type GCSConfig struct {
	Bucket string `json:"bucket"`
	Prefix string `json:"prefix,omitempty"`
	// Endpoint of the JSON API, e.g. http://127.0.0.1:4443/storage/v1/
	// for fake-gcs-server; empty for Google.
	Endpoint string `json:"endpoint,omitempty"`
	// CredentialsFile: a service account JSON key; empty uses Application
	// Default Credentials unless WithoutAuthentication.
	CredentialsFile       string `json:"credentials_file,omitempty"`
	WithoutAuthentication bool   `json:"without_authentication,omitempty"`
	// ChunkSize of the resumable uploads (each upload buffers one chunk; a
	// chunk is retried on transient errors). Default 8 MiB; rounded up to a
	// multiple of 256 KiB.
	//
	// Uploads are always resumable: the object is only made when the
	// final chunk is sent, which a failed Put never does. (The client's
	// single-request streaming mode, ChunkSize 0, ends the multipart body
	// cleanly before reporting a reader error, so a server can commit a
	// truncated object: seen with fake-gcs-server.)
	ChunkSize int `json:"chunk_size,omitempty"`
}

// GCS is a backend on a Google Cloud Storage bucket. The ETag is the
// object's MD5 (GCS computes and keeps it for every non-composite object).
type GCS struct {
	c         *storage.Client
	bkt       *storage.BucketHandle
	prefix    string
	chunkSize int
}

var _ Composer = (*GCS)(nil)

// gcsTempPrefix holds intermediate objects of a Compose of more than 32
// parts; List hides it.
const gcsTempPrefix = ".flashback-tmp/"

// NewGCS builds a GCS backend; call Close when done.
func NewGCS(ctx context.Context, cfg GCSConfig) (*GCS, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("backend gcs: bucket is empty")
	}
	var opts []option.ClientOption
	if cfg.Endpoint != "" {
		opts = append(opts, option.WithEndpoint(cfg.Endpoint))
	}
	if cfg.WithoutAuthentication {
		opts = append(opts, option.WithoutAuthentication())
	} else if cfg.CredentialsFile != "" {
		opts = append(opts, option.WithCredentialsFile(cfg.CredentialsFile)) //nolint:staticcheck // service account key files are what providers have
	}
	c, err := storage.NewClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("backend gcs: %w", err)
	}
	const quantum = 256 << 10
	chunk := cfg.ChunkSize
	if chunk <= 0 {
		chunk = 8 << 20
	}
	chunk = (chunk + quantum - 1) / quantum * quantum
	return &GCS{c: c, bkt: c.Bucket(cfg.Bucket), prefix: cfg.Prefix, chunkSize: chunk}, nil
}

// Close releases the client.
func (g *GCS) Close() error { return g.c.Close() }

// Client is the underlying SDK client (tests create buckets with it).
func (g *GCS) Client() *storage.Client { return g.c }

func (g *GCS) obj(key string) (*storage.ObjectHandle, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	return g.bkt.Object(g.prefix + key), nil
}

func gcsErr(err error, key string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, storage.ErrObjectNotExist) {
		return fmt.Errorf("%w: %q", ErrNotFound, key)
	}
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		switch ge.Code {
		case 404:
			return fmt.Errorf("%w: %q", ErrNotFound, key)
		case 416:
			return fmt.Errorf("%w: %q", ErrInvalidRange, key)
		}
	}
	return fmt.Errorf("backend gcs: %q: %w", key, err)
}

func gcsInfo(key string, a *storage.ObjectAttrs) ObjectInfo {
	user, etag := splitMeta(a.Metadata)
	if etag == "" && len(a.MD5) > 0 {
		etag = hex.EncodeToString(a.MD5)
	}
	return ObjectInfo{Key: key, Size: a.Size, ETag: etag, LastModified: a.Updated.UTC(),
		ContentType: a.ContentType, UserMeta: user}
}

func (g *GCS) Put(ctx context.Context, key string, r io.Reader, size int64, meta ObjectMeta) (ObjectInfo, error) {
	ctx = detach(ctx)
	o, err := g.obj(key)
	if err != nil {
		return ObjectInfo{}, err
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := o.NewWriter(wctx)
	w.ChunkSize = g.chunkSize
	w.ContentType = meta.ContentType
	w.Metadata = normMeta(meta.UserMeta)
	// GCS computes the MD5 itself; the client checks the upload's CRC32C.
	pr := newPutReader(ctx, r, size, false)
	bp := copyBufPool.Get().(*[]byte)
	_, err = io.CopyBuffer(onlyWriter{w}, pr, *bp)
	copyBufPool.Put(bp)
	if err == nil {
		err = pr.check()
	}
	if err != nil {
		// Abort the upload before Close, which would send the final chunk
		// (cancelling the context alone races with Close): the resumable
		// session is never finalized, so no object is made.
		w.CloseWithError(err) //nolint:staticcheck // the synchronous abort is needed, see above
		cancel()
		w.Close()
		return ObjectInfo{}, err
	}
	if err := w.Close(); err != nil {
		return ObjectInfo{}, gcsErr(err, key)
	}
	attrs := w.Attrs()
	return gcsInfo(key, attrs), nil
}

func (g *GCS) Get(ctx context.Context, key string, rng *Range) (io.ReadCloser, ObjectInfo, error) {
	ctx = detach(ctx)
	o, err := g.obj(key)
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	if err := checkRangeArg(rng); err != nil {
		return nil, ObjectInfo{}, err
	}
	// The reader does not carry the MD5 nor (on the default XML reads) the
	// metadata: read the attributes, then that very generation.
	attrs, err := o.Attrs(ctx)
	if err != nil {
		return nil, ObjectInfo{}, gcsErr(err, key)
	}
	off, n := int64(0), int64(-1)
	if rng != nil {
		r, err := checkRange(rng, attrs.Size)
		if err != nil {
			return nil, ObjectInfo{}, err
		}
		off, n = r.Start, r.End-r.Start+1
	}
	rd, err := o.Generation(attrs.Generation).NewRangeReader(ctx, off, n)
	if err != nil {
		return nil, ObjectInfo{}, gcsErr(err, key)
	}
	return rd, gcsInfo(key, attrs), nil
}

func (g *GCS) Head(ctx context.Context, key string) (ObjectInfo, error) {
	ctx = detach(ctx)
	o, err := g.obj(key)
	if err != nil {
		return ObjectInfo{}, err
	}
	attrs, err := o.Attrs(ctx)
	if err != nil {
		return ObjectInfo{}, gcsErr(err, key)
	}
	return gcsInfo(key, attrs), nil
}

func (g *GCS) Delete(ctx context.Context, key string) error {
	ctx = detach(ctx)
	o, err := g.obj(key)
	if err != nil {
		return err
	}
	if err = gcsErr(o.Delete(ctx), key); errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

func (g *GCS) List(ctx context.Context, prefix, startAfter string, limit int) ([]ObjectInfo, error) {
	ctx = detach(ctx)
	if err := validateListArg(prefix); err != nil {
		return nil, err
	}
	if err := validateListArg(startAfter); err != nil {
		return nil, err
	}
	limit = listLimit(limit)
	q := &storage.Query{Prefix: g.prefix + prefix}
	if startAfter != "" {
		q.StartOffset = g.prefix + startAfter + "\x00" // smallest name > startAfter
	}
	if err := q.SetAttrSelection([]string{"Name", "Size", "MD5", "Updated", "ContentType", "Metadata"}); err != nil {
		return nil, err
	}
	it := g.bkt.Objects(ctx, q)
	it.PageInfo().MaxSize = min(limit+1, 1000)
	var out []ObjectInfo
	for len(out) < limit {
		a, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			return nil, gcsErr(err, prefix)
		}
		k := strings.TrimPrefix(a.Name, g.prefix)
		if strings.HasPrefix(k, gcsTempPrefix) || k <= startAfter {
			continue
		}
		out = append(out, gcsInfo(k, a))
	}
	return out, nil
}

// Copy is a server-side rewrite; content type and metadata are copied.
func (g *GCS) Copy(ctx context.Context, src, dst string) (ObjectInfo, error) {
	return g.copyWithMeta(ctx, src, dst, nil)
}

var _ metaCopier = (*GCS)(nil)

// copyWithMeta is Copy; edit, when set, makes the destination's user
// metadata from the source's (read first; the rewrite is then of that very
// generation).
func (g *GCS) copyWithMeta(ctx context.Context, src, dst string, edit func(map[string]string) map[string]string) (ObjectInfo, error) {
	ctx = detach(ctx)
	so, err := g.obj(src)
	if err != nil {
		return ObjectInfo{}, err
	}
	do, err := g.obj(dst)
	if err != nil {
		return ObjectInfo{}, err
	}
	c := do.CopierFrom(so)
	if edit != nil {
		a, err := so.Attrs(ctx)
		if err != nil {
			return ObjectInfo{}, gcsErr(err, src)
		}
		user, etag := splitMeta(a.Metadata)
		md := normMeta(edit(user))
		if etag != "" {
			if md == nil {
				md = map[string]string{}
			}
			md[metaETag] = etag
		}
		c = do.CopierFrom(so.Generation(a.Generation))
		c.ContentType, c.Metadata = a.ContentType, md
	}
	attrs, err := c.Run(ctx)
	if err != nil {
		return ObjectInfo{}, gcsErr(err, src)
	}
	return gcsInfo(dst, attrs), nil
}

// Compose uses GCS compose (32 sources per call, in a tree for more): no
// data goes through the bridge. The multipart ETag is kept in metadata.
func (g *GCS) Compose(ctx context.Context, dst string, parts []string, meta ObjectMeta) (ObjectInfo, error) {
	ctx = detach(ctx)
	if len(parts) == 0 {
		return ObjectInfo{}, errors.New("backend: compose needs at least one part")
	}
	do, err := g.obj(dst)
	if err != nil {
		return ObjectInfo{}, err
	}
	srcs := make([]*storage.ObjectHandle, len(parts))
	etags := make([]string, len(parts))
	for i, p := range parts {
		o, err := g.obj(p)
		if err != nil {
			return ObjectInfo{}, err
		}
		a, err := o.Attrs(ctx)
		if err != nil {
			return ObjectInfo{}, fmt.Errorf("compose part %q: %w", p, gcsErr(err, p))
		}
		etags[i] = gcsInfo(p, a).ETag
		srcs[i] = o.Generation(a.Generation)
	}
	etag, err := MultipartETag(etags)
	if err != nil {
		return ObjectInfo{}, err
	}
	var temps []*storage.ObjectHandle
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		for _, t := range temps {
			t.Delete(dctx)
		}
	}()
	tmpBase := fmt.Sprintf("%s%s%d/", g.prefix, gcsTempPrefix, time.Now().UnixNano())
	for level := 0; len(srcs) > 32; level++ {
		var next []*storage.ObjectHandle
		for i := 0; i < len(srcs); i += 32 {
			t := g.bkt.Object(fmt.Sprintf("%s%d-%d", tmpBase, level, i/32))
			if _, err := t.ComposerFrom(srcs[i:min(i+32, len(srcs))]...).Run(ctx); err != nil {
				return ObjectInfo{}, gcsErr(err, dst)
			}
			temps = append(temps, t)
			next = append(next, t)
		}
		srcs = next
	}
	c := do.ComposerFrom(srcs...)
	c.ContentType = meta.ContentType
	c.Metadata = normMeta(meta.UserMeta)
	if c.Metadata == nil {
		c.Metadata = map[string]string{}
	}
	c.Metadata[metaETag] = etag
	attrs, err := c.Run(ctx)
	if err != nil {
		return ObjectInfo{}, gcsErr(err, dst)
	}
	return gcsInfo(dst, attrs), nil
}
