package gateway

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/flashback-network/flashback/bridge"
	"github.com/flashback-network/flashback/s3bench"
	"github.com/flashback-network/flashback/storage"
)

// memberBridge is a real bridge over a local-disk unit serving one
// reservation (the member).
type memberBridge struct {
	id   string
	root string // the unit's directory
	sb   *s3bench.ServedBridge
	url  string // what the gateway dials (the bridge, or a proxy in front)
	key  bridge.Key
	once sync.Once
}

func (m *memberBridge) stop(t *testing.T) {
	m.once.Do(func() {
		if err := m.sb.Close(); err != nil {
			t.Logf("closing bridge %s: %v", m.id, err)
		}
	})
}

func startBridge(t testing.TB, id string) *memberBridge {
	t.Helper()
	root := t.TempDir()
	be, err := storage.NewLocal(storage.LocalConfig{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	key := bridge.Key{AccessKeyID: "FBMEM" + strings.ToUpper(strings.ReplaceAll(id, "-", "")), Secret: randText(20), Bucket: id, Perm: bridge.PermWrite}
	sb, err := s3bench.ServeBridgeConfig(id, bridge.Config{
		Backend:      be,
		Keys:         bridge.NewStaticKeys(key),
		Reservations: bridge.NewStaticReservations(bridge.Reservation{ID: id, QuotaBytes: -1, EgressBytes: -1, Unit: "u"}),
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	m := &memberBridge{id: id, root: root, sb: sb, url: sb.Endpoint.URL, key: key}
	if tt, ok := t.(*testing.T); ok {
		t.Cleanup(func() { m.stop(tt) })
	} else {
		t.Cleanup(func() { sb.Close() })
	}
	return m
}

func randText(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	const abc = "abcdefghijklmnopqrstuvwxyz0123456789"
	for i := range b {
		b[i] = abc[int(b[i])%len(abc)]
	}
	return string(b)
}

func (m *memberBridge) member(score float64) Member {
	return Member{ID: m.id, Endpoint: m.url, AccessKeyID: m.key.AccessKeyID, Secret: m.key.Secret, Score: score}
}

// direct is an S3 client straight to the member's bridge.
func (m *memberBridge) direct() *s3.Client {
	return sdkClient(m.sb.Endpoint.URL, m.key.AccessKeyID, m.key.Secret)
}

func sdkClient(url, id, secret string) *s3.Client {
	return s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(url), UsePathStyle: true, RetryMaxAttempts: 1,
		Credentials:                credentials.NewStaticCredentialsProvider(id, secret, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	})
}

// fixture is a gateway over member bridges, with one repository.
type fixture struct {
	t       testing.TB
	members []*memberBridge
	dir     *StaticDirectory
	state   string
	gw      *Gateway
	url     string
	keys    map[string]Key // by perm
	repo    Repo
	stall   time.Duration // Config.StallTimeout (default 5s)
	secret  OwnerSecret   // Config.OwnerSecret
}

func newFixture(t testing.TB, mode string, n, quorum int) *fixture {
	t.Helper()
	f := &fixture{t: t, state: t.TempDir(), keys: map[string]Key{}}
	for i := 0; i < n; i++ {
		f.members = append(f.members, startBridge(t, "res-"+string(rune('1'+i))))
	}
	f.repo = Repo{Name: "photos", Mode: mode, WriteQuorum: quorum}
	for _, m := range f.members {
		f.repo.Members = append(f.repo.Members, m.member(50))
	}
	var keys []Key
	for _, p := range []string{PermRead, PermWrite, PermAdmin} {
		k := Key{AccessKeyID: "FBREPO" + strings.ToUpper(p), Secret: randText(30), Repo: "photos", Perm: p}
		f.keys[p] = k
		keys = append(keys, k)
	}
	f.dir = NewStaticDirectory([]Repo{f.repo}, keys)
	f.start()
	return f
}

// start (re)starts the gateway on the fixture's state directory.
func (f *fixture) start() {
	f.t.Helper()
	if f.gw != nil {
		f.stopGateway()
	}
	stall := f.stall
	if stall == 0 {
		stall = 5 * time.Second
	}
	gw, err := New(context.Background(), Config{Directory: f.dir, StateDir: f.state, StallTimeout: stall, Logf: f.t.Logf, OwnerSecret: f.secret})
	if err != nil {
		f.t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- gw.Serve(ln) }()
	f.gw, f.url = gw, "http://"+ln.Addr().String()
	f.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		gw.Shutdown(ctx)
		<-done
	})
}

func (f *fixture) stopGateway() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	f.gw.Shutdown(ctx)
}

