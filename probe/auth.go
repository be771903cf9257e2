package probe

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/flashback-network/flashback/address"
)

// limiter is a token bucket with a cap on concurrent probes, per oracle and
// unit.
type limiter struct {
	tokens   float64
	last     time.Time
	inFlight int
}

// canonicalResource is the resource a signature covers: the probe path and
// the sorted query, independent of any prefix a reverse proxy strips.
func canonicalResource(unit, suffix string, q url.Values) string {
	s := "/probe/" + unit + suffix
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

// caller is an authorized request's oracle.
type caller struct {
	oracle, nonce, contentSHA string
	release                   func()
}

// authorize checks the signature, the clock, the nonce, the oracle's
// registration and its limits. On failure it has written the error.
func (h *Handler) authorize(w http.ResponseWriter, r *http.Request, unit, suffix string) (*caller, bool) {
	c, refused := h.admitRequest(r, unit, suffix)
	if refused != nil {
		if refused.retryAfter {
			w.Header().Set("Retry-After", "1")
		}
		writeError(w, refused.status, refused.code, refused.msg)
		return nil, false
	}
	return c, true
}

// refusal is why a probe request is not served.
type refusal struct {
	status     int
	code, msg  string
	retryAfter bool // ask the client to retry in a second
}

func forbidden(code, msg string) *refusal {
	return &refusal{status: http.StatusForbidden, code: code, msg: msg}
}

// signedRequest is a request whose signature verified.
type signedRequest struct {
	oracle, nonce, content string
	ts                     int64
	now                    time.Time // the bridge's clock at the check
	skew                   int64     // seconds a timestamp may be off
}

// admitRequest runs the checks in order: signature, registration on chain,
// then nonce and limits.
func (h *Handler) admitRequest(r *http.Request, unit, suffix string) (*caller, *refusal) {
	sr, refused := h.verifySignature(r, unit, suffix)
	if refused != nil {
		return nil, refused
	}
	ok, err := h.cfg.IsOracle(r.Context(), sr.oracle)
	if err != nil {
		return nil, &refusal{status: http.StatusServiceUnavailable, code: "chain_unavailable", msg: "cannot check the oracle on chain: " + err.Error()}
	}
	if !ok {
		return nil, forbidden("not_oracle", fmt.Sprintf("%s is not an active oracle on chain", sr.oracle))
	}
	return h.spendNonce(sr, unit)
}

// verifySignature checks that the request is completely signed, recent, and
// signed by the key of the oracle address it names.
func (h *Handler) verifySignature(r *http.Request, unit, suffix string) (*signedRequest, *refusal) {
	header := r.Header
	oracle, pubB64, tsStr, nonce, content, sigB64 := header.Get(HeaderOracle), header.Get(HeaderPubKey), header.Get(HeaderTimestamp), header.Get(HeaderNonce), header.Get(HeaderContent), header.Get(HeaderSignature)
	if oracle == "" || pubB64 == "" || tsStr == "" || nonce == "" || content == "" || sigB64 == "" {
		return nil, forbidden("unsigned", "probe requests must be signed by a registered oracle (X-Flashback-Oracle, -PubKey, -Timestamp, -Nonce, -Content-SHA256, -Signature)")
	}
	ts, err := strconv.ParseInt(tsStr, 10, 64)
	if err != nil {
		return nil, forbidden("bad_timestamp", "X-Flashback-Timestamp must be unix seconds")
	}
	now := h.cfg.Now()
	skew := int64(h.cfg.MaxSkew / time.Second)
	if d := now.Unix() - ts; d > skew || d < -skew {
		return nil, forbidden("stale_timestamp", fmt.Sprintf("timestamp %d is %ds from the bridge's clock %d (at most %ds accepted)", ts, d, now.Unix(), skew))
	}
	if !validNonce(nonce) {
		return nil, forbidden("bad_nonce", "X-Flashback-Nonce must be 16-64 characters of [A-Za-z0-9_-]")
	}
	if !validHexSHA256(content) {
		return nil, forbidden("bad_content_sha256", "X-Flashback-Content-SHA256 must be 64 lower-case hex digits")
	}
	pub, err := base64.StdEncoding.DecodeString(pubB64)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return nil, forbidden("bad_pubkey", "X-Flashback-PubKey must be a base64 ed25519 public key")
	}
	if address.FromPubKey(pub) != oracle {
		return nil, forbidden("address_mismatch", fmt.Sprintf("%s is not the address of the public key given", oracle))
	}
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil || !ed25519.Verify(pub, SigningBytes(r.Method, canonicalResource(unit, suffix, r.URL.Query()), unit, ts, nonce, content), sig) {
		return nil, forbidden("bad_signature", "the signature does not match the request")
	}
	return &signedRequest{oracle: oracle, nonce: nonce, content: content, ts: ts, now: now, skew: skew}, nil
}

// spendNonce refuses a replayed nonce and a request over the oracle's limits
// on unit; otherwise it records the nonce and takes a token and a slot, which
// the caller's release gives back.
func (h *Handler) spendNonce(sr *signedRequest, unit string) (*caller, *refusal) {
	oracle, now := sr.oracle, sr.now
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sweepLocked(now.Unix())
	nonceKey := oracle + "/" + sr.nonce
	if _, seen := h.nonces[nonceKey]; seen {
		return nil, forbidden("replayed_nonce", "this nonce was already used")
	}
	if len(h.nonces) >= h.cfg.MaxNonces {
		return nil, &refusal{status: http.StatusServiceUnavailable, code: "busy", msg: "too many recent probe requests; retry later"}
	}
	limitKey := oracle + "/" + unit
	lim := h.limits[limitKey]
	if lim == nil {
		lim = &limiter{tokens: float64(h.cfg.Burst), last: now}
		h.limits[limitKey] = lim
	}
	lim.tokens = min(float64(h.cfg.Burst), lim.tokens+now.Sub(lim.last).Seconds()*h.cfg.RatePerSecond)
	lim.last = now
	if lim.tokens < 1 || lim.inFlight >= h.cfg.MaxInFlight {
		return nil, &refusal{status: http.StatusTooManyRequests, code: "rate_limited", retryAfter: true,
			msg: fmt.Sprintf("oracle %s is over %g requests/s or %d concurrent probes on unit %s", oracle, h.cfg.RatePerSecond, h.cfg.MaxInFlight, unit)}
	}
	// The nonce is spent only by a request that gets through: a replay of
	// it fails from now on, until its timestamp leaves the window.
	h.nonces[nonceKey] = sr.ts + sr.skew + 1
	lim.tokens--
	lim.inFlight++
	var once sync.Once
	release := func() {
		once.Do(func() {
			h.mu.Lock()
			lim.inFlight--
			h.mu.Unlock()
		})
	}
	return &caller{oracle: oracle, nonce: sr.nonce, contentSHA: sr.content, release: release}, nil
}

// sweepLocked forgets nonces whose timestamps are out of the window (a
// replay of them is refused by the timestamp check) and idle limiters.
func (h *Handler) sweepLocked(now int64) {
	if now-h.lastSweep < 5 && len(h.nonces) < h.cfg.MaxNonces {
		return
	}
	h.lastSweep = now
	for k, exp := range h.nonces {
		if exp < now {
			delete(h.nonces, k)
		}
	}
	for k, l := range h.limits {
		if l.inFlight == 0 && time.Unix(now, 0).Sub(l.last) > time.Minute {
			delete(h.limits, k)
		}
	}
}
