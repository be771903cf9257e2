package probe

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/flashback-network/flashback/storage"
)

// Config configures a Handler.
type Config struct {
	// Backend returns the backend of a unit this bridge serves.
	Backend func(unit string) (storage.Backend, bool)
	// IsOracle reports whether addr is an active oracle on chain. Wrap the
	// chain query with CachedIsOracle.
	IsOracle func(ctx context.Context, addr string) (bool, error)
	// MaxBytes is the largest probe object (default DefaultMaxBytes).
	MaxBytes int64
	// MaxSkew is the accepted clock difference (default DefaultMaxSkew).
	MaxSkew time.Duration
	// RatePerSecond and Burst bound each oracle's requests per unit
	// (default 5/s, burst 20); MaxInFlight its concurrent requests per unit
	// (default 4).
	RatePerSecond float64
	Burst         int
	MaxInFlight   int
	// MaxNonces bounds the replay cache (default 1<<20); when full, new
	// requests get 503 until entries expire.
	MaxNonces int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Log, if set, receives one line per failed backend operation.
	Log func(format string, args ...any)
}

// Result is the JSON answer of POST /probe/{unit}.
type Result struct {
	Unit     string  `json:"unit"`
	Bytes    int64   `json:"bytes"`
	WriteMs  float64 `json:"write_ms"`
	ReadMs   float64 `json:"read_ms"`
	SHA256   string  `json:"sha256"`
	SHA256OK bool    `json:"sha256_ok"`
}

// PingResult is the JSON answer of GET /probe/{unit}/ping.
type PingResult struct {
	Unit   string  `json:"unit"`
	Bytes  int64   `json:"bytes"`
	ReadMs float64 `json:"read_ms"`
}

// ErrorBody is every error answer.
type ErrorBody struct {
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Handler serves the probe endpoint. Mount it on "/probe/".
type Handler struct {
	cfg Config
	mux *http.ServeMux

	mu        sync.Mutex
	nonces    map[string]int64 // oracle/nonce -> unix second after which it may be forgotten
	lastSweep int64
	limits    map[string]*limiter // by oracle/unit
}

// NewHandler builds the probe endpoint.
func NewHandler(cfg Config) *Handler {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.MaxSkew <= 0 {
		cfg.MaxSkew = DefaultMaxSkew
	}
	if cfg.RatePerSecond <= 0 {
		cfg.RatePerSecond = 5
	}
	if cfg.Burst <= 0 {
		cfg.Burst = 20
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 4
	}
	if cfg.MaxNonces <= 0 {
		cfg.MaxNonces = 1 << 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Backend == nil {
		cfg.Backend = func(string) (storage.Backend, bool) { return nil, false }
	}
	h := &Handler{cfg: cfg, mux: http.NewServeMux(), nonces: map[string]int64{}, limits: map[string]*limiter{}}
	h.mux.HandleFunc("POST /probe/{unit}", h.transfer)
	h.mux.HandleFunc("GET /probe/{unit}/ping", h.ping)
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no probe route %s %s (POST /probe/{unit}, GET /probe/{unit}/ping)", r.Method, r.URL.Path))
	})
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// BackendMap adapts a map of backends to Config.Backend.
func BackendMap(m map[string]storage.Backend) func(string) (storage.Backend, bool) {
	return func(unit string) (storage.Backend, bool) { backend, ok := m[unit]; return backend, ok }
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, ErrorBody{Status: status, Code: code, Message: msg})
}

