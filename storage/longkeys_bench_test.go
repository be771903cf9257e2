package storage

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flashback-network/flashback/testservers"
)

// BenchmarkLongKeysList measures, on MinIO and in interleaved rounds, what
// the long-key wrapper adds to a List: a page of 1,000 short keys through
// the wrapper against the same List on the S3 backend itself (the hidden
// names are listed alongside, at once), and a page of 100 long keys with a
// cold wrapper (one Head per key: S3 lists no metadata) and a warm one,
// against listing their 100 hidden names directly.
func BenchmarkLongKeysList(b *testing.B) {
	ctx := context.Background()
	endpoint := testservers.StartMinIO(b)
	bucket := uniqueName("bench")
	cfg := Config{Kind: KindS3, S3: &S3Config{Endpoint: endpoint, PathStyle: true, Bucket: bucket, Prefix: "unit1/",
		AccessKeyID: testservers.MinIOUser, SecretAccessKey: testservers.MinIOPassword}}
	wrapped, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	raw := innerOf(wrapped)
	if _, err := raw.(*S3).Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		b.Fatal(err)
	}
	for i := range 1000 {
		if _, err := raw.Put(ctx, fmt.Sprintf("d/obj%04d", i), strings.NewReader("x"), 1, ObjectMeta{}); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 100 {
		if _, err := wrapped.Put(ctx, keyOfLen(fmt.Sprintf("l/%03d/", i), 1100), strings.NewReader("x"), 1, ObjectMeta{}); err != nil {
			b.Fatal(err)
		}
	}
	timed := func(be Backend, prefix string, want int) time.Duration {
		t0 := time.Now()
		l, err := be.List(ctx, prefix, "", 1000)
		if err != nil || len(l) != want {
			b.Fatalf("List(%q): %d entries, %v; want %d", prefix, len(l), err, want)
		}
		return time.Since(t0)
	}
	var short, shortW, hidden, cold, warm time.Duration
	b.ResetTimer()
	for i := range b.N {
		if i%2 == 0 { // alternate which goes first
			short += timed(raw, "d/", 1000)
			shortW += timed(wrapped, "d/", 1000)
		} else {
			shortW += timed(wrapped, "d/", 1000)
			short += timed(raw, "d/", 1000)
		}
		hidden += timed(raw, longKeyDir+"l/", 100)
		fresh, err := New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		cold += timed(fresh, "l/", 100)
		warm += timed(fresh, "l/", 100)
	}
	b.ReportMetric(float64(shortW)/float64(short), "short-wrapped/inner")
	b.ReportMetric(float64(cold)/float64(hidden), "long-cold/names")
	b.ReportMetric(float64(warm)/float64(hidden), "long-warm/names")
	b.ReportMetric(float64(short.Microseconds())/float64(b.N), "inner-µs/list")
}
