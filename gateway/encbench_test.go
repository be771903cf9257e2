package gateway

import (
	"bytes"
	"syscall"
	"testing"
	"time"
)

// BenchmarkEncryptedMirror compares, in interleaved rounds of the same
// run, PUT and GET of a 64 MiB object through the gateway on two mirror-3
// repositories over the same three member bridges, one encrypted and one
// not (target: encrypted ≥ 0.85 of unencrypted throughput), in wall time
// and in the process's CPU time (the steadier figure on a shared machine).
//
//	go test -run '^$' -bench BenchmarkEncryptedMirror -benchtime 1x ./gateway/
func BenchmarkEncryptedMirror(b *testing.B) {
	f := newFixture(b, ModeMirror, 3, 0)
	f.secret = FixedSecret(bytes.Repeat([]byte("bench-secret"), 3))
	f.start()
	enc := f.repo
	enc.Name, enc.Encrypted, enc.Owner = "sealed", true, "fb1owner"
	f.dir.SetRepo(enc)
	f.dir.SetKey(Key{AccessKeyID: "FBSEALED", Secret: "sealed-secret-sealed", Repo: "sealed", Perm: PermWrite})
	k := f.keys[PermWrite]
	pc := streamClient(f.url, k.AccessKeyID, k.Secret)
	ec := streamClient(f.url, "FBSEALED", "sealed-secret-sealed")
	const size = 64 << 20
	rounds := 6
	var pp, ep, pg, eg time.Duration
	var ppc, epc, pgc, egc time.Duration // CPU time of the process (gateway, bridges, client)
	timed := func(wall, cpu *time.Duration, op func() time.Duration) {
		c0 := cpuNow()
		*wall += op()
		*cpu += cpuNow() - c0
	}
	plain := func() {
		timed(&pp, &ppc, func() time.Duration { return timedPut(b, pc, "photos", "plain-obj", size) })
		timed(&pg, &pgc, func() time.Duration { return timedGet(b, pc, "photos", "plain-obj", size) })
	}
	sealed := func() {
		timed(&ep, &epc, func() time.Duration { return timedPut(b, ec, "sealed", "enc-obj", size) })
		timed(&eg, &egc, func() time.Duration { return timedGet(b, ec, "sealed", "enc-obj", size) })
	}
	for i := 0; i < b.N; i++ {
		for r := 0; r < rounds; r++ {
			// Alternate which goes first, so a load drifting over the
			// run weighs on both alike.
			if r%2 == 0 {
				plain()
				sealed()
			} else {
				sealed()
				plain()
			}
		}
	}
	mbps := func(d time.Duration) float64 { return float64(size*rounds*b.N) / d.Seconds() / 1e6 }
	b.ReportMetric(mbps(pp), "plain-put-MB/s")
	b.ReportMetric(mbps(ep), "enc-put-MB/s")
	b.ReportMetric(pp.Seconds()/ep.Seconds(), "enc-put-ratio")
	b.ReportMetric(mbps(pg), "plain-get-MB/s")
	b.ReportMetric(mbps(eg), "enc-get-MB/s")
	b.ReportMetric(pg.Seconds()/eg.Seconds(), "enc-get-ratio")
	// CPU seconds per byte, less sensitive than wall time to a machine
	// shared with other work: plain CPU / encrypted CPU.
	b.ReportMetric(ppc.Seconds()/epc.Seconds(), "enc-put-cpu-ratio")
	b.ReportMetric(pgc.Seconds()/egc.Seconds(), "enc-get-cpu-ratio")
}

// cpuNow is the process's user+system CPU time.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