func (h *Handler) logf(format string, args ...any) {
	if h.cfg.Log != nil {
		h.cfg.Log(format, args...)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// transfer is POST /probe/{unit}: write, read back, check, delete.
func (h *Handler) transfer(w http.ResponseWriter, r *http.Request) {
	unit := r.PathValue("unit")
	c, ok := h.authorize(w, r, unit, "")
	if !ok {
		return
	}
	defer c.release()
	backend, ok := h.cfg.Backend(unit)
	if !ok {
		writeError(w, http.StatusNotFound, "unknown_unit", fmt.Sprintf("this bridge does not serve unit %q", unit))
		return
	}
	if r.ContentLength < 0 {
		writeError(w, http.StatusLengthRequired, "length_required", "send the probe object with a Content-Length")
		return
	}
	if r.ContentLength > h.cfg.MaxBytes {
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("probe object of %d bytes is over the limit of %d", r.ContentLength, h.cfg.MaxBytes))
		return
	}
	echo := r.URL.Query().Get("echo") == "1"
	ctx := r.Context()
	key := KeyPrefix + c.oracle + "/" + c.nonce
	hw := sha256.New()
	body := io.TeeReader(http.MaxBytesReader(w, r.Body, h.cfg.MaxBytes), hw)
	t0 := time.Now()
	_, err := backend.Put(ctx, key, body, r.ContentLength, storage.ObjectMeta{ContentType: "application/octet-stream"})
	writeDur := time.Since(t0)
	// Whatever happens next, the probe object goes away.
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := backend.Delete(dctx, key); err != nil {
			h.logf("probe: delete %s on %s: %v", key, unit, err)
		}
	}()
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("probe object is over the limit of %d bytes", h.cfg.MaxBytes))
			return
		}
		h.logf("probe: write %s on %s: %v", key, unit, err)
		writeError(w, http.StatusBadGateway, "backend_write_failed", "writing the probe object failed: "+err.Error())
		return
	}
	stored := hex.EncodeToString(hw.Sum(nil))
	if stored != c.contentSHA {
		writeError(w, http.StatusBadRequest, "content_mismatch", fmt.Sprintf("the body's SHA-256 is %s, the signed one %s", stored, c.contentSHA))
		return
	}
	t1 := time.Now()
	rc, info, err := backend.Get(ctx, key, nil)
	if err != nil {
		h.logf("probe: read %s on %s: %v", key, unit, err)
		writeError(w, http.StatusBadGateway, "backend_read_failed", "reading the probe object back failed: "+err.Error())
		return
	}
	defer rc.Close()
	if echo {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.FormatInt(info.Size, 10))
		w.Header().Set(HeaderWriteMs, strconv.FormatFloat(ms(writeDur), 'f', 3, 64))
		w.Header().Set(HeaderStoredSHA256, stored)
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		_, _ = io.Copy(w, rc)
		return
	}
	hr := sha256.New()
	n, err := io.Copy(hr, rc)
	readDur := time.Since(t1)
	if err != nil {
		h.logf("probe: read %s on %s: %v", key, unit, err)
		writeError(w, http.StatusBadGateway, "backend_read_failed", "reading the probe object back failed: "+err.Error())
		return
	}
	got := hex.EncodeToString(hr.Sum(nil))
	writeJSON(w, http.StatusOK, Result{Unit: unit, Bytes: n, WriteMs: ms(writeDur), ReadMs: ms(readDur), SHA256: got, SHA256OK: got == c.contentSHA && n == r.ContentLength})
}

// ping is GET /probe/{unit}/ping: read the small sentinel object (writing it
// first if it is missing).
func (h *Handler) ping(w http.ResponseWriter, r *http.Request) {
	unit := r.PathValue("unit")
	c, ok := h.authorize(w, r, unit, "/ping")
	if !ok {
		return
	}
	defer c.release()
	backend, ok := h.cfg.Backend(unit)
	if !ok {
		writeError(w, http.StatusNotFound, "unknown_unit", fmt.Sprintf("this bridge does not serve unit %q", unit))
		return
	}
	ctx := r.Context()
	t0 := time.Now()
	rc, _, err := backend.Get(ctx, PingKey, nil)
	if errors.Is(err, storage.ErrNotFound) {
		var seed [32]byte
		for i := range seed {
			seed[i] = byte(rand.Uint32())
		}
		if _, err = backend.Put(ctx, PingKey, io.LimitReader(rand.NewChaCha8(seed), PingSize), PingSize, storage.ObjectMeta{}); err == nil {
			t0 = time.Now()
			rc, _, err = backend.Get(ctx, PingKey, nil)
		}
	}
	if err != nil {
		h.logf("probe: ping %s: %v", unit, err)
		writeError(w, http.StatusBadGateway, "backend_read_failed", "reading the ping object failed: "+err.Error())
		return
	}
	n, err := io.Copy(io.Discard, rc)
	rc.Close()
	d := time.Since(t0)
	if err != nil {
		writeError(w, http.StatusBadGateway, "backend_read_failed", "reading the ping object failed: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, PingResult{Unit: unit, Bytes: n, ReadMs: ms(d)})
}

// CachedIsOracle wraps a chain lookup with a cache of ttl (positive and
// negative answers alike; errors are not cached). At most maxEntries
// addresses are kept.
func CachedIsOracle(lookup func(ctx context.Context, addr string) (bool, error), ttl time.Duration) func(ctx context.Context, addr string) (bool, error) {
	type entry struct {
		ok  bool
		exp time.Time
	}
	const maxEntries = 10_000
	var mu sync.Mutex
	cache := map[string]entry{}
	return func(ctx context.Context, addr string) (bool, error) {
		now := time.Now()
		mu.Lock()
		e, hit := cache[addr]
		mu.Unlock()
		if hit && now.Before(e.exp) {
			return e.ok, nil
		}
		ok, err := lookup(ctx, addr)
		if err != nil {
			return false, err
		}
		mu.Lock()
		if len(cache) >= maxEntries {
			for k, v := range cache {
				if !now.Before(v.exp) {
					delete(cache, k)
				}
			}
			if len(cache) >= maxEntries {
				clear(cache)
			}
		}
		cache[addr] = entry{ok: ok, exp: now.Add(ttl)}
		mu.Unlock()
		return ok, nil
	}
}