func (f *fixture) setRepo(r Repo) {
	f.repo = r
	f.dir.SetRepo(r)
}

func (f *fixture) client(perm string) *s3.Client {
	k := f.keys[perm]
	return sdkClient(f.url, k.AccessKeyID, k.Secret)
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func put(t testing.TB, c *s3.Client, bucket, key string, data []byte) error {
	t.Helper()
	_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data)})
	return err
}

func mustPut(t testing.TB, c *s3.Client, bucket, key string, data []byte) {
	t.Helper()
	if err := put(t, c, bucket, key, data); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

func get(c *s3.Client, bucket, key string, rng string) ([]byte, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if rng != "" {
		in.Range = aws.String(rng)
	}
	out, err := c.GetObject(context.Background(), in)
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

func mustGetExact(t testing.TB, c *s3.Client, bucket, key string, want []byte) {
	t.Helper()
	got, err := get(c, bucket, key, "")
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("get %s: %d bytes, want %d (content differs)", key, len(got), len(want))
	}
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// multipartPut uploads data in parts of partSize through c.
func multipartPut(t testing.TB, c *s3.Client, bucket, key string, data []byte, partSize int) {
	t.Helper()
	ctx := context.Background()
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	var parts []types.CompletedPart
	for n, off := int32(1), 0; off < len(data); n, off = n+1, off+partSize {
		end := min(off+partSize, len(data))
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
			PartNumber: aws.Int32(n), Body: bytes.NewReader(data[off:end])})
		if err != nil {
			t.Fatalf("part %d: %v", n, err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag})
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		t.Fatalf("complete: %v", err)
	}
}

// memberHas says whether the member's bridge holds key, and its stored sha256.
func memberHas(t testing.TB, m *memberBridge, key string) (bool, string) {
	t.Helper()
	out, err := m.direct().HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(m.id), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		if apiCode(err) == "NotFound" || apiCode(err) == "NoSuchKey" {
			return false, ""
		}
		t.Fatalf("head %s on %s: %v", key, m.id, err)
	}
	return true, deref(out.ChecksumSHA256)
}

// repairFor returns the queued records of member (and key, if not empty).
func repairFor(t testing.TB, f *fixture, member, key, op string) []RepairRecord {
	t.Helper()
	recs, err := ReadRepairQueue(f.state)
	if err != nil {
		t.Fatal(err)
	}
	var out []RepairRecord
	for _, r := range recs {
		if r.Member == member && (key == "" || r.Key == key) && (op == "" || r.Op == op) {
			out = append(out, r)
		}
	}
	return out
}

// objectFile finds the local-disk file holding key on a member's unit.
func objectFile(t testing.TB, m *memberBridge, key string) string {
	t.Helper()
	var found string
	filepath.Walk(filepath.Join(m.root, "objects"), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.Contains(filepath.Base(p), key) {
			found = p
		}
		return nil
	})
	if found == "" {
		t.Fatalf("no file for %s under %s", key, m.root)
	}
	return found
}

// cutProxy forwards TCP to a bridge and, when armed, cuts each connection
// after it carried limit bytes toward the client.
type cutProxy struct {
	ln    net.Listener
	to    string
	limit atomic.Int64 // 0: never cut
	cuts  atomic.Int64
	// stallAfter > 0: each connection stops forwarding toward the bridge
	// after that many bytes (and holds the connection open), like a
	// member whose link or disk stalls.
	stallAfter atomic.Int64
	stalls     atomic.Int64
	done       chan struct{}
}

func newCutProxy(t testing.TB, to string) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, to: strings.TrimPrefix(to, "http://"), done: make(chan struct{})}
	go p.serve()
	t.Cleanup(func() { ln.Close(); close(p.done) })
	return p
}

func (p *cutProxy) url() string { return "http://" + p.ln.Addr().String() }

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.handle(c)
	}
}

func (p *cutProxy) handle(c net.Conn) {
	defer c.Close()
	s, err := net.Dial("tcp", p.to)
	if err != nil {
		return
	}
	defer s.Close()
	go func() {
		if st := p.stallAfter.Load(); st > 0 {
			if n, _ := io.CopyN(s, c, st); n == st {
				p.stalls.Add(1)
				<-p.done // stop reading: the sender's window fills, until the test ends
				s.Close()
				c.Close()
			}
			return
		}
		io.Copy(s, c)
		s.Close()
	}()
	limit := p.limit.Load()
	if limit <= 0 {
		io.Copy(c, s)
		return
	}
	if n, _ := io.CopyN(c, s, limit); n == limit {
		p.cuts.Add(1)
	}
}

var _ = http.NoBody

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
