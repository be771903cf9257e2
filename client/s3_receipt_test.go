package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/bridge"
	"github.com/flashback-network/flashback/receipt"
	"github.com/flashback-network/flashback/s3bench"
	"github.com/flashback-network/flashback/storage"
)

var providerKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize))

// startBridge runs a real bridge signing receipts over a local disk, with
// reservation res-1 and a write key, and returns its URL.
func startBridge(t *testing.T) string {
	t.Helper()
	local, err := storage.NewLocal(storage.LocalConfig{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	key := bridge.Key{AccessKeyID: "AKIARCPT", Secret: "secret-rcpt", Bucket: "res-1", Perm: bridge.PermWrite}
	sb, err := s3bench.ServeBridgeConfig("receipts", bridge.Config{
		Backend:      local,
		Keys:         bridge.NewStaticKeys(key),
		Reservations: bridge.NewStaticReservations(bridge.Reservation{ID: "res-1", QuotaBytes: 1 << 30, EgressBytes: -1, Unit: "u"}),
		ReceiptKey:   providerKey, ChainID: "flashback-test",
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	return sb.Endpoint.URL
}

// TestBucketReceipts: uploads (one request and multipart), copies and
// removals through the SDK return the bridge's verified receipts.
func TestBucketReceipts(t *testing.T) {
	ctx := context.Background()
	bk := NewBucket(startBridge(t), "res-1", "AKIARCPT", "secret-rcpt")
	provider := address.FromPubKey(providerKey.Public().(ed25519.PublicKey))

	small := bytes.Repeat([]byte("receipt "), 1000)
	o, err := bk.Upload(ctx, "small.txt", bytes.NewReader(small), int64(len(small)), UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(small)
	if o.Receipt == nil || o.ReceiptProblem != "" {
		t.Fatalf("single upload: receipt %v, problem %q", o.Receipt, o.ReceiptProblem)
	}
	if o.Receipt.Provider != provider || !bytes.Equal(o.Receipt.ContentHash, sum[:]) || o.Receipt.ETag != o.ETag {
		t.Fatalf("single upload receipt %+v", o.Receipt)
	}

	big := bytes.Repeat([]byte("0123456789abcdef"), (11<<20)/16)
	o, err = bk.Upload(ctx, "big.bin", bytes.NewReader(big), int64(len(big)), UploadOptions{Threshold: 6 << 20, PartSize: 5 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if o.Receipt == nil || len(o.Receipt.PartSizes) != 3 {
		t.Fatalf("multipart upload: receipt %+v, problem %q", o.Receipt, o.ReceiptProblem)
	}
	want, err := receipt.ContentHashOf(bytes.NewReader(big), o.Receipt.PartSizes)
	if err != nil || !bytes.Equal(want, o.Receipt.ContentHash) {
		t.Fatalf("multipart receipt hash %x, ContentHashOf %x (%v)", o.Receipt.ContentHash, want, err)
	}

	c, err := bk.Copy(ctx, "small.txt", "dir/copy of small.txt")
	if err != nil {
		t.Fatal(err)
	}
	if c.Receipt == nil || !bytes.Equal(c.Receipt.ContentHash, sum[:]) || c.Size != int64(len(small)) {
		t.Fatalf("copy: receipt %+v size %d problem %q", c.Receipt, c.Size, c.ReceiptProblem)
	}

	d, err := bk.Remove(ctx, "small.txt")
	if err != nil {
		t.Fatal(err)
	}
	if d.Receipt == nil || d.Receipt.Op != receipt.OpDelete || d.Receipt.Key != "small.txt" {
		t.Fatalf("remove: receipt %+v problem %q", d.Receipt, d.ReceiptProblem)
	}
}

// TestBucketRefusesBadReceipts: between the SDK and a real bridge, a proxy
// alters receipts: a changed field (signature no longer valid) and a
// valid receipt replayed for another key are refused with a reason,
// while the upload itself succeeds.
func TestBucketRefusesBadReceipts(t *testing.T) {
	target, _ := url.Parse(startBridge(t))
	var mu sync.Mutex
	var first, mode string
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		mu.Lock()
		defer mu.Unlock()
		h := resp.Header.Get(receipt.Header)
		switch {
		case h == "":
		case first == "":
			first = h
		case mode == "replay":
			resp.Header.Set(receipt.Header, first)
		case mode == "tamper":
			r, err := receipt.Decode(h)
			if err != nil {
				return err
			}
			r.Size++
			v, err := r.Encode()
			if err != nil {
				return err
			}
			resp.Header.Set(receipt.Header, v)
		}
		return nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: proxy}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	ctx := context.Background()
	bk := NewBucket("http://"+ln.Addr().String(), "res-1", "AKIARCPT", "secret-rcpt")
	if o, err := bk.Upload(ctx, "a", strings.NewReader("aaa"), 3, UploadOptions{}); err != nil || o.Receipt == nil {
		t.Fatalf("first upload: %v %+v", err, o)
	}
	for m, why := range map[string]string{"replay": "not put of res-1/b", "tamper": "signature"} {
		mu.Lock()
		mode = m
		mu.Unlock()
		o, err := bk.Upload(ctx, "b", strings.NewReader("aaa"), 3, UploadOptions{})
		if err != nil {
			t.Fatalf("%s: upload failed: %v", m, err)
		}
		if o.Receipt != nil || !strings.Contains(o.ReceiptProblem, why) {
			t.Fatalf("%s: receipt %+v, problem %q (want %q)", m, o.Receipt, o.ReceiptProblem, why)
		}
	}
}
