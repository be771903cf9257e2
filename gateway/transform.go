package gateway

import (
	"context"
	"io"
	"net/http"
)

// Transform is the seam for end-to-end encryption (package objcrypt: AES-
// 256-GCM in fixed-size chunks). It is not wired in yet; until it is, the
// gateway refuses object reads and writes on repositories marked Encrypted
// (errEncryptionUnavailable) rather than store plaintext for them.
//
// Wiring it: PutObject and UploadPart stream Seal's output to the members
// (fanWrite.body, size StoredSize) so the members' SHA-256 is over the
// ciphertext; GetObject asks the members for StoredRange of the client's
// range and serves Open's output. Since Open authenticates each chunk
// before returning its bytes, encrypted objects of any size and any range
// are verified before they are sent: a chunk that fails makes Open's
// reader fail, and the failover reader then resumes from another member
// at the stored offset of that chunk (and queues the bad copy), instead
// of the end-of-stream SHA-256 check that unencrypted large objects get.
// HEAD and LIST report PlainSize of the stored sizes.
type Transform interface {
	// StoredSize is the size on the members of a plaintext of plainSize bytes.
	StoredSize(plainSize int64) int64
	// PlainSize is the plaintext size of a stored object of storedSize bytes.
	PlainSize(storedSize int64) (int64, error)
	// Seal returns the stored bytes of a plaintext body, streaming, in
	// bounded memory.
	Seal(ctx context.Context, repo Repo, key string, plain io.Reader, plainSize int64) (io.Reader, error)
	// StoredRange maps the plaintext bytes [start, end] to the stored
	// bytes to read (whole chunks).
	StoredRange(start, end, plainSize int64) (storedStart, storedEnd int64)
	// Open returns the plaintext bytes [start, end] from stored bytes
	// beginning at storedStart, authenticating every chunk before any of
	// its bytes is returned.
	Open(ctx context.Context, repo Repo, key string, stored io.Reader, storedStart, start, end int64) (io.Reader, error)
}

var errEncryptionUnavailable = apiErr("NotImplemented", http.StatusNotImplemented,
	"This repository is end-to-end encrypted and this gateway cannot encrypt yet; nothing was stored or read.")
