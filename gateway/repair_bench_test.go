package gateway

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// BenchmarkRepairThroughput: one member of three real bridges loses every
// object (deleted on its bridge); one repair pass (the engine the loop and
// `repo repair` run) copies them back from the others. Reports MB/s of
// verified copies (MB = 10^6 bytes).
func BenchmarkRepairThroughput(b *testing.B) {
	f := newFixture(b, ModeMirror, 3, 2)
	const n, size = 16, 4 << 20
	c := f.client(PermWrite)
	for i := 0; i < n; i++ {
		mustPut(b, c, "photos", fmt.Sprintf("obj-%02d", i), randBytes(size))
	}
	r, err := f.gw.newRepairer(f.repo, repairEngineConfig(RepairConfig{Concurrency: 4}, f.repo))
	if err != nil {
		b.Fatal(err)
	}
	lagging := f.members[2].direct()
	var bytes int64
	var busy time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for k := 0; k < n; k++ {
			if _, err := lagging.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(f.members[2].id), Key: aws.String(fmt.Sprintf("obj-%02d", k))}); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		t0 := time.Now()
		res, err := r.Once(context.Background())
		busy += time.Since(t0)
		if err != nil || res.Repaired != n {
			b.Fatalf("pass: %+v, %v", res, err)
		}
		bytes += res.Bytes
	}
	b.ReportMetric(float64(bytes)/busy.Seconds()/1e6, "MB/s")
	b.SetBytes(n * size)
}
