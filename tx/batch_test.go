package tx_test

import (
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"testing"

	"github.com/flashback-network/flashback/tx"
)

// batchTxs signs n txs; bad lists the indexes whose signature is broken
// (a flipped bit) or whose body is not what was signed.
func batchTxs(t *testing.T, n int, bad map[int]bool) []*tx.Decoded {
	t.Helper()
	var out []*tx.Decoded
	for i := range n {
		var seed [32]byte
		binary.BigEndian.PutUint64(seed[:], uint64(i)+1)
		key := ed25519.NewKeyFromSeed(seed[:])
		raw, err := tx.Sign(tx.Body{ChainID: "batch", Sequence: uint64(i), Fee: "1", Msgs: []tx.Msg{{Type: "t", Value: json.RawMessage(`{}`)}}}, key)
		if err != nil {
			t.Fatal(err)
		}
		d, err := tx.Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		if !ed25519.Verify(d.Tx.PubKey, tx.SignBytes(d.Tx.Body), d.Tx.Signature) {
			t.Fatalf("tx %d: crypto/ed25519 rejects a fresh signature", i)
		}
		if bad[i] {
			if i%2 == 0 {
				d.Tx.Signature[i%64] ^= 0x10
			} else {
				d.Tx.Body = append([]byte(nil), d.Tx.Body...)
				d.Tx.Body[5] ^= 1
			}
		}
		out = append(out, d)
	}
	return out
}

// TestVerifyBatchMatchesSingle: a batch's verdicts equal verifying each
// signature alone, with no, one or many bad signatures, and accept every
// signature crypto/ed25519 accepts.
func TestVerifyBatchMatchesSingle(t *testing.T) {
	cases := []map[int]bool{{}, {17: true}, {0: true, 1: true, 30: true, 63: true}}
	keys := tx.NewKeyCache(10) // smaller than a batch: it also starts over
	for n, bad := range cases {
		ds := batchTxs(t, 64, bad)
		// Without a key cache, with a cold one and with a warm one.
		got := tx.VerifyBatch(ds, []*tx.KeyCache{nil, keys, keys}[n%3])
		if len(got) != len(ds) {
			t.Fatalf("%d verdicts for %d txs", len(got), len(ds))
		}
		for i, d := range ds {
			std := ed25519.Verify(d.Tx.PubKey, tx.SignBytes(d.Tx.Body), d.Tx.Signature)
			if got[i] != d.VerifySignature() || got[i] != !bad[i] || got[i] != std {
				t.Errorf("bad %v, tx %d: batch %v, single %v, crypto/ed25519 %v", bad, i, got[i], d.VerifySignature(), std)
			}
		}
	}
	if got := tx.VerifyBatch(nil, keys); len(got) != 0 {
		t.Fatalf("empty batch: %v", got)
	}
	one := batchTxs(t, 1, nil)
	if got := tx.VerifyBatch(one, keys); len(got) != 1 || !got[0] {
		t.Fatalf("batch of one valid tx: %v", got)
	}
}
