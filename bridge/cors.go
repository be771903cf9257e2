package bridge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/flashback-network/flashback/storage"
	"github.com/versity/versitygw/s3err"
)

// A reservation's CORS configuration (the XML of PutBucketCors, validated
// by versitygw) is kept in its backend at <res>/.fb-meta/cors.xml, so it
// survives restarts and follows the reservation's data. versitygw applies
// it: unauthenticated preflights (OPTIONS with Origin and
// Access-Control-Request-Method) are answered from it, and requests with
// an Origin get the matching Access-Control-* headers. Since every browser
// request reads it, it is cached per reservation; this bridge is the only
// writer of its reservations (as for the usage accounting).

// maxCORSConfig bounds a stored configuration (S3 allows 100 rules).
const maxCORSConfig = 1 << 20

func corsKey(br bucketRef) string { return br.key(metaDir + "cors.xml") }

type corsCache struct {
	mu sync.Mutex
	m  map[string]corsEntry
}

type corsEntry struct {
	data []byte // nil: no configuration
}

func (c *corsCache) get(id string) (corsEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	return e, ok
}

func (c *corsCache) put(id string, e corsEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]corsEntry)
	}
	c.m[id] = e
}

func (c *corsCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}

func (g *gateway) GetBucketCors(ctx context.Context, bucket string) ([]byte, error) {
	res, be, ok := g.b.lookupRes(bucket)
	if !ok {
		return nil, noSuchBucket(bucket)
	}
	e, ok := g.b.cors.get(res.ID)
	if !ok {
		var err error
		if e, err = g.loadCors(ctx, bucketRef{res: res, be: be}); err != nil {
			return nil, err
		}
	}
	if e.data == nil {
		return nil, s3err.GetBucketErr(s3err.ErrNoSuchCORSConfiguration, bucket)
	}
	return e.data, nil
}

func (g *gateway) PutBucketCors(ctx context.Context, bucket string, cors []byte) error {
	res, be, ok := g.b.lookupRes(bucket)
	if !ok {
		return noSuchBucket(bucket)
	}
	if len(cors) > maxCORSConfig {
		return s3err.GetAPIError(s3err.ErrEntityTooLarge)
	}
	br := bucketRef{res: res, be: be}
	unlock := g.b.locks.lock(corsKey(br))
	defer unlock()
	g.b.cors.forget(res.ID)
	if _, err := be.Put(ctx, corsKey(br), bytes.NewReader(cors), int64(len(cors)), storage.ObjectMeta{ContentType: "application/xml"}); err != nil {
		return fmt.Errorf("store CORS configuration of %s: %w", bucket, err)
	}
	g.b.cors.put(res.ID, corsEntry{data: bytes.Clone(cors)})
	return nil
}

func (g *gateway) DeleteBucketCors(ctx context.Context, bucket string) error {
	res, be, ok := g.b.lookupRes(bucket)
	if !ok {
		return noSuchBucket(bucket)
	}
	br := bucketRef{res: res, be: be}
	unlock := g.b.locks.lock(corsKey(br))
	defer unlock()
	g.b.cors.forget(res.ID)
	if err := be.Delete(ctx, corsKey(br)); err != nil {
		return fmt.Errorf("delete CORS configuration of %s: %w", bucket, err)
	}
	g.b.cors.put(res.ID, corsEntry{})
	return nil
}

// loadCors reads a reservation's configuration into the cache, under the
// lock its writers take, so that a concurrent Put cannot be overwritten in
// the cache by what was read before it.
func (g *gateway) loadCors(ctx context.Context, br bucketRef) (corsEntry, error) {
	unlock := g.b.locks.lock(corsKey(br))
	defer unlock()
	if e, ok := g.b.cors.get(br.res.ID); ok {
		return e, nil
	}
	var e corsEntry
	rc, _, err := br.be.Get(ctx, corsKey(br), nil)
	switch {
	case errors.Is(err, storage.ErrNotFound):
	case err != nil:
		return e, fmt.Errorf("read CORS configuration of %s: %w", br.res.ID, err)
	default:
		data, err := io.ReadAll(io.LimitReader(rc, maxCORSConfig))
		rc.Close()
		if err != nil {
			return e, fmt.Errorf("read CORS configuration of %s: %w", br.res.ID, err)
		}
		e.data = data
	}
	g.b.cors.put(br.res.ID, e)
	return e, nil
}
