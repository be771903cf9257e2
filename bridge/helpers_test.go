package bridge

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/flashback-network/flashback/storage"
)

// Test keys and reservations of the standard fixture.
var (
	keyW1     = Key{AccessKeyID: "AKIAWRITE1", Secret: "secret-write-1", Bucket: "res-1", Perm: PermWrite}
	keyR1     = Key{AccessKeyID: "AKIAREAD1", Secret: "secret-read-1", Bucket: "res-1", Perm: PermRead}
	keyA1     = Key{AccessKeyID: "AKIAADMIN1", Secret: "secret-admin-1", Bucket: "res-1", Perm: PermAdmin}
	keyW2     = Key{AccessKeyID: "AKIAWRITE2", Secret: "secret-write-2", Bucket: "res-2", Perm: PermWrite}
	keySmallW = Key{AccessKeyID: "AKIASMALL", Secret: "secret-small", Bucket: "res-small", Perm: PermWrite}
)

const (
	smallQuota  = 1 << 20
	smallEgress = 1 << 20
)

// fixture is a running bridge over a local backend in a temp dir.
type fixture struct {
	t      testing.TB
	b      *Bridge
	url    string // http://127.0.0.1:port
	addr   string
	keys   *StaticKeys
	res    *StaticReservations
	local  *storage.Local
	sniff  *sniffer
	closed bool
}

type fixtureOpts struct {
	tls        bool
	vhost      string
	dir        string
	backendFor func(dir string) storage.Backend
	// receiptKey makes the bridge sign receipts for chain testChainID.
	receiptKey ed25519.PrivateKey
	// probe is served under probe.PathPrefix (Config.Probe).
	probe http.Handler
}

const testChainID = "flashback-test"

func newFixture(t testing.TB, o fixtureOpts) *fixture {
	t.Helper()
	dir := o.dir
	if dir == "" {
		dir = t.TempDir()
	}
	local, err := storage.NewLocal(storage.LocalConfig{Root: dir})
	if err != nil {
		t.Fatal(err)
	}
	keys := NewStaticKeys(keyW1, keyR1, keyA1, keyW2, keySmallW)
	res := NewStaticReservations(
		Reservation{ID: "res-1", QuotaBytes: 2 << 30, EgressBytes: -1, Unit: "unit-a"},
		Reservation{ID: "res-2", QuotaBytes: 2 << 30, EgressBytes: -1, Unit: "unit-a"},
		Reservation{ID: "res-small", QuotaBytes: smallQuota, EgressBytes: smallEgress, Unit: "unit-a"},
		Reservation{ID: "res-elsewhere", QuotaBytes: 1 << 30, EgressBytes: -1, Unit: "unit-not-here"},
	)
	var be storage.Backend = local
	if o.backendFor != nil {
		be = o.backendFor(dir)
	}
	b, err := New(Config{
		Backends:          map[string]storage.Backend{"unit-a": be},
		Keys:              keys,
		Reservations:      res,
		VirtualHostDomain: o.vhost,
		ReceiptKey:        o.receiptKey,
		ChainID:           chainIDIf(o.receiptKey),
		Probe:             o.probe,
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	scheme := "http"
	if o.tls {
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{testCert(t)}})
		scheme = "https"
	}
	sn := &sniffer{Listener: ln}
	var serveLn net.Listener = sn
	done := make(chan error, 1)
	go func() { done <- b.Serve(serveLn) }()
	f := &fixture{t: t, b: b, url: scheme + "://" + ln.Addr().String(), addr: ln.Addr().String(),
		keys: keys, res: res, local: local, sniff: sn}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := b.Shutdown(ctx); err != nil {
			t.Logf("shutdown: %v", err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Logf("serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("Serve did not return after Shutdown")
		}
	})
	waitUp(t, f.addr)
	return f
}

func chainIDIf(key ed25519.PrivateKey) string {
	if key == nil {
		return ""
	}
	return testChainID
}

func waitUp(t testing.TB, addr string) {
	for i := 0; i < 100; i++ {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("bridge at %s not up", addr)
}

func httpClient(insecureTLS bool) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: insecureTLS}
	return &http.Client{Transport: tr}
}

// sdk returns an aws-sdk-go-v2 S3 client for key k, with the SDK's default
// checksum behaviour.
func (f *fixture) sdk(k Key, optFns ...func(*s3.Options)) *s3.Client {
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(k.AccessKeyID, k.Secret, ""),
		HTTPClient:  httpClient(true),
		// What config.LoadDefaultConfig resolves by default: checksums
		// on every request that supports them (aws-chunked with a
		// trailing CRC32 for streamed bodies), validated on responses.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	}
	return s3.NewFromConfig(cfg, append([]func(*s3.Options){func(o *s3.Options) {
		o.BaseEndpoint = aws.String(f.url)
		o.UsePathStyle = true
		o.RetryMaxAttempts = 1
	}}, optFns...)...)
}

// apiCode is the S3 error code of err ("" if none).
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func httpStatus(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func wantCode(t *testing.T, err error, code string, status int) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s (%d), got success", code, status)
	}
	if got := apiCode(err); got != code {
		t.Fatalf("want code %s, got %q (%v)", code, got, err)
	}
	if status != 0 {
		if got := httpStatus(err); got != status {
			t.Fatalf("want status %d, got %d (%v)", status, got, err)
		}
	}
}

func randBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := n - n%8; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

func getAll(t *testing.T, c *s3.Client, bucket, key string) []byte {
	t.Helper()
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func putBytes(t *testing.T, c *s3.Client, bucket, key string, data []byte) {
	t.Helper()
	_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
}

// sniffer records the x-amz-content-sha256 payload modes clients used.
type sniffer struct {
	net.Listener
	mu    sync.Mutex
	modes map[string]int
}

func (s *sniffer) Accept() (net.Conn, error) {
	c, err := s.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &sniffConn{Conn: c, s: s}, nil
}

func (s *sniffer) seen(mode string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.modes[mode] > 0
}

type sniffConn struct {
	net.Conn
	s    *sniffer
	tail []byte
}

var payloadModes = []string{"STREAMING-UNSIGNED-PAYLOAD-TRAILER", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
	"STREAMING-AWS4-HMAC-SHA256-PAYLOAD\r", "UNSIGNED-PAYLOAD\r"}

func (c *sniffConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		// Only look at a bounded window: headers are near the start of a
		// read; a mode split across reads is caught through the tail.
		buf := append(c.tail, p[:min(n, 8192)]...)
		lower := strings.ToLower(string(buf))
		if strings.Contains(lower, "x-amz-content-sha256") {
			for _, m := range payloadModes {
				if strings.Contains(string(buf), "x-amz-content-sha256: "+m) || strings.Contains(lower, "x-amz-content-sha256: "+strings.ToLower(m)) {
					c.s.mu.Lock()
					if c.s.modes == nil {
						c.s.modes = map[string]int{}
					}
					c.s.modes[strings.TrimSpace(m)]++
					c.s.mu.Unlock()
				}
			}
		}
		if len(buf) > 128 {
			buf = buf[len(buf)-128:]
		}
		c.tail = append(c.tail[:0], buf...)
	}
	return n, err
}
