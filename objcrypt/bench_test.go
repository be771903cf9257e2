package objcrypt

import (
	"bytes"
	"io"
	"testing"
	"time"
)

// BenchmarkThroughput measures, in the same run and on the same bytes, a
// plain io.Copy, encryption, decryption and both chained (what a gateway
// PUT then GET costs), and reports MB/s and the ratio crypto/plain.
// The ratio to a memory copy says little (a copy runs at memory speed);
// what matters for the gateway is "enc_core_pct_per_100MBps" (and dec_):
// the share of one core a gateway PUT (GET) stream of 100 MB/s spends on
// encryption (decryption).
func BenchmarkThroughput(b *testing.B) {
	const size = 32 << 20
	mk := testKey(b, "bench")
	plain := randBytes(1, size)
	ct := encrypt(b, mk, "bench/obj", plain, 0)
	var tPlain, tEnc, tDec time.Duration
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		if _, err := io.Copy(io.Discard, struct{ io.Reader }{bytes.NewReader(plain)}); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		er, _ := NewEncryptReader(mk, "bench/obj", bytes.NewReader(plain), 0)
		if _, err := io.Copy(io.Discard, er); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		r, err := OpenReader(mk, "bench/obj", int64(len(ct)), bytes.NewReader(ct))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		tPlain, tEnc, tDec = tPlain+t1.Sub(t0), tEnc+t2.Sub(t1), tDec+t3.Sub(t2)
	}
	mbps := func(d time.Duration) float64 { return float64(size) * float64(b.N) / d.Seconds() / 1e6 }
	both := tEnc + tDec
	b.ReportMetric(mbps(tPlain), "plain_MB/s")
	b.ReportMetric(mbps(tEnc), "enc_MB/s")
	b.ReportMetric(mbps(tDec), "dec_MB/s")
	b.ReportMetric(mbps(both), "encdec_MB/s")
	b.ReportMetric(mbps(both)/mbps(tPlain), "encdec/plain")
	b.ReportMetric(100*100/mbps(tEnc), "enc_core_pct_per_100MBps")
	b.ReportMetric(100*100/mbps(tDec), "dec_core_pct_per_100MBps")
}
