package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/client"
)

// xferOpts are the transfer flags shared by cp and sync.
type xferOpts struct {
	partSize, threshold int64
	concurrency, files  int
	bwlimit             string
	limiter             *rateLimiter
}

func addXferFlags(cmd *cobra.Command, o *xferOpts) {
	f := cmd.Flags()
	f.Int64Var(&o.partSize, "part-size", client.PartSize, "multipart part size in bytes (at least 5 MiB)")
	f.Int64Var(&o.threshold, "multipart-threshold", client.MultipartThreshold, "files above this many bytes go in resumable parts")
	f.IntVar(&o.concurrency, "concurrency", client.Concurrency, "parts of one file sent at a time")
	f.IntVar(&o.files, "parallel", 4, "files transferred at a time (recursive cp, sync)")
	f.StringVar(&o.bwlimit, "bwlimit", "", "upload bandwidth limit per second, e.g. 10MiB (default: none)")
}

// check validates the flags and makes the limiter.
func (o *xferOpts) check() error {
	if o.partSize < 5<<20 {
		return fmt.Errorf("--part-size %d: S3 parts are at least 5 MiB (5242880)", o.partSize)
	}
	if o.threshold < 0 || o.concurrency < 1 || o.files < 1 {
		return fmt.Errorf("--multipart-threshold must be ≥ 0, --concurrency and --parallel ≥ 1")
	}
	if o.bwlimit != "" {
		n, err := parseSize("bwlimit", o.bwlimit)
		if err != nil {
			return err
		}
		if n == 0 || n > 1<<40 {
			return fmt.Errorf("--bwlimit %s: want a rate between 1 B and 1 TiB per second", o.bwlimit)
		}
		o.limiter = &rateLimiter{rate: float64(n)}
	}
	return nil
}

// rateLimiter paces reads to rate bytes per second across all transfers.
type rateLimiter struct {
	mu   sync.Mutex
	rate float64
	next time.Time
}

func (l *rateLimiter) wait(n int) {
	l.mu.Lock()
	now := time.Now()
	if l.next.Before(now) {
		l.next = now
	}
	l.next = l.next.Add(time.Duration(float64(n) / l.rate * float64(time.Second)))
	d := time.Until(l.next)
	l.mu.Unlock()
	time.Sleep(d)
}

// limit wraps a part body with the limiter (if any); it stays seekable,
// as the SDK needs for signing and retries.
func (o *xferOpts) limit(r io.ReadSeeker) io.ReadSeeker {
	if o.limiter == nil {
		return r
	}
	return &limitedReader{r: r, l: o.limiter}
}

type limitedReader struct {
	r io.ReadSeeker
	l *rateLimiter
}

func (r *limitedReader) Read(p []byte) (int, error) {
	if len(p) > 256<<10 {
		p = p[:256<<10] // pace in small steps
	}
	n, err := r.r.Read(p)
	if n > 0 {
		r.l.wait(n)
	}
	return n, err
}

func (r *limitedReader) Seek(off int64, whence int) (int64, error) { return r.r.Seek(off, whence) }

// receiptMu serializes journal appends of concurrent transfers.
var receiptMu sync.Mutex

// uploadResult is one file uploaded.
type uploadResult struct {
	obj     *client.Object
	receipt string
	stats   *resumeStats // multipart uploads only
}

// uploadFile sends a local file: in one request up to the threshold, else
// as a resumable multipart upload. prog gets byte increments.
func (g *globals) uploadFile(ctx context.Context, b *client.Bucket, key, path string, size int64, opts *xferOpts, prog func(int64)) (*uploadResult, error) {
	var o *client.Object
	var stats *resumeStats
	var err error
	if size > opts.threshold {
		o, stats, err = g.resumableUpload(ctx, b, key, path, opts, prog)
	} else {
		var last int64
		o, err = b.UploadFile(ctx, key, path, client.UploadOptions{ContentType: contentType(key), Threshold: max(opts.threshold, 1),
			Progress: func(done, _ int64) { prog(done - last); last = done }})
		if err != nil {
			err = s3Explain(err, b, key)
		}
	}
	if err != nil {
		return &uploadResult{stats: stats}, err
	}
	receiptMu.Lock()
	rcpt, err := g.keepReceipt(fbURL(b.Name, key), o.Receipt, o.ReceiptProblem)
	receiptMu.Unlock()
	if err != nil {
		return nil, err
	}
	return &uploadResult{obj: o, receipt: rcpt, stats: stats}, nil
}
