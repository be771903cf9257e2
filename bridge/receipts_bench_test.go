package bridge

import (
	"bytes"
	"context"
	"math"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// BenchmarkPut64MiBReceipts measures 64 MiB PutObjects on a bridge that
// signs receipts against one that does not (the baseline), in interleaved
// rounds of the same run, over local disk. "signed-payload": the SDK's
// default over HTTP (it hashes the body, versitygw verifies it, the
// receipt reuses that hash); "unsigned-payload": the SDK's default over
// TLS (aws-chunked, trailing CRC32), where the bridge computes the SHA-256
// itself while the body streams (on its own goroutine, asyncHasher;
// "unsigned-payload-inline-hash" hashes on the reading goroutine instead,
// for comparison). It reports each side's median
// MB/s and the ratio receipts/baseline (1.0 = no cost).
func BenchmarkPut64MiBReceipts(b *testing.B) {
	data := randBytes(64<<20, 99)
	for _, mode := range []string{"signed-payload", "unsigned-payload", "unsigned-payload-inline-hash"} {
		b.Run(mode, func(b *testing.B) {
			if mode == "unsigned-payload-inline-hash" {
				old := asyncHashMin
				asyncHashMin = math.MaxInt64
				defer func() { asyncHashMin = old }()
			}
			// Over TLS the SDK streams aws-chunked with a trailing CRC32 and
			// no SHA-256 of the payload.
			tls := mode != "signed-payload"
			base := newFixture(b, fixtureOpts{tls: tls})
			signing := newFixture(b, fixtureOpts{tls: tls, receiptKey: testProviderKey})
			clients := []*s3.Client{base.sdk(keyW1), signing.sdk(keyW1)}
			put := func(c *s3.Client) time.Duration {
				start := time.Now()
				out, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("res-1"), Key: aws.String("big"),
					Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data)))})
				if err != nil {
					b.Fatal(err)
				}
				if (c == clients[1]) != (receiptHeader(out.ResultMetadata) != "") {
					b.Fatal("receipt header on the wrong bridge")
				}
				return time.Since(start)
			}
			put(clients[0]) // warm up both
			put(clients[1])
			var times [2][]time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for j := range 2 {
					k := (i + j) % 2 // alternate which goes first
					times[k] = append(times[k], put(clients[k]))
				}
			}
			b.StopTimer()
			if unsigned := signing.sniff.seen("UNSIGNED-PAYLOAD") || signing.sniff.seen("STREAMING-UNSIGNED-PAYLOAD-TRAILER"); unsigned != tls {
				b.Fatalf("%s: payload modes seen %v", mode, signing.sniff.modes)
			}
			mbps := func(ts []time.Duration) float64 {
				sort.Slice(ts, func(x, y int) bool { return ts[x] < ts[y] })
				return float64(len(data)) / 1e6 / ts[len(ts)/2].Seconds()
			}
			baseMB, recMB := mbps(times[0]), mbps(times[1])
			b.ReportMetric(baseMB, "baseline-MB/s")
			b.ReportMetric(recMB, "receipts-MB/s")
			b.ReportMetric(recMB/baseMB, "receipts/baseline")
		})
	}
}
