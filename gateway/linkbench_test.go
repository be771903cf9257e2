package gateway

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// timedMultipart uploads a generated body of n bytes in parts of part
// bytes (streamed, never held) and returns the time from create to
// complete.
func timedMultipart(b *testing.B, c *s3.Client, bucket, key string, n, part int64) time.Duration {
	ctx := context.Background()
	t0 := time.Now()
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		b.Fatalf("create multipart: %v", err)
	}
	var parts []types.CompletedPart
	for num, off := int32(1), int64(0); off < n; num, off = num+1, off+part {
		sz := min(part, n-off)
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
			PartNumber: aws.Int32(num), Body: newGen(sz), ContentLength: aws.Int64(sz)})
		if err != nil {
			b.Fatalf("part %d: %v", num, err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(num), ETag: out.ETag})
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key),
		UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		b.Fatalf("complete: %v", err)
	}
	return time.Since(t0)
}

// linkRate is the bandwidth of each bridge's modelled link (bytes/s).
const linkRate = 32e6

// BenchmarkMirrorLinked is BenchmarkMirror with each bridge (the three
// members and the single one) behind its own link of linkRate bytes/s
// each way, a throttling TCP proxy: what members on their own machines,
// reached over a network, look like. The client and gateway are close
// (unthrottled). Co-located, three bridges' hashing and disk writes
// share the two cores that one bridge had alone, which caps the
// mirror-3 PUT ratio whatever the gateway does (see BenchmarkMirror);
// here the link is the bottleneck, as in a deployment, so the ratios
// say whether the gateway keeps all members' links busy at once.
// Same-run interleaved rounds; targets: PUT ≥ 0.8, GET ≥ 0.95.
//
//	go test -run '^$' -bench BenchmarkMirrorLinked -benchtime 1x ./gateway/
func BenchmarkMirrorLinked(b *testing.B) {
	f := newFixture(b, ModeMirror, 3, 0)
	repo := f.repo
	repo.Members = nil
	for _, m := range f.members {
		m.url = newLinkProxy(b, m.url, linkRate)
		repo.Members = append(repo.Members, m.member(50))
	}
	f.setRepo(repo)
	single := startBridge(b, "res-9")
	sc := streamClient(newLinkProxy(b, single.url, linkRate), single.key.AccessKeyID, single.key.Secret)
	k := f.keys[PermWrite]
	gc := streamClient(f.url, k.AccessKeyID, k.Secret)
	const size, part = 64 << 20, 16 << 20
	rounds := 2
	var bp, gp, bm, gm, bg, gg time.Duration
	for i := 0; i < b.N; i++ {
		for r := 0; r < rounds; r++ {
			bp += timedPut(b, sc, single.id, "obj", size)
			gp += timedPut(b, gc, "photos", "obj", size)
			bm += timedMultipart(b, sc, single.id, "mpu", size, part)
			gm += timedMultipart(b, gc, "photos", "mpu", size, part)
			bg += timedGet(b, sc, single.id, "obj", size)
			gg += timedGet(b, gc, "photos", "obj", size)
		}
	}
	mbps := func(d time.Duration) float64 { return float64(size*rounds*b.N) / d.Seconds() / 1e6 }
	b.ReportMetric(linkRate/1e6, "link-MB/s")
	b.ReportMetric(mbps(bp), "bridge-put-MB/s")
	b.ReportMetric(mbps(gp), "mirror3-put-MB/s")
	b.ReportMetric(bp.Seconds()/gp.Seconds(), "put-ratio")
	b.ReportMetric(mbps(bm), "bridge-mpu-MB/s")
	b.ReportMetric(mbps(gm), "mirror3-mpu-MB/s")
	b.ReportMetric(bm.Seconds()/gm.Seconds(), "mpu-ratio")
	b.ReportMetric(mbps(bg), "bridge-get-MB/s")
	b.ReportMetric(mbps(gg), "mirror3-get-MB/s")
	b.ReportMetric(bg.Seconds()/gg.Seconds(), "get-ratio")
}

// pacer spaces writes so that they average rate bytes/s (one direction
// of a link, shared by all its connections).
type pacer struct {
	mu   sync.Mutex
	next time.Time
	rate float64
}

func (p *pacer) wait(n int) {
	p.mu.Lock()
	now := time.Now()
	if p.next.Before(now) {
		p.next = now
	}
	at := p.next
	p.next = p.next.Add(time.Duration(float64(n) / p.rate * float64(time.Second)))
	p.mu.Unlock()
	if d := time.Until(at); d > 0 {
		time.Sleep(d)
	}
}

// newLinkProxy forwards TCP to url's host through a link of rate
// bytes/s each way and returns the proxy's URL.
func newLinkProxy(b *testing.B, url string, rate float64) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	to := strings.TrimPrefix(url, "http://")
	up, down := &pacer{rate: rate}, &pacer{rate: rate}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				s, err := net.Dial("tcp", to)
				if err != nil {
					return
				}
				defer s.Close()
				go func() { pacedCopy(s, c, up); s.(*net.TCPConn).CloseWrite() }()
				pacedCopy(c, s, down)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

func pacedCopy(dst io.Writer, src io.Reader, p *pacer) {
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.wait(n)
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
