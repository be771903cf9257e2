package gateway

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/flashback-network/flashback/bridge"
	"github.com/flashback-network/flashback/receipt"
	"github.com/flashback-network/flashback/s3bench"
	"github.com/flashback-network/flashback/storage"
)

// startSigningBridge is startBridge with receipts on: the bridge signs a
// receipt for every write and delete with priv, for chainID.
func startSigningBridge(t *testing.T, id string, priv ed25519.PrivateKey) *memberBridge {
	t.Helper()
	root := t.TempDir()
	be, err := storage.NewLocal(storage.LocalConfig{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	key := bridge.Key{AccessKeyID: "FBSIG" + strings.ToUpper(strings.ReplaceAll(id, "-", "")), Secret: randText(20), Bucket: id, Perm: bridge.PermWrite}
	sb, err := s3bench.ServeBridgeConfig(id, bridge.Config{
		Backend:      be,
		Keys:         bridge.NewStaticKeys(key),
		Reservations: bridge.NewStaticReservations(bridge.Reservation{ID: id, QuotaBytes: -1, EgressBytes: -1, Unit: "u"}),
		ReceiptKey:   priv,
		ChainID:      "flashback-test",
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	m := &memberBridge{id: id, root: root, sb: sb, url: sb.Endpoint.URL, key: key}
	t.Cleanup(func() { m.stop(t) })
	return m
}

func journalOf(t *testing.T, state, res string) []receipt.Receipt {
	t.Helper()
	f, err := os.Open(filepath.Join(state, "receipts", res+".jsonl"))
	if err != nil {
		t.Fatalf("journal of %s: %v", res, err)
	}
	defer f.Close()
	var out []receipt.Receipt
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var jl receipt.JournalLine
		if err := json.Unmarshal(sc.Bytes(), &jl); err != nil {
			t.Fatalf("journal line %q: %v", sc.Text(), err)
		}
		r, err := receipt.Decode(jl.Encoded)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Verify(); err != nil {
			t.Fatalf("journaled receipt does not verify: %v", err)
		}
		out = append(out, *r)
	}
	return out
}

// TestGatewayKeepsReceipts: every member's signed receipts of the
// gateway's writes (single PUT, multipart) and deletes end up in the
// gateway's journal, verifiable and naming the right content hash, so a
// consumer behind a gateway can open a data-loss dispute.
func TestGatewayKeepsReceipts(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(nil)
	f := &fixture{t: t, state: t.TempDir(), keys: map[string]Key{}}
	f.repo = Repo{Name: "photos", Mode: ModeMirror}
	for _, id := range []string{"res-1", "res-2", "res-3"} {
		m := startSigningBridge(t, id, priv)
		f.members = append(f.members, m)
		f.repo.Members = append(f.repo.Members, m.member(50))
	}
	k := Key{AccessKeyID: "FBREPOWRITE", Secret: randText(30), Repo: "photos", Perm: PermWrite}
	f.keys[PermWrite] = k
	f.dir = NewStaticDirectory([]Repo{f.repo}, []Key{k})
	f.start()
	c := f.client(PermWrite)

	small := randBytes(100 << 10)
	mustPut(t, c, "photos", "a.bin", small)
	big := randBytes(11 << 20) // two parts
	up, err := c.CreateMultipartUpload(context.Background(), &s3.CreateMultipartUploadInput{Bucket: aws.String("photos"), Key: aws.String("big.bin")})
	if err != nil {
		t.Fatal(err)
	}
	var parts []types.CompletedPart
	for i, chunk := range [][]byte{big[:6<<20], big[6<<20:]} {
		n := int32(i + 1)
		out, err := c.UploadPart(context.Background(), &s3.UploadPartInput{Bucket: aws.String("photos"), Key: aws.String("big.bin"),
			UploadId: up.UploadId, PartNumber: aws.Int32(n), Body: bytes.NewReader(chunk)})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n)})
	}
	if _, err := c.CompleteMultipartUpload(context.Background(), &s3.CompleteMultipartUploadInput{Bucket: aws.String("photos"), Key: aws.String("big.bin"),
		UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String("photos"), Key: aws.String("a.bin")}); err != nil {
		t.Fatal(err)
	}

	sum := sha256.Sum256(small)
	for _, m := range f.members {
		got := map[string]receipt.Receipt{}
		for _, r := range journalOf(t, f.state, m.id) {
			if r.Reservation != m.id {
				t.Fatalf("journal of %s holds a receipt for %s", m.id, r.Reservation)
			}
			got[r.Op+" "+r.Key] = r
		}
		put, ok := got[receipt.OpPut+" a.bin"]
		if !ok || !bytes.Equal(put.ContentHash, sum[:]) || put.Size != int64(len(small)) {
			t.Fatalf("%s: no receipt of a.bin's write with its sha256 (have %v)", m.id, keysOf(got))
		}
		if r, ok := got[receipt.OpPut+" big.bin"]; !ok || r.Size != int64(len(big)) || len(r.PartSizes) != 2 {
			t.Fatalf("%s: no receipt of the two-part big.bin (have %v)", m.id, keysOf(got))
		}
		if _, ok := got[receipt.OpDelete+" a.bin"]; !ok {
			t.Fatalf("%s: no receipt of a.bin's deletion (have %v)", m.id, keysOf(got))
		}
	}
}

func keysOf(m map[string]receipt.Receipt) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// fixedResponse answers every request with one header.
type fixedResponse struct{ header string }

func (f fixedResponse) RoundTrip(*http.Request) (*http.Response, error) {
	h := http.Header{}
	h.Set(receipt.Header, f.header)
	return &http.Response{StatusCode: 200, Header: h, Body: io.NopCloser(strings.NewReader(""))}, nil
}

// TestReceiptTapRefuses: a receipt for another reservation than the
// request's, or one that does not verify, is not journaled.
func TestReceiptTapRefuses(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(nil)
	r := receipt.Receipt{Reservation: "res-9", Key: "k", Op: receipt.OpDelete, ChainID: "c", Time: 1}
	if err := r.Sign(priv); err != nil {
		t.Fatal(err)
	}
	good, _ := r.Encode()
	r.Signature[0] ^= 1
	forged, _ := r.Encode()
	dir := t.TempDir()
	for _, tc := range []struct{ name, header, url string }{
		{"other reservation", good, "http://b/res-1/k"},
		{"bad signature", forged, "http://b/res-9/k"},
		{"not a receipt", "garbage", "http://b/res-9/k"},
	} {
		var logged []string
		tap := &receiptTap{next: fixedResponse{tc.header}, journal: &receipt.Journal{Dir: dir}, logf: func(f string, a ...any) { logged = append(logged, f) }}
		req, _ := http.NewRequest(http.MethodDelete, tc.url, nil)
		if _, err := tap.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 || len(logged) != 1 {
			t.Fatalf("%s: journal %v, logged %v", tc.name, ents, logged)
		}
	}
	tap := &receiptTap{next: fixedResponse{good}, journal: &receipt.Journal{Dir: dir}, logf: t.Logf}
	req, _ := http.NewRequest(http.MethodDelete, "http://b/res-9/k", nil)
	if _, err := tap.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "res-9.jsonl")); err != nil || bytes.Count(b, []byte("\n")) != 1 {
		t.Fatalf("the valid receipt was not journaled once: %q, %v", b, err)
	}
}
