package s3bench

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/minio/minio-go/v7"
)

// block is the content pattern of large objects (1 MiB, shared read-only).
var block = sync.OnceValue(func() []byte { return pattern(1 << 20) })

// measure runs op once on the endpoint and records its time(s).
func (er *endpointRun) measure(ctx context.Context, op Op, o Options) error {
	start := time.Now()
	switch op {
	case OpLargePut:
		if err := er.putLarge(ctx, "large-put", o.LargeSize); err != nil {
			return err
		}
	case OpLargeGet:
		if err := er.get(ctx, "large-get", o.LargeSize); err != nil {
			return err
		}
	case OpMPU:
		complete, err := er.multipart(ctx, "mpu", o.MPUSize, o.PartSize)
		if err != nil {
			return err
		}
		er.times[OpMPUComplete] = append(er.times[OpMPUComplete], complete)
	case OpList:
		if err := er.list(ctx, o.ListCount); err != nil {
			return err
		}
	case OpSmallPut:
		data := pattern(o.SmallSize)
		for i := 0; i < o.SmallCount; i++ {
			if err := er.putBytes(ctx, fmt.Sprintf("small-put/%04d", i), data); err != nil {
				return err
			}
		}
	case OpSmallGet:
		for i := 0; i < o.SmallCount; i++ {
			if err := er.get(ctx, fmt.Sprintf("small-get/%04d", i), o.SmallSize); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("unknown operation %q", op)
	}
	er.times[op] = append(er.times[op], time.Since(start))
	return nil
}

// putLarge streams one object of size bytes in a single PUT.
func (er *endpointRun) putLarge(ctx context.Context, key string, size int64) error {
	_, err := er.c.PutObject(ctx, er.ep.Bucket, er.prefix+key, newPatternReader(block(), size), size,
		minio.PutObjectOptions{DisableMultipart: true})
	return err
}

func (er *endpointRun) get(ctx context.Context, key string, size int64) error {
	obj, err := er.c.GetObject(ctx, er.ep.Bucket, er.prefix+key, minio.GetObjectOptions{})
	if err != nil {
		return err
	}
	defer obj.Close()
	n, err := io.Copy(io.Discard, obj)
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("GET %s: %d bytes, want %d", key, n, size)
	}
	return nil
}

// multipart uploads size bytes in parts of partSize (one after another,
// each streamed) and returns how long CompleteMultipartUpload took.
func (er *endpointRun) multipart(ctx context.Context, key string, size, partSize int64) (time.Duration, error) {
	k := er.prefix + key
	id, err := er.core.NewMultipartUpload(ctx, er.ep.Bucket, k, minio.PutObjectOptions{})
	if err != nil {
		return 0, err
	}
	var parts []minio.CompletePart
	for num, off := 1, int64(0); off < size; num, off = num+1, off+partSize {
		n := min(partSize, size-off)
		p, err := er.core.PutObjectPart(ctx, er.ep.Bucket, k, id, num, newPatternReader(block(), n), n, minio.PutObjectPartOptions{})
		if err != nil {
			er.core.AbortMultipartUpload(context.WithoutCancel(ctx), er.ep.Bucket, k, id)
			return 0, fmt.Errorf("part %d: %w", num, err)
		}
		parts = append(parts, minio.CompletePart{PartNumber: num, ETag: p.ETag})
	}
	start := time.Now()
	if _, err := er.core.CompleteMultipartUpload(ctx, er.ep.Bucket, k, id, parts, minio.PutObjectOptions{}); err != nil {
		return 0, fmt.Errorf("complete: %w", err)
	}
	return time.Since(start), nil
}

// list reads the page of ListCount objects written by setup.
func (er *endpointRun) list(ctx context.Context, want int) error {
	res, err := er.core.ListObjectsV2(er.ep.Bucket, er.prefix+"list/", "", "", "", want)
	if err != nil {
		return err
	}
	if len(res.Contents) != want {
		return fmt.Errorf("LIST: %d objects, want %d", len(res.Contents), want)
	}
	return ctx.Err()
}

// cleanup deletes everything the run wrote.
func (er *endpointRun) cleanup(ctx context.Context) {
	objs := er.c.ListObjects(ctx, er.ep.Bucket, minio.ListObjectsOptions{Prefix: er.prefix, Recursive: true})
	for e := range er.c.RemoveObjects(ctx, er.ep.Bucket, objs, minio.RemoveObjectsOptions{}) {
		_ = e // best effort
	}
}

// Print writes the report as a table: per operation, each endpoint's
// median (and throughput), and each target's ratio to the baseline.
func (r Report) Print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	names := append([]string{r.Baseline}, r.Targets...)
	hdr := []string{"operation"}
	for _, n := range names {
		hdr = append(hdr, n)
	}
	for _, t := range r.Targets {
		hdr = append(hdr, t+"/"+r.Baseline)
	}
	fmt.Fprintln(tw, strings.Join(hdr, "\t"))
	for _, op := range r.Ops {
		row := []string{string(op)}
		for _, n := range names {
			row = append(row, formatMeasure(op, r.Results[n][op]))
		}
		for _, t := range r.Targets {
			row = append(row, fmt.Sprintf("%.2f", r.Ratio(t, op)))
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
	fmt.Fprintln(w, "ratios are speed relative to the baseline (baseline time / target time): above 1.00 the target is faster")
}

func formatMeasure(op Op, m Measure) string {
	d := m.Median.Round(time.Microsecond)
	switch {
	case m.Bytes >= 1<<20:
		return fmt.Sprintf("%v (%.0f MiB/s)", d, float64(m.Bytes)/(1<<20)/m.Median.Seconds())
	case m.Count > 1 && op != OpList:
		return fmt.Sprintf("%v (%.0f ops/s)", d, float64(m.Count)/m.Median.Seconds())
	}
	return d.String()
}
