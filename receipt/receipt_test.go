package receipt

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/flashback-network/flashback/address"
)

func testKey(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

func putReceipt(t *testing.T, priv ed25519.PrivateKey) *Receipt {
	t.Helper()
	sum := sha256.Sum256([]byte("hello"))
	r := &Receipt{ChainID: "flashback-test", Reservation: "res-1", Key: "dir/a.txt", Op: OpPut,
		Size: 5, ContentHash: sum[:], ETag: "5d41402abc4b2a76b9719d911017c592", Time: 1_780_000_000}
	if err := r.Sign(priv); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSignVerifyRoundTrip(t *testing.T) {
	priv := testKey(1)
	r := putReceipt(t, priv)
	if r.Provider != address.FromPubKey(priv.Public().(ed25519.PublicKey)) {
		t.Fatalf("provider %s is not the key's address", r.Provider)
	}
	if err := r.Verify(); err != nil {
		t.Fatalf("verify: %v", err)
	}
	s, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(s)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if err := got.Verify(); err != nil {
		t.Fatalf("verify decoded: %v", err)
	}
	if again, _ := got.Encode(); again != s {
		t.Fatalf("re-encoding differs:\n%s\n%s", again, s)
	}
	if got.Key != r.Key || got.Size != r.Size || !bytes.Equal(got.ContentHash, r.ContentHash) || got.Time != r.Time {
		t.Fatalf("decoded %+v, want %+v", got, r)
	}
}

func TestMultipartAndDeleteReceipts(t *testing.T) {
	priv := testKey(2)
	sizes := []int64{5 << 20, 5 << 20, 5 << 20, 7}
	var total int64
	for _, s := range sizes {
		total += s
	}
	h := make([]byte, HashSize)
	mp := &Receipt{ChainID: "c", Reservation: "r", Key: "k", Op: OpPut, Size: total, ContentHash: h, PartSizes: sizes, ETag: "x-4", Time: 1}
	del := &Receipt{ChainID: "c", Reservation: "r", Key: "k", Op: OpDelete, Time: 2}
	for _, r := range []*Receipt{mp, del} {
		if err := r.Sign(priv); err != nil {
			t.Fatal(err)
		}
		s, err := r.Encode()
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(s)
		if err != nil {
			t.Fatalf("decode %s: %v", r.Op, err)
		}
		if err := got.Verify(); err != nil {
			t.Fatalf("verify %s: %v", r.Op, err)
		}
		if len(got.PartSizes) != len(r.PartSizes) {
			t.Fatalf("%s: parts %v, want %v", r.Op, got.PartSizes, r.PartSizes)
		}
	}
	// Parts that do not add up to the size are refused at signing.
	bad := *mp
	bad.PartSizes = []int64{1, 2}
	if err := bad.Sign(priv); err == nil || !strings.Contains(err.Error(), "add up") {
		t.Fatalf("sign with wrong part sizes: %v", err)
	}
	// A delete carries no hash.
	badDel := *del
	badDel.ContentHash = h
	if err := badDel.Sign(priv); err == nil {
		t.Fatal("signed a delete receipt with a content hash")
	}
}

// Changing any signed field, the signature or the key breaks Verify.
func TestTamperedReceiptFailsVerify(t *testing.T) {
	priv := testKey(3)
	other := testKey(4)
	otherAddr := address.FromPubKey(other.Public().(ed25519.PublicKey))
	mutations := map[string]func(r *Receipt){
		"chain id":     func(r *Receipt) { r.ChainID = "other-chain" },
		"provider":     func(r *Receipt) { r.Provider = otherAddr },
		"reservation":  func(r *Receipt) { r.Reservation = "res-2" },
		"key":          func(r *Receipt) { r.Key = "dir/b.txt" },
		"op":           func(r *Receipt) { r.Op, r.Size, r.ContentHash, r.ETag = OpDelete, 0, nil, "" },
		"size":         func(r *Receipt) { r.Size = 6 },
		"content hash": func(r *Receipt) { r.ContentHash = bytes.Clone(r.ContentHash); r.ContentHash[0] ^= 1 },
		"part sizes":   func(r *Receipt) { r.PartSizes = []int64{5} },
		"etag":         func(r *Receipt) { r.ETag = "00" },
		"time":         func(r *Receipt) { r.Time++ },
		"signature":    func(r *Receipt) { r.Signature = bytes.Clone(r.Signature); r.Signature[10] ^= 0x40 },
		// Another key's valid signature over the same receipt, claiming
		// to be the provider: its address is not the provider's.
		"foreign key": func(r *Receipt) {
			r.PubKey = other.Public().(ed25519.PublicKey)
			r.Signature = ed25519.Sign(other, r.SigningBytes())
		},
	}
	for name, mutate := range mutations {
		t.Run(name, func(t *testing.T) {
			r := putReceipt(t, priv)
			mutate(r)
			if err := r.Verify(); err == nil {
				t.Fatalf("tampered %s verifies", name)
			}
			// And through the wire form, where it still encodes.
			if s, err := r.Encode(); err == nil {
				if d, err := Decode(s); err == nil && d.Verify() == nil {
					t.Fatalf("tampered %s verifies after decoding", name)
				}
			}
		})
	}
	// A key signing for a provider it is not is refused outright.
	r := putReceipt(t, priv)
	r.Signature = nil
	if err := r.Sign(other); err == nil {
		t.Fatal("signed for another provider's address")
	}
}

func TestDecodeRejectsMalformed(t *testing.T) {
	good, err := putReceipt(t, testKey(5)).Encode()
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(good)
	enc := base64.RawURLEncoding.EncodeToString
	cases := map[string]struct{ in, want string }{
		"empty":          {"", "domain prefix"},
		"not base64":     {"!!!", "base64url"},
		"padded":         {good + "=", "base64url"},
		"std alphabet":   {strings.NewReplacer("-", "+", "_", "/").Replace(good) + "+/", "base64url"},
		"oversized":      {strings.Repeat("A", MaxEncodedLen+1), "at most"},
		"truncated":      {enc(raw[:len(raw)-1]), "cut short"},
		"trailing bytes": {enc(append(bytes.Clone(raw), 0)), "after the signature"},
		"other domain":   {enc(append([]byte("flashback/receipt/v9\x00"), raw[len(domain):]...)), "domain prefix"},
		"version 2":      {enc(append([]byte(domain+"\x02"), raw[len(domain)+1:]...)), "version"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Decode(c.in)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Decode: %v, want an error containing %q", err, c.want)
			}
		})
	}
}

