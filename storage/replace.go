package storage

import (
	"context"
	"io"
)

// Replacer is implemented by backends whose Put can tell, as part of the
// write, what object it replaced: the S3 front then needs no Head before a
// Put to keep a reservation's stored bytes (old size out, new size in).
type Replacer interface {
	PutReplace(ctx context.Context, key string, r io.Reader, size int64, meta ObjectMeta) (ObjectInfo, Replaced, error)
}

// Replaced is the object a write replaced (Existed false: none, or the
// backend could not tell; a caller then counts the write as a new object).
type Replaced struct {
	Existed bool
	Size    int64
}

var _ Replacer = (*Local)(nil)
