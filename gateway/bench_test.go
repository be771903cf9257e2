package gateway

import (
	"context"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
)

// genReader yields n bytes of a repeated random block without holding
// them: a body of any size at no memory cost.
type genReader struct {
	block []byte
	left  int64
	off   int
}

func newGen(n int64) *genReader { return &genReader{block: randBytes(1 << 20), left: n} }

func (g *genReader) Read(p []byte) (int, error) {
	if g.left == 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && g.left > 0 {
		c := copy(p[n:min(len(p), n+int(g.left))], g.block[g.off:])
		g.off = (g.off + c) % len(g.block)
		n += c
		g.left -= int64(c)
	}
	return n, nil
}

// streamClient sends bodies unsigned and without a checksum, so a body
// streams once and need not be seekable (what a client over TLS does).
func streamClient(url, id, secret string) *s3.Client {
	return s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(url), UsePathStyle: true, RetryMaxAttempts: 1,
		Credentials:                credentials.NewStaticCredentialsProvider(id, secret, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		APIOptions:                 []func(*middleware.Stack) error{v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware},
	})
}

func timedPut(b *testing.B, c *s3.Client, bucket, key string, n int64) time.Duration {
	t0 := time.Now()
	_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: newGen(n), ContentLength: aws.Int64(n)})
	if err != nil {
		b.Fatalf("put: %v", err)
	}
	return time.Since(t0)
}

func timedGet(b *testing.B, c *s3.Client, bucket, key string, n int64) time.Duration {
	t0 := time.Now()
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		b.Fatalf("get: %v", err)
	}
	got, err := io.Copy(io.Discard, out.Body)
	out.Body.Close()
	if err != nil || got != n {
		b.Fatalf("get: %d bytes, %v", got, err)
	}
	return time.Since(t0)
}

// On one machine the three members' bridges share the CPU and disk with
// the gateway and the client, so the mirror-3 PUT does three bridges' work
// (hashing, disk writes) on the cores one bridge had alone: its ratio here
// is a floor, not what three members on their own machines give. The
// solo-* ratios (a repository of one member: the single bridge) measure
// the gateway's own cost.
//
// BenchmarkMirror compares, in interleaved rounds of the same run, a
// mirror-3 repository through the gateway with one bridge alone (the same
// kind of local-disk bridge as the members): PUT and GET throughput of a
// 64 MiB object (targets: PUT ≥ 0.8, GET ≥ 0.95 of the single bridge's),
// the same object as a multipart upload of four 16 MiB parts (mpu-*),
// and the process's memory growth while 1 GiB streams through the
// gateway (target < 64 MiB; the figure includes the three bridges and the
// client, which run in this process too, and is taken after the 64 MiB
// rounds grew the heap: TestGatewayRSS1GiB measures a gateway process
// alone). BenchmarkMirrorLinked gives the same ratios with each bridge
// behind its own link, as members on other machines are.
//
//	go test -run '^$' -bench BenchmarkMirror -benchtime 1x ./gateway/
func BenchmarkMirror(b *testing.B) {
	f := newFixture(b, ModeMirror, 3, 0)
	single := startBridge(b, "res-9")
	sc := streamClient(single.url, single.key.AccessKeyID, single.key.Secret)
	k := f.keys[PermWrite]
	gc := streamClient(f.url, k.AccessKeyID, k.Secret)
	// "solo": a mirror repository of one member, the single bridge: the
	// gateway's own cost (one more hop, hashing, bookkeeping) alone.
	f.dir.SetRepo(Repo{Name: "solo", Mode: ModeMirror, Members: []Member{single.member(50)}})
	f.dir.SetKey(Key{AccessKeyID: "FBSOLO", Secret: "solo-secret-solo", Repo: "solo", Perm: PermWrite})
	oc := streamClient(f.url, "FBSOLO", "solo-secret-solo")
	const size = 64 << 20
	rounds := 3
	var bp, gp, bg, gg, op, og, bm, gm time.Duration
	for i := 0; i < b.N; i++ {
		for r := 0; r < rounds; r++ {
			bp += timedPut(b, sc, single.id, "obj", size)
			gp += timedPut(b, gc, "photos", "obj", size)
			bm += timedMultipart(b, sc, single.id, "mpu", size, 16<<20)
			gm += timedMultipart(b, gc, "photos", "mpu", size, 16<<20)
			op += timedPut(b, oc, "solo", "solo-obj", size)
			bg += timedGet(b, sc, single.id, "obj", size)
			gg += timedGet(b, gc, "photos", "obj", size)
			og += timedGet(b, oc, "solo", "solo-obj", size)
		}
	}
	b.ReportMetric(bp.Seconds()/op.Seconds(), "solo-put-ratio")
	b.ReportMetric(bg.Seconds()/og.Seconds(), "solo-get-ratio")
	mbps := func(d time.Duration) float64 { return float64(size*rounds*b.N) / d.Seconds() / 1e6 }
	b.ReportMetric(mbps(bp), "bridge-put-MB/s")
	b.ReportMetric(mbps(gp), "mirror3-put-MB/s")
	b.ReportMetric(bp.Seconds()/gp.Seconds(), "put-ratio")
	b.ReportMetric(mbps(bm), "bridge-mpu-MB/s")
	b.ReportMetric(mbps(gm), "mirror3-mpu-MB/s")
	b.ReportMetric(bm.Seconds()/gm.Seconds(), "mpu-ratio")
	b.ReportMetric(mbps(bg), "bridge-get-MB/s")
	b.ReportMetric(mbps(gg), "mirror3-get-MB/s")
	b.ReportMetric(bg.Seconds()/gg.Seconds(), "get-ratio")

	heap0, rss0 := memNow()
	var peakHeap, peakRSS atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			h, r := memNow()
			if h > peakHeap.Load() {
				peakHeap.Store(h)
			}
			if r > peakRSS.Load() {
				peakRSS.Store(r)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	d := timedPut(b, gc, "photos", "gib", 1<<30)
	close(stop)
	<-done
	b.ReportMetric(float64(1<<30)/d.Seconds()/1e6, "1GiB-put-MB/s")
	b.ReportMetric(float64(int64(peakHeap.Load())-int64(heap0))/(1<<20), "heap-growth-MiB")
	b.ReportMetric(float64(int64(peakRSS.Load())-int64(rss0))/(1<<20), "rss-growth-MiB")
}

// memNow returns the heap in use and the resident set size (bytes).
func memNow() (heap, rss uint64) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	data, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			kb, _ := strconv.ParseUint(strings.Fields(line)[1], 10, 64)
			rss = kb << 10
		}
	}
	return ms.HeapInuse, rss
}
