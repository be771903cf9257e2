// Package s3bench measures S3 endpoints against a baseline endpoint in the
// same run: the same operations (large PUT and GET, a multipart upload with
// its completion timed apart, a LIST of a full page, small PUT and GET) run
// on every endpoint in interleaved rounds, so that whatever else loads the
// machine weighs on all of them alike, and the report gives each target's
// ratio to the baseline. `flashback bench s3` is its command line.
package s3bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Endpoint is one S3 service to measure, with a bucket it may write to.
type Endpoint struct {
	Name      string // shown in the report ("minio", "bridge")
	URL       string // http(s)://host:port
	AccessKey string
	SecretKey string
	Bucket    string
	Region    string // default us-east-1
	Insecure  bool   // accept any TLS certificate
	// CreateBucket makes the bucket first if it does not exist.
	CreateBucket bool
}

// Options sizes the measurements; zero fields take the defaults.
type Options struct {
	Rounds     int   // interleaved rounds (default 3); medians are reported
	LargeSize  int64 // single PUT/GET object (default 64 MiB)
	MPUSize    int64 // multipart object (default 1 GiB)
	PartSize   int64 // multipart part size (default 16 MiB)
	ListCount  int   // objects listed in one page (default 1000)
	SmallSize  int64 // small objects (default 4 KiB)
	SmallCount int   // small objects per round (default 100)
	// Skip names operations not to run (OpLargePut...).
	Skip map[Op]bool
}

func (o *Options) defaults() {
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.LargeSize, 64<<20)
	def(&o.MPUSize, 1<<30)
	def(&o.PartSize, 16<<20)
	def(&o.SmallSize, 4<<10)
	if o.Rounds <= 0 {
		o.Rounds = 3
	}
	if o.ListCount <= 0 {
		o.ListCount = 1000
	}
	if o.SmallCount <= 0 {
		o.SmallCount = 100
	}
}

// Op is one measured operation.
type Op string

// The operations, in report order.
const (
	OpLargePut    Op = "large PUT"
	OpLargeGet    Op = "large GET"
	OpMPU         Op = "multipart PUT"
	OpMPUComplete Op = "multipart complete"
	OpList        Op = "LIST page"
	OpSmallPut    Op = "small PUT"
	OpSmallGet    Op = "small GET"
)

var allOps = []Op{OpLargePut, OpLargeGet, OpMPU, OpMPUComplete, OpList, OpSmallPut, OpSmallGet}

// Measure is the median of one operation on one endpoint. Bytes is what
// one run moved (0 for LIST and completion); Count how many requests one
// run made (small objects: SmallCount).
type Measure struct {
	Median time.Duration
	Bytes  int64
	Count  int
}

// Report holds the medians, per endpoint name and operation.
type Report struct {
	Baseline string
	Targets  []string
	Ops      []Op
	Results  map[string]map[Op]Measure
}

// Ratio is the target's speed relative to the baseline for op
// (baseline time / target time: above 1 the target is faster).
func (r Report) Ratio(target string, op Op) float64 {
	b, t := r.Results[r.Baseline][op].Median, r.Results[target][op].Median
	if t <= 0 || b <= 0 {
		return 0
	}
	return float64(b) / float64(t)
}

// endpointRun is an endpoint's client and the names it wrote.
type endpointRun struct {
	ep     Endpoint
	c      *minio.Client
	core   *minio.Core
	prefix string
	times  map[Op][]time.Duration
}

// Run measures baseline and targets. Every object it writes lives under a
// fresh prefix of each endpoint's bucket and is deleted at the end.
func Run(ctx context.Context, baseline Endpoint, targets []Endpoint, o Options) (Report, error) {
	o.defaults()
	if len(targets) == 0 {
		return Report{}, errors.New("bench: no target endpoint")
	}
	var runs []*endpointRun
	for _, ep := range append([]Endpoint{baseline}, targets...) {
		er, err := newRun(ep)
		if err != nil {
			return Report{}, err
		}
		runs = append(runs, er)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		for _, er := range runs {
			er.cleanup(cctx)
		}
	}()
	for _, er := range runs {
		if err := er.ensureBucket(ctx); err != nil {
			return Report{}, fmt.Errorf("bench %s: bucket %s: %w", er.ep.Name, er.ep.Bucket, err)
		}
		if err := er.setup(ctx, o); err != nil {
			return Report{}, fmt.Errorf("bench %s: setup: %w", er.ep.Name, err)
		}
	}
	for round := 0; round < o.Rounds; round++ {
		for _, op := range []Op{OpLargePut, OpLargeGet, OpMPU, OpList, OpSmallPut, OpSmallGet} {
			if o.Skip[op] {
				continue
			}
			// Rotate the order so no endpoint always goes first.
			for i := range runs {
				er := runs[(i+round)%len(runs)]
				if err := er.measure(ctx, op, o); err != nil {
					return Report{}, fmt.Errorf("bench %s: %s: %w", er.ep.Name, op, err)
				}
			}
		}
	}
	rep := Report{Baseline: baseline.Name, Results: map[string]map[Op]Measure{}}
	for _, t := range targets {
		rep.Targets = append(rep.Targets, t.Name)
	}
	for _, op := range allOps {
		if len(runs[0].times[op]) > 0 {
			rep.Ops = append(rep.Ops, op)
		}
	}
	for _, er := range runs {
		m := map[Op]Measure{}
		for op, ts := range er.times {
			m[op] = Measure{Median: median(ts), Bytes: opBytes(op, o), Count: opCount(op, o)}
		}
		rep.Results[er.ep.Name] = m
	}
	return rep, nil
}

