package oracle

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/bridge"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/dispute"
	"github.com/flashback-network/flashback/s3bench"
	"github.com/flashback-network/flashback/sealed"
	"github.com/flashback-network/flashback/storage"
)

// disputeBridge is a real bridge signing receipts for res-1, with a write
// key (the consumer's) and a read key (the dispute's).
type disputeBridge struct {
	url        string
	write      *client.Bucket
	readID     string
	readSecret string
}

func startDisputeBridge(t *testing.T) *disputeBridge {
	t.Helper()
	local, err := storage.NewLocal(storage.LocalConfig{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	w := bridge.Key{AccessKeyID: "AKIAWRITE", Secret: "secret-write", Bucket: "res-1", Perm: bridge.PermWrite}
	r := bridge.Key{AccessKeyID: "DSPREADKEY000001", Secret: "secret-dispute-read", Bucket: "res-1", Perm: bridge.PermRead}
	sb, err := s3bench.ServeBridgeConfig("dispute", bridge.Config{
		Backend:      local,
		Keys:         bridge.NewStaticKeys(w, r),
		Reservations: bridge.NewStaticReservations(bridge.Reservation{ID: "res-1", QuotaBytes: 1 << 30, EgressBytes: -1, Unit: "u"}),
		ReceiptKey:   ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize)), ChainID: "oracle-test",
	}, w)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	return &disputeBridge{url: sb.Endpoint.URL, write: client.NewBucket(sb.Endpoint.URL, "res-1", w.AccessKeyID, w.Secret),
		readID: r.AccessKeyID, readSecret: r.Secret}
}

// disputeOf is a data_loss dispute of the object the receipt of o
// certifies, its read key sealed to the oracle's seal key pub.
func (b *disputeBridge) disputeOf(t *testing.T, o *client.Object, oracle string, pub *[sealed.KeySize]byte) *types.Dispute {
	t.Helper()
	if o.Receipt == nil {
		t.Fatalf("upload of %s returned no receipt (%s)", o.Key, o.ReceiptProblem)
	}
	s, err := sealed.Seal([]byte(b.readSecret), pub[:])
	if err != nil {
		t.Fatal(err)
	}
	return &types.Dispute{ID: "dsp-1", Reservation: "res-1", Provider: o.Receipt.Provider, Kind: dispute.KindDataLoss,
		Key: o.Key, Size: o.Receipt.Size, ContentHash: hex.EncodeToString(o.Receipt.ContentHash), PartSizes: o.Receipt.PartSizes,
		AccessKeyID: b.readID, Deadline: core.Time(time.Now().Add(time.Minute).Unix()),
		Panel: []types.DisputeSeat{{Oracle: oracle, SealedSecret: s}}}
}

// TestDisputeChecks: the oracle's re-check of a data_loss dispute through
// a real bridge and the dispute's read key: intact objects (one piece and
// multipart, hashed by the receipt's rule) reject, a deleted one (404) and
// one with other bytes uphold; a key it cannot open or the bridge refuses
// cannot tell, as an egress dispute cannot.
func TestDisputeChecks(t *testing.T) {
	ctx := context.Background()
	b := startDisputeBridge(t)
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{4}, ed25519.SeedSize))
	me := address.FromPubKey(priv.Public().(ed25519.PublicKey))
	w, err := NewDisputes(client.New("http://127.0.0.1:1"), client.New("http://127.0.0.1:1").Signer(priv), priv)
	if err != nil {
		t.Fatal(err)
	}
	w.Endpoint = func(context.Context, string) (string, error) { return b.url, nil }
	w.Retry = time.Second
	pub, _, _ := client.SealKeyFor(priv)

	small, err := b.write.Upload(ctx, "a.txt", strings.NewReader("precious"), 8, client.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bigData := bytes.Repeat([]byte("0123456789abcdef"), 11<<16) // 11 MiB: three 5 MiB parts
	big, err := b.write.Upload(ctx, "m.bin", bytes.NewReader(bigData), int64(len(bigData)), client.UploadOptions{PartSize: 5 << 20, Threshold: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if big.Receipt == nil || len(big.Receipt.PartSizes) != 3 {
		t.Fatalf("multipart receipt: %+v", big.Receipt)
	}
	check := func(name string, d *types.Dispute, verdict, observed string) {
		t.Helper()
		v, o := w.Check(ctx, d)
		if v != verdict || !strings.Contains(o, observed) {
			t.Fatalf("%s: %s %q, want %s with %q", name, v, o, verdict, observed)
		}
	}
	dSmall, dBig := b.disputeOf(t, small, me, pub), b.disputeOf(t, big, me, pub)
	check("intact", dSmall, dispute.VerdictRejected, "sha256:"+dSmall.ContentHash)
	check("intact multipart", dBig, dispute.VerdictRejected, "sha256:"+dBig.ContentHash)

	other := bytes.Clone(bigData)
	other[len(other)-1] ^= 1
	if _, err := b.write.Upload(ctx, "m.bin", bytes.NewReader(other), int64(len(other)), client.UploadOptions{PartSize: 5 << 20, Threshold: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	check("other bytes", dBig, dispute.VerdictUpheld, "sha256:")
	if err := b.write.Delete(ctx, "a.txt"); err != nil {
		t.Fatal(err)
	}
	check("deleted", dSmall, dispute.VerdictUpheld, "404")

	foreign, _, _ := sealed.GenerateKey()
	check("sealed to another key", b.disputeOf(t, small, me, foreign), dispute.VerdictCannotTell, "open the read key")
	unknown := b.disputeOf(t, small, me, pub)
	unknown.AccessKeyID = "DSPUNKNOWNKEY001"
	start := time.Now()
	check("key the bridge refuses", unknown, dispute.VerdictCannotTell, "InvalidAccessKeyId")
	if d := time.Since(start); d < w.Retry {
		t.Fatalf("gave up after %s, before retrying for %s", d, w.Retry)
	}
	check("egress", &types.Dispute{ID: "dsp-2", Kind: dispute.KindEgress}, dispute.VerdictCannotTell, "no evidence")
}
