package storage

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"sync"
	"testing"
	"time"
)

// genReader produces size deterministic pseudo-random bytes without holding
// them; hook (if set) runs before each read with the offset and may fail it.
type genReader struct {
	size, off int64
	hook      func(off int64) error
}

const genBlockLen = 1 << 20

var genBlock = randBytes(42, genBlockLen+4096)

func (g *genReader) Read(p []byte) (int, error) {
	if g.hook != nil {
		if err := g.hook(g.off); err != nil {
			return 0, err
		}
	}
	if g.off >= g.size {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && g.off < g.size {
		in := g.off % genBlockLen
		shift := (g.off / genBlockLen * 7919) % 4096
		k := min(int64(len(p)-n), genBlockLen-in, g.size-g.off)
		copy(p[n:], genBlock[shift+in:shift+in+k])
		n += int(k)
		g.off += k
	}
	return n, nil
}

func genMD5(size int64) string {
	h := md5.New()
	io.Copy(h, &genReader{size: size})
	return hex.EncodeToString(h.Sum(nil))
}

// heapGrowth runs f while sampling the heap; it returns the peak HeapInuse
// above the starting point, and the bytes allocated meanwhile. The GC is
// made eager meanwhile so that the peak tracks live memory.
func heapGrowth(f func()) (peak, allocated uint64) {
	old := debug.SetGCPercent(10)
	defer debug.SetGCPercent(old)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, alloc0 := ms.HeapInuse, ms.TotalAlloc
	var mu sync.Mutex
	top := base
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		var s runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				runtime.ReadMemStats(&s)
				mu.Lock()
				top = max(top, s.HeapInuse)
				mu.Unlock()
			}
		}
	}()
	f()
	close(stop)
	<-done
	runtime.ReadMemStats(&ms)
	top = max(top, ms.HeapInuse)
	return top - base, ms.TotalAlloc - alloc0
}

const (
	largeSize      = 64 << 20
	maxHeapGrowth  = 32 << 20
	heapReportUnit = 1 << 20
)

func testLarge(t *testing.T, b Backend) {
	want := genMD5(largeSize)
	for _, declared := range []int64{largeSize, -1} {
		key := fmt.Sprintf("large/size%d", declared)
		var info ObjectInfo
		var err error
		start := time.Now()
		peak, alloc := heapGrowth(func() {
			info, err = b.Put(tctx(t), key, &genReader{size: largeSize}, declared, ObjectMeta{ContentType: "application/octet-stream"})
		})
		elapsed := time.Since(start)
		if err != nil {
			t.Fatalf("Put 64 MiB (size %d): %v", declared, err)
		}
		t.Logf("Put 64 MiB, size %d: %v, heap growth peak %.1f MiB, allocated %.1f MiB",
			declared, elapsed.Round(time.Millisecond), float64(peak)/heapReportUnit, float64(alloc)/heapReportUnit)
		if peak > maxHeapGrowth {
			t.Errorf("Put of 64 MiB grew the heap by %.1f MiB (limit %d MiB): not streaming", float64(peak)/heapReportUnit, maxHeapGrowth>>20)
		}
		if info.Size != largeSize || info.ETag != want {
			t.Errorf("Put info: size %d etag %q, want %d %q", info.Size, info.ETag, largeSize, want)
		}
		if h, err := b.Head(tctx(t), key); err != nil || h.Size != largeSize || h.ETag != want {
			t.Errorf("Head: %+v %v, want etag %s", h, err, want)
		}
		var got string
		start = time.Now()
		peak, alloc = heapGrowth(func() {
			rc, _, err := b.Get(tctx(t), key, nil)
			if err != nil {
				t.Errorf("Get: %v", err)
				return
			}
			defer rc.Close()
			h := md5.New()
			if _, err := io.Copy(h, rc); err != nil {
				t.Errorf("reading: %v", err)
			}
			got = hex.EncodeToString(h.Sum(nil))
		})
		t.Logf("Get 64 MiB: %v, heap growth peak %.1f MiB, allocated %.1f MiB",
			time.Since(start).Round(time.Millisecond), float64(peak)/heapReportUnit, float64(alloc)/heapReportUnit)
		if got != want {
			t.Errorf("Get returned content with MD5 %s, want %s", got, want)
		}
		if peak > maxHeapGrowth {
			t.Errorf("Get of 64 MiB grew the heap by %.1f MiB: not streaming", float64(peak)/heapReportUnit)
		}
		// A range at the far end.
		data, _ := get(t, b, key, &Range{largeSize - 100, largeSize + 100})
		g := &genReader{size: largeSize, off: largeSize - 100}
		wantTail, _ := io.ReadAll(g)
		if !bytes.Equal(data, wantTail) {
			t.Errorf("tail range of the large object differs")
		}
		if err := b.Delete(tctx(t), key); err != nil {
			t.Fatal(err)
		}
	}
	checkNoLeftovers(t, b)
}
