package repair

import (
	"context"
	"sync"
	"time"
)

// bucket is a token bucket: rate tokens per second, at most burst saved
// up. A taker reserves first and waits out its debt, so whatever the
// load, the tokens granted by time t never exceed burst + rate*(t-start)
// (checked by the tests through granted). golang.org/x/time/rate would do
// the same; it is only an indirect dependency of this module, and this is
// 60 lines.
type bucket struct {
	rate, burst float64 // rate <= 0: unlimited
	mu          sync.Mutex
	tokens      float64
	last        time.Time
	start       time.Time
	granted     float64 // net tokens taken (refunds subtracted)
}

func newBucket(rate float64, burst int64) *bucket {
	now := time.Now()
	if burst <= 0 {
		burst = 1
	}
	return &bucket{rate: rate, burst: float64(burst), tokens: float64(burst), last: now, start: now}
}

// take waits until n tokens are available (n is split in bursts), or ctx
// is done (then the reservation of the piece in wait is given back).
func (b *bucket) take(ctx context.Context, n int64) error {
	if b == nil || b.rate <= 0 {
		return ctx.Err()
	}
	for n > 0 {
		c := min(float64(n), b.burst)
		if d := b.reserve(c); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				b.refund(c)
				return ctx.Err()
			case <-t.C:
			}
		}
		n -= int64(c)
	}
	return nil
}

func (b *bucket) reserve(c float64) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	b.tokens -= c
	b.granted += c
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.rate * float64(time.Second))
}

// refund gives back tokens reserved but not used.
func (b *bucket) refund(c float64) {
	if b == nil || b.rate <= 0 || c <= 0 {
		return
	}
	b.mu.Lock()
	b.tokens = min(b.burst, b.tokens+c)
	b.granted -= c
	b.mu.Unlock()
}

// account returns the net tokens granted and the bound they must respect
// now (burst + rate * elapsed).
func (b *bucket) account() (granted, bound float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.granted, b.burst + b.rate*time.Since(b.start).Seconds()
}
