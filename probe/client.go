package probe

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/flashback-network/flashback/address"
)

// Client calls probe endpoints as one oracle.
type Client struct {
	key  ed25519.PrivateKey
	addr string
	// HTTP is the HTTP client (default: one with a 2-minute timeout).
	HTTP *http.Client
	// Now is the clock the requests are stamped with (default time.Now).
	Now func() time.Time
}

// NewClient returns a client signing with the oracle's key.
func NewClient(key ed25519.PrivateKey) *Client {
	return &Client{key: key, addr: address.FromPubKey(key.Public().(ed25519.PublicKey)),
		HTTP: &http.Client{Timeout: 2 * time.Minute}, Now: time.Now}
}

// Address is the oracle's address.
func (c *Client) Address() string { return c.addr }

// Error is a probe endpoint's error answer (or any non-200 status).
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("probe: HTTP %d %s: %s", e.Status, e.Code, e.Message)
}

func readError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var eb ErrorBody
	if json.Unmarshal(b, &eb) == nil && eb.Code != "" {
		return &Error{Status: resp.StatusCode, Code: eb.Code, Message: eb.Message}
	}
	return &Error{Status: resp.StatusCode, Code: "http_error", Message: strings.TrimSpace(string(b))}
}

// endpoint builds base + the probe path; base is BaseURL of the bridge's
// registered endpoint (http://host:9000/_flashback: its S3 listener), or
// its ops listener's URL (http://host:9100), or either with a prefix a
// reverse proxy strips.
func endpoint(base, unit, suffix string, q url.Values) string {
	return strings.TrimRight(base, "/") + canonicalResource(url.PathEscape(unit), suffix, q)
}

func (c *Client) newRequest(ctx context.Context, method, base, unit, suffix string, q url.Values, body io.Reader, size int64, contentSHA string) (*http.Request, error) {
	u := endpoint(base, unit, suffix, q)
	if body != nil && size == 0 {
		body = http.NoBody // else an empty body goes out chunked
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.ContentLength = size
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	c.sign(req, unit, suffix, q, contentSHA)
	return req, nil
}

func (c *Client) sign(req *http.Request, unit, suffix string, q url.Values, contentSHA string) {
	ts := c.Now().Unix()
	nonce := NewNonce()
	sig := ed25519.Sign(c.key, SigningBytes(req.Method, canonicalResource(unit, suffix, q), unit, ts, nonce, contentSHA))
	h := req.Header
	h.Set(HeaderOracle, c.addr)
	h.Set(HeaderPubKey, b64(c.key.Public().(ed25519.PublicKey)))
	h.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	h.Set(HeaderNonce, nonce)
	h.Set(HeaderContent, contentSHA)
	h.Set(HeaderSignature, b64(sig))
}

// Ping is one small read: RTT is the round trip the oracle saw.
type Ping struct {
	RTT    time.Duration
	Server PingResult
}

// Ping reads the unit's small sentinel object through the bridge.
func (c *Client) Ping(ctx context.Context, base, unit string) (*Ping, error) {
	req, err := c.newRequest(ctx, http.MethodGet, base, unit, "/ping", nil, nil, 0, EmptySHA256)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, readError(resp)
	}
	var p Ping
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10)) // all of it: the connection is reused
	p.RTT = time.Since(t0)
	if err != nil {
		return nil, fmt.Errorf("probe: ping answer: %w", err)
	}
	if err := json.Unmarshal(b, &p.Server); err != nil {
		return nil, fmt.Errorf("probe: ping answer: %w", err)
	}
	return &p, nil
}

// randomObject is n pseudo-random bytes from a fresh seed; open() can be
// called twice for the same bytes (once to hash, once to send), so memory
// does not grow with n.
type randomObject struct {
	seed [32]byte
	n    int64
}

func newRandomObject(n int64) *randomObject {
	o := &randomObject{n: n}
	_, _ = rand.Read(o.seed[:])
	return o
}

func (o *randomObject) open() io.Reader { return io.LimitReader(mrand.NewChaCha8(o.seed), o.n) }

func (o *randomObject) sha256() string {
	h := sha256.New()
	_, _ = io.Copy(h, o.open())
	return hex.EncodeToString(h.Sum(nil))
}

// Transfer is one write-and-read-back probe as the oracle saw it.
type Transfer struct {
	Bytes int64
	// Upload is from sending the request to the response headers: the
	// upload plus the backend write (and opening the read-back).
	Upload time.Duration
	// Download is reading the object back in the response body.
	Download time.Duration
	// SHA256OK: what came back is what was sent.
	SHA256OK bool
	// ServerWriteMs is the backend write time the bridge measured.
	ServerWriteMs float64
}

// Transfer writes n random bytes to the unit through the bridge and reads
// them back (POST /probe/{unit}?echo=1), checking the hash. A failed call
// returns an error; a call that completed with different bytes returns
// SHA256OK false.
func (c *Client) Transfer(ctx context.Context, base, unit string, n int64) (*Transfer, error) {
	obj := newRandomObject(n)
	sum := obj.sha256()
	q := url.Values{"echo": {"1"}}
	req, err := c.newRequest(ctx, http.MethodPost, base, unit, "", q, obj.open(), n, sum)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	t1 := time.Now()
	if resp.StatusCode != http.StatusOK {
		return nil, readError(resp)
	}
	h := sha256.New()
	got, err := io.Copy(h, resp.Body)
	if err != nil {
		return nil, fmt.Errorf("probe: reading the object back: %w", err)
	}
	t := &Transfer{Bytes: n, Upload: t1.Sub(t0), Download: time.Since(t1),
		SHA256OK: got == n && hex.EncodeToString(h.Sum(nil)) == sum}
	t.ServerWriteMs, _ = strconv.ParseFloat(resp.Header.Get(HeaderWriteMs), 64)
	return t, nil
}

// Probe is the JSON form of POST /probe/{unit}: the bridge reads the
// object back itself and answers its own timings.
func (c *Client) Probe(ctx context.Context, base, unit string, n int64) (*Result, error) {
	obj := newRandomObject(n)
	req, err := c.newRequest(ctx, http.MethodPost, base, unit, "", nil, obj.open(), n, obj.sha256())
	if err != nil {
		return nil, err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, readError(resp)
	}
	var r Result
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err == nil {
		err = json.Unmarshal(b, &r)
	}
	if err != nil {
		return nil, fmt.Errorf("probe: answer: %w", err)
	}
	return &r, nil
}

// SignedRequest builds a signed request with an arbitrary body (for tests
// and tools); contentSHA256 "" means the body's real hash.
func (c *Client) SignedRequest(ctx context.Context, method, base, unit, suffix string, q url.Values, body []byte, contentSHA256 string) (*http.Request, error) {
	if contentSHA256 == "" {
		s := sha256.Sum256(body)
		contentSHA256 = hex.EncodeToString(s[:])
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	return c.newRequest(ctx, method, base, unit, suffix, q, rd, int64(len(body)), contentSHA256)
}
