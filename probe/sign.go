// Package probe is the bridge's probe endpoint for QoS oracles and the
// oracle's client for it.
//
// A provider's bridge serves, on its ops listener (the one with /metrics and
// /healthz, see bridge/daemon):
//
//	POST /probe/{unit}        body: the probe object (Content-Length <= 16 MiB)
//	GET  /probe/{unit}/ping   small read of a sentinel object (latency)
//
// POST writes the body through the unit's backend (the same Backend the S3
// front uses for consumers) under ".fb-probe/<oracle>/<nonce>", reads it
// back, checks its SHA-256 against the one the oracle signed, deletes it and
// answers JSON timings (Result). With ?echo=1 it streams the object read back
// from the backend as the response body instead, so the oracle times the
// upload (request sent to response headers) and the download (response body)
// end to end and checks the hash itself.
//
// Only registered oracles may call it. Every request carries
//
//	X-Flashback-Oracle     the oracle's fb1 address
//	X-Flashback-PubKey     its ed25519 public key (base64)
//	X-Flashback-Timestamp  unix seconds, within ±60 s of the bridge's clock
//	X-Flashback-Nonce      16-64 characters [A-Za-z0-9_-], never reused
//	X-Flashback-Content-SHA256  hex SHA-256 of the body (of "" for GET)
//	X-Flashback-Signature  base64 ed25519 signature over SigningBytes
//
// and the handler checks, before reading any body: the signature, that the
// address is the public key's, the timestamp window, that the nonce was not
// seen within the window, that the address is an active oracle on chain, a
// per-oracle request rate and in-flight limit, and the size limit.
package probe

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// Request headers.
const (
	HeaderOracle    = "X-Flashback-Oracle"
	HeaderPubKey    = "X-Flashback-PubKey"
	HeaderTimestamp = "X-Flashback-Timestamp"
	HeaderNonce     = "X-Flashback-Nonce"
	HeaderContent   = "X-Flashback-Content-SHA256"
	HeaderSignature = "X-Flashback-Signature"
)

// Response headers of an echo probe.
const (
	// HeaderWriteMs is the time the backend write took, in milliseconds.
	HeaderWriteMs = "X-Flashback-Write-Ms"
	// HeaderStoredSHA256 is the hex SHA-256 of what the bridge received.
	HeaderStoredSHA256 = "X-Flashback-Stored-SHA256"
)

// Limits and defaults.
const (
	// DefaultMaxBytes is the largest probe object.
	DefaultMaxBytes = 16 << 20
	// DefaultMaxSkew is how far a request's timestamp may be from the
	// bridge's clock.
	DefaultMaxSkew = 60 * time.Second
	// KeyPrefix is where probe objects live in a unit's backend. Consumer
	// objects live under "<reservation id>/", so they cannot collide.
	KeyPrefix = ".fb-probe/"
	// PingKey is the sentinel object GET .../ping reads.
	PingKey = KeyPrefix + "_ping"
	// PingSize is the sentinel's size.
	PingSize = 4096
)

// signingDomain separates probe signatures from every other use of the
// oracle's key (txs are signed over a different encoding).
const signingDomain = "flashback-probe-v1"

// SigningBytes is what a probe request's signature covers. resource is the
// canonical probe resource: "/probe/{unit}" or "/probe/{unit}/ping", plus
// "?" and the sorted query if there is one (a path prefix added by a reverse
// proxy in front of the bridge is not part of it); contentSHA256 is the hex
// SHA-256 of the body.
func SigningBytes(method, resource, unit string, timestamp int64, nonce, contentSHA256 string) []byte {
	return []byte(strings.Join([]string{signingDomain, method, resource, unit, strconv.FormatInt(timestamp, 10), nonce, contentSHA256}, "\n"))
}

// EmptySHA256 is the hex SHA-256 of an empty body.
var EmptySHA256 = func() string { s := sha256.Sum256(nil); return hex.EncodeToString(s[:]) }()

// NewNonce returns a fresh random nonce.
func NewNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func validNonce(s string) bool {
	if len(s) < 16 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func validHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}