// A receipt whose part runs are split (two runs of one size) is the same
// statement in another encoding: Decode refuses it.
func TestDecodeRejectsNonCanonicalRuns(t *testing.T) {
	r := &Receipt{Version: Version1, ChainID: "c", Provider: address.FromPubKey(testKey(6).Public().(ed25519.PublicKey)),
		Reservation: "r", Key: "k", Op: OpPut, Size: 10, ContentHash: make([]byte, HashSize), PartSizes: []int64{5, 5}, Time: 1,
		PubKey: testKey(6).Public().(ed25519.PublicKey), Signature: make([]byte, ed25519.SignatureSize)}
	b := r.SigningBytes()
	// Find the runs field ("\x00\x01" count 1, then "\x00\x02" + size 5)
	// and rewrite it as two runs of one part each.
	one := binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, 1), 2)
	one = binary.BigEndian.AppendUint64(one, 5)
	i := bytes.Index(b, one)
	if i < 0 {
		t.Fatal("runs field not found")
	}
	split := binary.BigEndian.AppendUint16(nil, 2)
	for range 2 {
		split = binary.BigEndian.AppendUint16(split, 1)
		split = binary.BigEndian.AppendUint64(split, 5)
	}
	nb := append(append(append([]byte{}, b[:i]...), split...), b[i+len(one):]...)
	nb = append(nb, r.Signature...)
	if _, err := Decode(base64.RawURLEncoding.EncodeToString(nb)); err == nil || !strings.Contains(err.Error(), "canonical") {
		t.Fatalf("split runs: %v", err)
	}
}

func TestContentHashOf(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 1000)
	single, err := ContentHashOf(bytes.NewReader(data), nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := sha256.Sum256(data); !bytes.Equal(single, want[:]) {
		t.Fatal("single-piece hash is not SHA-256 of the content")
	}
	sizes := []int64{4000, 4000, 2000}
	mp, err := ContentHashOf(bytes.NewReader(data), sizes)
	if err != nil {
		t.Fatal(err)
	}
	// The same rule computed by hand from the parts.
	var parts []PartDigest
	off := int64(0)
	for _, s := range sizes {
		parts = append(parts, PartDigest{Size: s, SHA256: sha256.Sum256(data[off : off+s])})
		off += s
	}
	if !bytes.Equal(mp, MultipartHash(parts)) {
		t.Fatal("ContentHashOf disagrees with MultipartHash of the parts")
	}
	if bytes.Equal(mp, single) {
		t.Fatal("multipart and single-piece hashes coincide")
	}
	// Other part boundaries give another hash.
	if other, _ := ContentHashOf(bytes.NewReader(data), []int64{5000, 5000}); bytes.Equal(other, mp) {
		t.Fatal("hash does not depend on the part sizes")
	}
	for name, sz := range map[string][]int64{"short": {4000, 4000, 1999}, "long": {4000, 4000, 2001}, "negative": {-1, 10001}} {
		if _, err := ContentHashOf(bytes.NewReader(data), sz); err == nil {
			t.Fatalf("%s part sizes: no error", name)
		}
	}
}
