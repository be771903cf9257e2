package tx_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/flashback-network/flashback/tx"
)

// checkDecodeProperties asserts what must hold for any input to Decode.
func checkDecodeProperties(t *testing.T, raw []byte) *tx.Decoded {
	t.Helper()
	d, err := tx.Decode(raw)
	if err != nil {
		if d != nil {
			t.Fatal("Decode returned a tx and an error")
		}
		var de *tx.DecodeError
		if !errors.As(err, &de) {
			t.Fatalf("error %T %v is not a *tx.DecodeError", err, err)
		}
		if (de.Kind == tx.TooLarge) != (len(raw) > tx.MaxTxBytes) {
			t.Fatalf("kind %d for %d bytes", de.Kind, len(raw))
		}
		if de.Kind != tx.TooLarge && de.Kind != tx.Malformed {
			t.Fatalf("unknown kind %d", de.Kind)
		}
		return nil
	}
	// Canonical envelope: one signed body has exactly one wire form.
	canon, err := json.Marshal(d.Tx)
	if err != nil {
		t.Fatalf("re-encode accepted tx: %v", err)
	}
	if !bytes.Equal(canon, raw) {
		t.Fatalf("accepted non-canonical envelope:\n in: %q\nout: %q", raw, canon)
	}
	if d.Hash != sha256.Sum256(raw) {
		t.Fatal("hash is not SHA-256 of the wire bytes")
	}
	if len(d.Tx.PubKey) != ed25519.PublicKeySize || len(d.Tx.Signature) != ed25519.SignatureSize {
		t.Fatalf("accepted key/signature of %d/%d bytes", len(d.Tx.PubKey), len(d.Tx.Signature))
	}
	b := d.Body
	if b.ChainID == "" || len(b.ChainID) > tx.MaxChainIDLen {
		t.Fatalf("accepted chain_id %q", b.ChainID)
	}
	if len(b.Memo) > tx.MaxMemoLen || !utf8.ValidString(b.Memo) {
		t.Fatalf("accepted memo %q", b.Memo)
	}
	if b.Fee == "" || (len(b.Fee) > 1 && b.Fee[0] == '0') || strings.Trim(b.Fee, "0123456789") != "" || len(b.Fee) > 20 {
		t.Fatalf("accepted fee %q", b.Fee)
	}
	if len(b.Msgs) == 0 || len(b.Msgs) > tx.MaxMsgs {
		t.Fatalf("accepted %d msgs", len(b.Msgs))
	}
	for i, m := range b.Msgs {
		if m.Type == "" || strings.TrimSpace(m.Type) != m.Type {
			t.Fatalf("msg %d: accepted type %q", i, m.Type)
		}
		if len(m.Value) == 0 || m.Value[0] != '{' || !json.Valid(m.Value) {
			t.Fatalf("msg %d: accepted value %q", i, m.Value)
		}
	}
	// The decoded body survives a canonical re-encoding and decodes to the
	// same thing again (the body need not be canonical on the wire: the
	// signature covers its exact bytes).
	enc, err := tx.EncodeBody(b)
	if err != nil {
		t.Fatalf("re-encode body: %v", err)
	}
	var again tx.Body
	if err := tx.StrictUnmarshal(enc, &again); err != nil {
		t.Fatalf("re-encoded body %s does not decode: %v", enc, err)
	}
	enc2, _ := tx.EncodeBody(again)
	if !bytes.Equal(enc, enc2) {
		t.Fatalf("body encoding not stable:\n%s\n%s", enc, enc2)
	}
	// Decode is deterministic.
	d2, err := tx.Decode(raw)
	if err != nil || d2.Hash != d.Hash || !bytes.Equal(d2.Tx.Body, d.Tx.Body) {
		t.Fatalf("second Decode differs: %v", err)
	}
	return d
}

