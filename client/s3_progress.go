package client

import (
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Progress is called as bytes move: done so far and the total (-1 when
// unknown, e.g. reading a pipe). Calls are never concurrent, but may come
// from different goroutines; done may go down when a request is retried.
type Progress func(done, total int64)

// tracker sums the bytes sent by every request of one transfer and calls
// the Progress function, one call at a time.
type tracker struct {
	mu    sync.Mutex
	done  int64
	total int64
	f     Progress
}

func (t *tracker) add(n int64) {
	if t == nil || t.f == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.done += n
	d := max(t.done, 0)
	if t.total >= 0 {
		d = min(d, t.total)
	}
	t.f(d, t.total)
}

func (t *tracker) finish(n int64) {
	if t == nil || t.f == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.f(n, n)
}

// partCounter counts the body bytes of one request (one part); a retry of
// the request starts its count again.
type partCounter struct {
	t    *tracker
	sent atomic.Int64
}

type partKey struct{}

func withPart(ctx context.Context, t *tracker) context.Context {
	if t == nil || t.f == nil {
		return ctx
	}
	return context.WithValue(ctx, partKey{}, &partCounter{t: t})
}

// countingDoer is the S3 client's HTTP client: it counts request body
// bytes as the transport reads them, for requests whose context carries a
// partCounter. (The SDK reads a seekable body more than once to hash it
// before sending; only the send goes through here.)
type countingDoer struct{ inner s3.HTTPClient }

func (d *countingDoer) Do(req *http.Request) (*http.Response, error) {
	pc, _ := req.Context().Value(partKey{}).(*partCounter)
	if pc != nil && req.Body != nil && req.Body != http.NoBody {
		pc.t.add(-pc.sent.Swap(0))
		body := req.Body
		req.Body = readCloser{Reader: &progressReader{r: body, f: func(n int64) { pc.sent.Add(n); pc.t.add(n) }, delta: true}, Closer: body}
	}
	return d.inner.Do(req)
}

type readCloser struct {
	io.Reader
	io.Closer
}

// progressReader reports bytes read: the running total, or (delta) each
// read's count.
type progressReader struct {
	r     io.Reader
	f     func(int64)
	n     int64
	delta bool
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.n += int64(n)
		if p.delta {
			p.f(int64(n))
		} else {
			p.f(p.n)
		}
	}
	return n, err
}
