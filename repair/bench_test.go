package repair

import (
	"testing"
)

// BenchmarkRepair: restore a wiped member of a 3-member mirror (64 x 1 MiB
// on local disks), unlimited rate; prints repair MB/s.
func BenchmarkRepair(b *testing.B) {
	const n, size = 64, 1 << 20
	sz := make([]int, n)
	for i := range sz {
		sz[i] = size
	}
	f := newFixture(b, 3, sz...)
	var mbps float64
	b.SetBytes(n * size)
	for b.Loop() {
		b.StopTimer()
		f.cs[2] = newLocalCopy(b, "m2")
		r := newRepairer(b, f.copies(), Config{})
		b.StartTimer()
		res := once(b, r)
		if res.Repaired != n {
			b.Fatalf("repaired %d", res.Repaired)
		}
		mbps = r.Status().ThroughputMBps
	}
	b.ReportMetric(mbps, "repair_MB/s")
}
