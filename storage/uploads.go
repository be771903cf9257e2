package storage

import (
	"context"
	"io"
	"time"
)

// Uploader is implemented by backends with multipart uploads of their own
// (S3's CreateMultipartUpload/UploadPart/Complete): each part is streamed
// into the backend's upload as it arrives, and completing is metadata work
// on the backend, with no copy of the content. The S3 front prefers it over
// storing parts as objects and composing them.
type Uploader interface {
	// CreateUpload starts an upload that will become key; it returns the
	// backend's upload id.
	CreateUpload(ctx context.Context, key string, meta ObjectMeta) (string, error)
	// PutUploadPart streams part num (1..10000) of exactly size bytes; the
	// returned ETag is the hex MD5 of the part. A failed part leaves the
	// upload as it was (or without that part).
	PutUploadPart(ctx context.Context, key, uploadID string, num int, r io.Reader, size int64) (UploadPart, error)
	// UploadParts lists the parts stored so far, by number.
	UploadParts(ctx context.Context, key, uploadID string) ([]UploadPart, error)
	// CompleteUpload makes key the concatenation of the given parts (in
	// order; others are dropped) and ends the upload. The result's ETag is
	// MultipartETag of the parts' ETags. An unknown upload fails with
	// ErrNotFound.
	CompleteUpload(ctx context.Context, key, uploadID string, parts []UploadPart) (ObjectInfo, error)
	// AbortUpload drops the upload and its parts; an unknown upload is not
	// an error.
	AbortUpload(ctx context.Context, key, uploadID string) error
}

// UploadPart is a stored part of an Uploader's upload.
type UploadPart struct {
	Num          int
	ETag         string // hex MD5, no quotes
	Size         int64
	LastModified time.Time
}