func fuzzSeeds(f *testing.F) [][]byte {
	priv := testKey("fuzz")
	pub := priv.Public().(ed25519.PublicKey)
	b := validBody()
	var seeds [][]byte
	add := func(raw []byte) { seeds = append(seeds, raw) }
	add(mustSign(f, b, priv))
	b1 := b
	b1.Memo = ""
	b1.Msgs = b.Msgs[:1]
	add(mustSign(f, b1, priv))
	b2 := b
	b2.Memo = "<&>\u2028 é"
	b2.Sequence = 1<<64 - 1
	b2.Fee = "18446744073709551615"
	add(mustSign(f, b2, priv))
	add(signRaw(f, bodyJSON(`"c"`, `"0"`, `"0"`, "", nMsgs(tx.MaxMsgs)), priv))
	add(signRaw(f, bodyJSON(`"c"`, `"0"`, `"01"`, "", oneMsg), priv))
	add(signRaw(f, bodyJSON(`"c"`, `"0"`, `"1"`, "", `[]`), priv))
	add(signRaw(f, bodyJSON(`""`, `"0"`, `"1"`, "", oneMsg), priv))
	add(signRaw(f, append(bodyJSON(`"c"`, `"0"`, `"1"`, "", oneMsg), 'x'), priv))
	add(envelope(f, []byte(`{}`), pub[:31], make([]byte, 64)))
	add([]byte(`{"body":"","pub_key":"","signature":""}`))
	add([]byte(`{}`))
	add([]byte(`null`))
	add([]byte(""))
	return seeds
}

// FuzzDecode feeds arbitrary bytes to Decode. Decode must never panic; an
// accepted tx must be canonical (re-encoding gives the input back) and obey
// every documented limit.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkDecodeProperties(t, raw)
	})
}

// FuzzDecodeBody fuzzes the body: random mutations of an envelope rarely
// survive base64, so here the fuzzer controls the body bytes and the test
// wraps them in a correctly signed canonical envelope.
func FuzzDecodeBody(f *testing.F) {
	priv := testKey("fuzz")
	for _, body := range [][]byte{
		bodyJSON(`"c"`, `"0"`, `"0"`, "", oneMsg),
		bodyJSON(`"chain"`, `"12"`, `"1000"`, quote("memo"), `[{"type":"a","value":{}},{"type":"b","value":{"x":[1]}}]`),
		bodyJSON(`"c"`, `"0"`, `"01"`, "", oneMsg),
		bodyJSON(`"c"`, `"0"`, `"1"`, "", `[{"type":"a","value":[]}]`),
		[]byte(`{"chain_id":"c","sequence":"1","fee":"1","msgs":[{"type":"t","value":{}}],"x":1}`),
		[]byte(`null`),
	} {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		raw := signRaw(t, body, priv)
		d := checkDecodeProperties(t, raw)
		if d == nil {
			return
		}
		if !bytes.Equal(d.Tx.Body, body) {
			t.Fatal("decoded body bytes differ from the signed ones")
		}
		if !d.VerifySignature() {
			t.Fatal("signature over an accepted body does not verify")
		}
	})
}

// TestFuzzDecodeCorpus pins the committed seed corpus: files named valid_*
// must decode (and verify), files named invalid_* must be rejected, so the
// corpus keeps covering both shapes.
func TestFuzzDecodeCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var valid, invalid int
	for _, e := range entries {
		name := e.Name()
		content, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.SplitN(strings.TrimSuffix(string(content), "\n"), "\n", 2)
		if len(lines) != 2 || lines[0] != "go test fuzz v1" || !strings.HasPrefix(lines[1], "[]byte(") || !strings.HasSuffix(lines[1], ")") {
			t.Fatalf("%s: not a go test fuzz v1 file with one []byte", name)
		}
		s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		d, err := tx.Decode([]byte(s))
		switch {
		case strings.HasPrefix(name, "valid_"):
			valid++
			if err != nil {
				t.Errorf("%s: rejected: %v", name, err)
			} else if !d.VerifySignature() {
				t.Errorf("%s: signature does not verify", name)
			}
		case strings.HasPrefix(name, "invalid_"):
			invalid++
			if err == nil {
				t.Errorf("%s: accepted", name)
			}
		}
	}
	if valid < 3 || invalid < 5 {
		t.Fatalf("corpus has %d valid and %d invalid seeds, want at least 3 and 5", valid, invalid)
	}
}