func newRun(ep Endpoint) (*endpointRun, error) {
	u, err := url.Parse(ep.URL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("bench %s: endpoint %q is not an http(s)://host:port URL", ep.Name, ep.URL)
	}
	if ep.Bucket == "" {
		return nil, fmt.Errorf("bench %s: no bucket", ep.Name)
	}
	region := ep.Region
	if region == "" {
		region = "us-east-1"
	}
	tr, err := minio.DefaultTransport(u.Scheme == "https")
	if err != nil {
		return nil, err
	}
	if ep.Insecure && tr.TLSClientConfig != nil {
		tr.TLSClientConfig.InsecureSkipVerify = true
	}
	opts := &minio.Options{
		Creds: credentials.NewStaticV4(ep.AccessKey, ep.SecretKey, ""), Secure: u.Scheme == "https",
		Region: region, Transport: tr, BucketLookup: minio.BucketLookupPath,
	}
	core, err := minio.NewCore(u.Host, opts)
	if err != nil {
		return nil, fmt.Errorf("bench %s: %w", ep.Name, err)
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	return &endpointRun{ep: ep, c: core.Client, core: core, prefix: "fb-bench-" + hex.EncodeToString(rnd[:]) + "/",
		times: map[Op][]time.Duration{}}, nil
}

// setup writes what the GET and LIST measurements read.
func (er *endpointRun) setup(ctx context.Context, o Options) error {
	if !o.Skip[OpLargeGet] {
		if err := er.putLarge(ctx, "large-get", o.LargeSize); err != nil {
			return err
		}
	}
	if !o.Skip[OpSmallGet] {
		for i := 0; i < o.SmallCount; i++ {
			if err := er.putBytes(ctx, fmt.Sprintf("small-get/%04d", i), pattern(o.SmallSize)); err != nil {
				return err
			}
		}
	}
	if !o.Skip[OpList] {
		return er.fillList(ctx, o.ListCount)
	}
	return nil
}

// fillList writes ListCount empty objects, 8 at a time.
func (er *endpointRun) fillList(ctx context.Context, n int) error {
	errs := make(chan error, n)
	sem := make(chan struct{}, 8)
	for i := 0; i < n; i++ {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			errs <- er.putBytes(ctx, fmt.Sprintf("list/%05d", i), nil)
		}()
	}
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			return err
		}
	}
	return nil
}

func median(ts []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ts...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func opBytes(op Op, o Options) int64 {
	switch op {
	case OpLargePut, OpLargeGet:
		return o.LargeSize
	case OpMPU:
		return o.MPUSize
	case OpSmallPut, OpSmallGet:
		return o.SmallSize * int64(o.SmallCount)
	}
	return 0
}

func opCount(op Op, o Options) int {
	switch op {
	case OpSmallPut, OpSmallGet:
		return o.SmallCount
	case OpList:
		return o.ListCount
	case OpMPU:
		return int((o.MPUSize + o.PartSize - 1) / o.PartSize)
	}
	return 1
}

// pattern is n bytes of incompressible-looking content.
func pattern(n int64) []byte {
	b := make([]byte, n)
	fillPattern(b, 0)
	return b
}

// fillPattern fills b with a cheap xorshift stream seeded by seed.
func fillPattern(b []byte, seed uint64) {
	x := seed*0x9E3779B97F4A7C15 + 0x2545F4914F6CDD1D
	for i := 0; i+8 <= len(b); i += 8 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		for j := 0; j < 8; j++ {
			b[i+j] = byte(x >> (8 * j))
		}
	}
	for i := len(b) &^ 7; i < len(b); i++ {
		b[i] = byte(i)
	}
}

// patternReader yields size bytes cycling over one 1 MiB pattern block
// (memory stays flat whatever the size).
type patternReader struct {
	block []byte
	left  int64
	off   int
}

func newPatternReader(block []byte, size int64) *patternReader {
	return &patternReader{block: block, left: size}
}

func (p *patternReader) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	n := copy(b, p.block[p.off:])
	if int64(n) > p.left {
		n = int(p.left)
	}
	p.off = (p.off + n) % len(p.block)
	p.left -= int64(n)
	return n, nil
}

func (er *endpointRun) putBytes(ctx context.Context, key string, data []byte) error {
	_, err := er.c.PutObject(ctx, er.ep.Bucket, er.prefix+key, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{DisableMultipart: true})
	return err
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (er *endpointRun) ensureBucket(ctx context.Context) error {
	if !er.ep.CreateBucket {
		return nil
	}
	ok, err := er.c.BucketExists(ctx, er.ep.Bucket)
	if err != nil || ok {
		return err
	}
	return er.c.MakeBucket(ctx, er.ep.Bucket, minio.MakeBucketOptions{Region: er.ep.Region})
}
