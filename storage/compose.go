package storage

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MultipartETag is the S3 ETag of an object assembled from parts with the
// given (hex MD5) ETags: hex(md5(md5(part1) || ... || md5(partN))) + "-N".
func MultipartETag(partETags []string) (string, error) {
	h := md5.New()
	for _, e := range partETags {
		b, err := hex.DecodeString(strings.Trim(e, `"`))
		if err != nil || len(b) != md5.Size {
			return "", fmt.Errorf("backend: part ETag %q is not a hex MD5", e)
		}
		h.Write(b)
	}
	return fmt.Sprintf("%s-%d", hex.EncodeToString(h.Sum(nil)), len(partETags)), nil
}

// Compose concatenates parts into dst on b: natively when b implements
// Composer, else by streaming the parts through b.Put (constant memory,
// but the bytes travel through this process). The result's ETag is the S3
// multipart ETag of the parts on backends that store it natively; the
// fallback keeps the hex MD5 of the whole content.
func Compose(ctx context.Context, b Backend, dst string, parts []string, meta ObjectMeta) (ObjectInfo, error) {
	if c, ok := b.(Composer); ok {
		return c.Compose(ctx, dst, parts, meta)
	}
	return composeByStreaming(ctx, b, dst, parts, meta)
}

// composeByStreaming is Compose for backends without a native way: parts are
// read one after another into a single Put of known size.
func composeByStreaming(ctx context.Context, b Backend, dst string, parts []string, meta ObjectMeta) (ObjectInfo, error) {
	return streamCompose(ctx, b, dst, parts, func(r io.Reader, size int64, _ string) (ObjectInfo, error) {
		return b.Put(ctx, dst, r, size, meta)
	})
}

// streamCompose heads the parts, then calls put with a reader of their
// concatenation, its size and the multipart ETag.
func streamCompose(ctx context.Context, b Backend, dst string, parts []string,
	put func(r io.Reader, size int64, etag string) (ObjectInfo, error)) (ObjectInfo, error) {
	if len(parts) == 0 {
		return ObjectInfo{}, errors.New("backend: compose needs at least one part")
	}
	if err := ValidateKey(dst); err != nil {
		return ObjectInfo{}, err
	}
	var total int64
	etags := make([]string, len(parts))
	for i, p := range parts {
		info, err := b.Head(ctx, p)
		if err != nil {
			return ObjectInfo{}, fmt.Errorf("compose part %q: %w", p, err)
		}
		total += info.Size
		etags[i] = info.ETag
	}
	etag, err := MultipartETag(etags)
	if err != nil {
		return ObjectInfo{}, err
	}
	r := &partsReader{ctx: ctx, b: b, parts: parts}
	defer r.Close()
	return put(r, total, etag)
}

// partsReader reads the parts of a compose one after another.
type partsReader struct {
	ctx   context.Context
	b     Backend
	parts []string
	cur   io.ReadCloser
}

func (p *partsReader) Read(buf []byte) (int, error) {
	for {
		if p.cur == nil {
			if len(p.parts) == 0 {
				return 0, io.EOF
			}
			rc, _, err := p.b.Get(p.ctx, p.parts[0], nil)
			if err != nil {
				return 0, fmt.Errorf("compose part %q: %w", p.parts[0], err)
			}
			p.cur, p.parts = rc, p.parts[1:]
		}
		n, err := p.cur.Read(buf)
		if err == io.EOF {
			p.cur.Close()
			p.cur = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

func (p *partsReader) Close() error {
	if p.cur != nil {
		return p.cur.Close()
	}
	return nil
}
