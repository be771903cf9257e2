package gateway

import (
	"bytes"
	"testing"
	"time"
)

// BenchmarkEncryptedMirror compares, in interleaved rounds of the same
// run, PUT and GET of a 64 MiB object through the gateway on two mirror-3
// repositories over the same three member bridges, one encrypted and one
// not (target: encrypted ≥ 0.85 of unencrypted throughput).
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
	rounds := 3
	var pp, ep, pg, eg time.Duration
	for i := 0; i < b.N; i++ {
		for r := 0; r < rounds; r++ {
			pp += timedPut(b, pc, "photos", "plain-obj", size)
			ep += timedPut(b, ec, "sealed", "enc-obj", size)
			pg += timedGet(b, pc, "photos", "plain-obj", size)
			eg += timedGet(b, ec, "sealed", "enc-obj", size)
		}
	}
	mbps := func(d time.Duration) float64 { return float64(size*rounds*b.N) / d.Seconds() / 1e6 }
	b.ReportMetric(mbps(pp), "plain-put-MB/s")
	b.ReportMetric(mbps(ep), "enc-put-MB/s")
	b.ReportMetric(pp.Seconds()/ep.Seconds(), "enc-put-ratio")
	b.ReportMetric(mbps(pg), "plain-get-MB/s")
	b.ReportMetric(mbps(eg), "enc-get-MB/s")
	b.ReportMetric(pg.Seconds()/eg.Seconds(), "enc-get-ratio")
}
