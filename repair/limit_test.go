package repair

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestBucketBound: whatever the scheduling, the tokens handed out by any
// moment never exceed burst + rate * elapsed (checked at every grant, so
// a loaded machine can only make the check easier), and the bucket does
// hold takers back (lower bound on the time, likewise load-proof).
func TestBucketBound(t *testing.T) {
	const rate, burst, per, takers, rounds = 1e6, 64 << 10, 10 << 10, 6, 20
	b := newBucket(rate, burst)
	var done atomic.Int64
	var wg sync.WaitGroup
	var over atomic.Int64
	for g := 0; g < takers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				if err := b.take(context.Background(), per); err != nil {
					t.Error(err)
					return
				}
				got := done.Add(per)
				if bound := burst + rate*time.Since(b.start).Seconds(); float64(got) > bound+1 {
					over.Store(got)
				}
			}
		}()
	}
	wg.Wait()
	if over.Load() != 0 {
		t.Fatalf("%d tokens granted above the bound", over.Load())
	}
	total := float64(takers * rounds * per)
	if el := time.Since(b.start).Seconds(); el < (total-burst)/rate {
		t.Fatalf("%.0f tokens in %.3fs: faster than the rate", total, el)
	}
	granted, bound := b.account()
	if granted != total || granted > bound {
		t.Fatalf("granted %.0f (bound %.0f), want %.0f", granted, bound, total)
	}
	// A cancelled wait gives its tokens back.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.take(ctx, burst); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled take: %v", err)
	}
	if g2, _ := b.account(); g2 != total {
		t.Fatalf("cancelled take kept %.0f tokens", g2-total)
	}
}

func TestRateLimitRepair(t *testing.T) {
	const obj, n = 256 << 10, 12 // 3 MiB to copy
	sz := make([]int, n)
	for i := range sz {
		sz[i] = obj
	}
	f := newFixture(t, 3, sz...)
	f.cs[2] = newLocalCopy(t, "m2")
	cfg := fastCfg()
	cfg.BytesPerSec, cfg.BurstBytes = 4<<20, 256<<10
	r := newRepairer(t, f.copies(), cfg)
	t0 := time.Now()
	res := once(t, r)
	el := time.Since(t0).Seconds()
	f.level(t, f.cs...)
	granted, bound := r.bytes.account()
	st := r.Status()
	// Every copied byte went through the bucket, and the bucket kept to
	// its bound.
	if st.RepairedBytes != n*obj || granted != float64(st.RepairedBytes) || granted > bound {
		t.Fatalf("repaired %d bytes, bucket granted %.0f (bound %.0f)", st.RepairedBytes, granted, bound)
	}
	if min := float64(n*obj-cfg.BurstBytes) / cfg.BytesPerSec; el < min {
		t.Fatalf("%d bytes in %.3fs, the limit allows no less than %.3fs", n*obj, el, min)
	}
	t.Logf("%d objects, %d bytes in %.2fs (%.2f MB/s, limit %.2f MB/s)", res.Repaired, res.Bytes, el, float64(res.Bytes)/el/1e6, cfg.BytesPerSec/1e6)

	// Objects per second.
	f2 := newFixture(t, 3, make([]int, 15)...)
	f2.cs[1] = newLocalCopy(t, "m1")
	cfg = fastCfg()
	cfg.ObjectsPerSec = 10
	r = newRepairer(t, f2.copies(), cfg)
	t0 = time.Now()
	res = once(t, r)
	el = time.Since(t0).Seconds()
	f2.level(t, f2.cs...)
	og, ob := r.objs.account()
	if res.Repaired != 15 || og != 15 || og > ob || el < (15-10)/10.0 {
		t.Fatalf("15 objects at 10/s: %+v, granted %.0f bound %.1f, %.3fs", res, og, ob, el)
	}
}

// TestCancel: a cancelled pass stops promptly and leaves no partial copy.
func TestCancel(t *testing.T) {
	f := newFixture(t, 3, 1<<20)
	f.cs[2] = newLocalCopy(t, "m2")
	cfg := fastCfg()
	cfg.BytesPerSec, cfg.BurstBytes = 128<<10, 64<<10 // 8 s for the object
	r := newRepairer(t, f.copies(), cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	if _, err := r.Once(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Once: %v", err)
	}
	if el := time.Since(t0); el > 5*time.Second {
		t.Fatalf("cancelled pass took %v", el)
	}
	if _, ok := f.cs[2].content(t, "obj-000"); ok {
		t.Fatal("partial copy visible after cancel")
	}
	if st := memberOf(r.Status(), "m2"); st.BackoffUntil != nil || st.Paused {
		t.Fatalf("cancel counted against the member: %+v", st)
	}
}
