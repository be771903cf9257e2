package tx_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/flashback-network/flashback/tx"
)

// testKey returns a deterministic ed25519 key derived from name.
func testKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("tx-test-key/" + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

const sendValue = `{"to":"fb1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq","amount":"5"}`

func validBody() tx.Body {
	return tx.Body{
		ChainID:  "flashback-test-1",
		Sequence: 7,
		Fee:      "1000",
		Memo:     "hello",
		Msgs: []tx.Msg{
			{Type: "bank/send", Value: json.RawMessage(sendValue)},
			{Type: "bank/send", Value: json.RawMessage(`{}`)},
		},
	}
}

// envelope encodes an envelope canonically from its parts.
func envelope(t testing.TB, body, pub, sig []byte) []byte {
	t.Helper()
	raw, err := json.Marshal(tx.Tx{Body: body, PubKey: pub, Signature: sig})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// signRaw signs arbitrary body bytes and returns a canonical envelope, so
// that the only defect of the tx is whatever is wrong with body.
func signRaw(t testing.TB, body []byte, priv ed25519.PrivateKey) []byte {
	t.Helper()
	return envelope(t, body, priv.Public().(ed25519.PublicKey), ed25519.Sign(priv, tx.SignBytes(body)))
}

func mustSign(t testing.TB, b tx.Body, priv ed25519.PrivateKey) []byte {
	t.Helper()
	raw, err := tx.Sign(b, priv)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestSignDecodeRoundTrip(t *testing.T) {
	priv := testKey("alice")
	b := validBody()
	raw := mustSign(t, b, priv)

	d, err := tx.Decode(raw)
	if err != nil {
		t.Fatalf("Decode(Sign(b)): %v", err)
	}
	if !reflect.DeepEqual(d.Body, b) {
		t.Fatalf("body changed in round trip:\n got %+v\nwant %+v", d.Body, b)
	}
	if !bytes.Equal(d.Tx.PubKey, priv.Public().(ed25519.PublicKey)) {
		t.Fatal("pub_key differs from signer's")
	}
	wantBody, err := tx.EncodeBody(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(d.Tx.Body, wantBody) {
		t.Fatalf("body bytes %s, want %s", d.Tx.Body, wantBody)
	}
	if d.Hash != sha256.Sum256(raw) || d.Hash != tx.Hash(raw) {
		t.Fatal("hash is not SHA-256 of the wire bytes")
	}
	if !d.VerifySignature() {
		t.Fatal("signature of a freshly signed tx does not verify")
	}
	// The signature covers the domain prefix, not the bare body.
	if ed25519.Verify(d.Tx.PubKey, d.Tx.Body, d.Tx.Signature) {
		t.Fatal("signature verifies over the body without SignPrefix")
	}
	if !ed25519.Verify(d.Tx.PubKey, append([]byte(tx.SignPrefix), d.Tx.Body...), d.Tx.Signature) {
		t.Fatal("signature does not cover SignPrefix+body")
	}
	// Signing is deterministic, so one body has one tx hash.
	if again := mustSign(t, b, priv); !bytes.Equal(again, raw) {
		t.Fatal("signing the same body twice gave different bytes")
	}
	// The wire form is canonical JSON: re-encoding is the identity.
	if canon, _ := json.Marshal(d.Tx); !bytes.Equal(canon, raw) {
		t.Fatalf("re-encoded envelope differs:\n%s\n%s", canon, raw)
	}
}

func TestSignBytes(t *testing.T) {
	got := tx.SignBytes([]byte(`{"a":1}`))
	if string(got) != "flashback/tx/v1\n{\"a\":1}" {
		t.Fatalf("SignBytes = %q", got)
	}
	if string(tx.SignBytes(nil)) != tx.SignPrefix {
		t.Fatal("SignBytes(nil) is not the bare prefix")
	}
}

func TestVerifySignatureRejectsTampering(t *testing.T) {
	priv := testKey("alice")
	raw := mustSign(t, validBody(), priv)
	d, err := tx.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("body byte flipped", func(t *testing.T) {
		// Change the memo "hello" -> "jello": still a valid body, so the
		// tampered tx decodes and only the signature can catch it.
		i := bytes.Index(d.Tx.Body, []byte("hello"))
		if i < 0 {
			t.Fatal("memo not found in body")
		}
		body := bytes.Clone(d.Tx.Body)
		body[i] = 'j'
		tampered := envelope(t, body, d.Tx.PubKey, d.Tx.Signature)
		td, err := tx.Decode(tampered)
		if err != nil {
			t.Fatalf("tampered but well-formed tx should decode: %v", err)
		}
		if td.Body.Memo != "jello" {
			t.Fatalf("memo = %q", td.Body.Memo)
		}
		if td.VerifySignature() {
			t.Fatal("signature verifies over a modified body")
		}
		if td.Hash == d.Hash {
			t.Fatal("tampered tx has the original hash")
		}
	})
	t.Run("every body byte", func(t *testing.T) {
		// No single-bit change anywhere in the body may keep the signature valid.
		for i := range d.Tx.Body {
			body := bytes.Clone(d.Tx.Body)
			body[i] ^= 0x01
			td := &tx.Decoded{Tx: tx.Tx{Body: body, PubKey: d.Tx.PubKey, Signature: d.Tx.Signature}}
			if td.VerifySignature() {
				t.Fatalf("signature still valid after flipping bit 0 of body byte %d", i)
			}
		}
	})
	t.Run("signature byte flipped", func(t *testing.T) {
		sig := bytes.Clone(d.Tx.Signature)
		sig[10] ^= 0x80
		td, err := tx.Decode(envelope(t, d.Tx.Body, d.Tx.PubKey, sig))
		if err != nil {
			t.Fatal(err)
		}
		if td.VerifySignature() {
			t.Fatal("modified signature verifies")
		}
	})
	t.Run("other key", func(t *testing.T) {
		other := testKey("mallory").Public().(ed25519.PublicKey)
		td, err := tx.Decode(envelope(t, d.Tx.Body, other, d.Tx.Signature))
		if err != nil {
			t.Fatal(err)
		}
		if td.VerifySignature() {
			t.Fatal("alice's signature verifies under mallory's key")
		}
	})
}

// bodyJSON builds a body's JSON by hand so tests can produce shapes that
// tx.EncodeBody never would.
func bodyJSON(chainID, seq, fee, memo, msgs string) []byte {
	s := `{"chain_id":` + chainID + `,"sequence":` + seq + `,"fee":` + fee
	if memo != "" {
		s += `,"memo":` + memo
	}
	if msgs != "" {
		s += `,"msgs":` + msgs
	}
	return []byte(s + "}")
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

const oneMsg = `[{"type":"bank/send","value":` + sendValue + `}]`

func nMsgs(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = `{"type":"bank/send","value":{}}`
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func TestDecodeAcceptsHandBuiltBody(t *testing.T) {
	// The hand-built body used by the rejection cases is valid as is, so
	// each rejection below is caused by the one thing it changes.
	priv := testKey("alice")
	for _, body := range [][]byte{
		bodyJSON(`"c"`, `"0"`, `"0"`, "", oneMsg),
		bodyJSON(`"c"`, `"18446744073709551615"`, `"18446744073709551615"`, quote("m"), oneMsg),
		bodyJSON(quote(strings.Repeat("c", tx.MaxChainIDLen)), `"1"`, `"1"`, "", oneMsg),
		bodyJSON(`"c"`, `"1"`, `"1"`, quote(strings.Repeat("m", tx.MaxMemoLen)), oneMsg),
		bodyJSON(`"c"`, `"1"`, `"1"`, quote(strings.Repeat("é", tx.MaxMemoLen/2)), oneMsg),
		bodyJSON(`"c"`, `"1"`, `"1"`, "", nMsgs(tx.MaxMsgs)),
		bodyJSON(`"c"`, `"1"`, `"1"`, "", `[{"type":"x","value":{"a":[1,2,{}]}}]`),
	} {
		raw := signRaw(t, body, priv)
		d, err := tx.Decode(raw)
		if err != nil {
			t.Errorf("Decode(%s): %v", body, err)
			continue
		}
		if !d.VerifySignature() {
			t.Errorf("signature of %s does not verify", body)
		}
	}
}

// decodeReject is one input Decode must refuse, with the kind of error.
type decodeReject struct {
	name string
	raw  []byte
	kind tx.ErrorKind
}

// decodeRejectFixture holds a valid signed tx and its parts, from which the
// reject cases build broken variants.
type decodeRejectFixture struct {
	t        *testing.T
	priv     ed25519.PrivateKey
	pub      ed25519.PublicKey
	good     []byte
	goodBody []byte
	goodSig  []byte
}

func newDecodeRejectFixture(t *testing.T) *decodeRejectFixture {
	priv := testKey("alice")
	good := mustSign(t, validBody(), priv)
	gd, err := tx.Decode(good)
	if err != nil {
		t.Fatal(err)
	}
	f := &decodeRejectFixture{t: t, priv: priv, pub: priv.Public().(ed25519.PublicKey), good: good, goodBody: gd.Tx.Body, goodSig: gd.Tx.Signature}
	if !strings.HasSuffix(b64(f.goodBody), `="`) {
		t.Fatal("test setup: validBody's base64 must be padded for the unpadded-base64 case")
	}
	return f
}

// b64 is b as a JSON string (standard padded base64).
func b64(b []byte) string { s, _ := json.Marshal(b); return string(s) }

// body signs a tx body built from the given raw JSON field values.
func (f *decodeRejectFixture) body(chainID, seq, fee, memo, msgs string) []byte {
	return signRaw(f.t, bodyJSON(chainID, seq, fee, memo, msgs), f.priv)
}

// envelopeRejects break the outer envelope: size, JSON syntax, canonical
// form, base64 and key/signature lengths.
func (f *decodeRejectFixture) envelopeRejects() []decodeReject {
	t, pub, good, goodBody, goodSig := f.t, f.pub, f.good, f.goodBody, f.goodSig
	return []decodeReject{
		{"nil", nil, tx.Malformed},
		{"empty", []byte{}, tx.Malformed},
		{"oversize garbage", bytes.Repeat([]byte("x"), tx.MaxTxBytes+1), tx.TooLarge},
		{"oversize valid json", append(bytes.Clone(good), bytes.Repeat([]byte(" "), tx.MaxTxBytes)...), tx.TooLarge},
		{"max size garbage", bytes.Repeat([]byte("x"), tx.MaxTxBytes), tx.Malformed},
		{"not json", []byte("hello world"), tx.Malformed},
		{"json array", []byte(`[1,2,3]`), tx.Malformed},
		{"json null", []byte(`null`), tx.Malformed},
		{"empty object", []byte(`{}`), tx.Malformed},
		{"truncated", good[:len(good)-1], tx.Malformed},
		{"unknown envelope field", []byte(`{"body":` + b64(goodBody) + `,"pub_key":` + b64(pub) + `,"signature":` + b64(goodSig) + `,"extra":1}`), tx.Malformed},
		{"whitespace after colon", []byte(`{"body": ` + b64(goodBody) + `,"pub_key":` + b64(pub) + `,"signature":` + b64(goodSig) + `}`), tx.Malformed},
		{"leading whitespace", append([]byte(" "), good...), tx.Malformed},
		{"trailing newline", append(bytes.Clone(good), '\n'), tx.Malformed},
		{"trailing garbage", append(bytes.Clone(good), 'x'), tx.Malformed},
		{"two envelopes", append(bytes.Clone(good), good...), tx.Malformed},
		{"reordered fields", []byte(`{"pub_key":` + b64(pub) + `,"body":` + b64(goodBody) + `,"signature":` + b64(goodSig) + `}`), tx.Malformed},
		{"upper-case field name", []byte(`{"Body":` + b64(goodBody) + `,"pub_key":` + b64(pub) + `,"signature":` + b64(goodSig) + `}`), tx.Malformed},
		{"duplicate field", []byte(`{"body":` + b64(goodBody) + `,"body":` + b64(goodBody) + `,"pub_key":` + b64(pub) + `,"signature":` + b64(goodSig) + `}`), tx.Malformed},
		{"escaped base64 char", bytes.Replace(good, []byte(`{"body":"e`), []byte(`{"body":"\u0065`), 1), tx.Malformed},
		{"unpadded base64", []byte(`{"body":` + strings.TrimRight(b64(goodBody), `="`) + `","pub_key":` + b64(pub) + `,"signature":` + b64(goodSig) + `}`), tx.Malformed},
		{"body is not base64", []byte(`{"body":"!!!!","pub_key":` + b64(pub) + `,"signature":` + b64(goodSig) + `}`), tx.Malformed},
		{"null body", envelope(t, nil, pub, goodSig), tx.Malformed},
		{"short pubkey", envelope(t, goodBody, pub[:31], goodSig), tx.Malformed},
		{"long pubkey", envelope(t, goodBody, append(bytes.Clone(pub), 0), goodSig), tx.Malformed},
		{"no pubkey", envelope(t, goodBody, nil, goodSig), tx.Malformed},
		{"short signature", envelope(t, goodBody, pub, goodSig[:63]), tx.Malformed},
		{"long signature", envelope(t, goodBody, pub, append(bytes.Clone(goodSig), 0)), tx.Malformed},
		{"no signature", envelope(t, goodBody, pub, nil), tx.Malformed},
	}
}

// bodyRejects break the signed body: its JSON and each header field.
func (f *decodeRejectFixture) bodyRejects() []decodeReject {
	t, priv, body := f.t, f.priv, f.body
	return []decodeReject{
		{"body not json", signRaw(t, []byte("not json"), priv), tx.Malformed},
		{"body is array", signRaw(t, []byte(`[]`), priv), tx.Malformed},
		{"body is null", signRaw(t, []byte(`null`), priv), tx.Malformed},
		{"body unknown field", signRaw(t, bytes.Replace(bodyJSON(`"c"`, `"1"`, `"1"`, "", oneMsg), []byte(`{`), []byte(`{"gas":"5",`), 1), priv), tx.Malformed},
		{"body trailing garbage", signRaw(t, append(bodyJSON(`"c"`, `"1"`, `"1"`, "", oneMsg), 'x'), priv), tx.Malformed},
		{"body trailing object", signRaw(t, append(bodyJSON(`"c"`, `"1"`, `"1"`, "", oneMsg), []byte(` {}`)...), priv), tx.Malformed},
		{"body two bodies", signRaw(t, append(bodyJSON(`"c"`, `"1"`, `"1"`, "", oneMsg), bodyJSON(`"c"`, `"1"`, `"1"`, "", oneMsg)...), priv), tx.Malformed},
		{"empty chain_id", body(`""`, `"1"`, `"1"`, "", oneMsg), tx.Malformed},
		{"missing chain_id", signRaw(t, []byte(`{"sequence":"1","fee":"1","msgs":`+oneMsg+`}`), priv), tx.Malformed},
		{"chain_id too long", body(quote(strings.Repeat("c", tx.MaxChainIDLen+1)), `"1"`, `"1"`, "", oneMsg), tx.Malformed},
		{"chain_id number", body(`5`, `"1"`, `"1"`, "", oneMsg), tx.Malformed},
		{"sequence bare number", body(`"c"`, `1`, `"1"`, "", oneMsg), tx.Malformed},
		{"sequence negative", body(`"c"`, `"-1"`, `"1"`, "", oneMsg), tx.Malformed},
		{"sequence overflow", body(`"c"`, `"18446744073709551616"`, `"1"`, "", oneMsg), tx.Malformed},
		{"sequence not a number", body(`"c"`, `"abc"`, `"1"`, "", oneMsg), tx.Malformed},
		{"fee leading zero", body(`"c"`, `"1"`, `"01"`, "", oneMsg), tx.Malformed},
		{"fee negative", body(`"c"`, `"1"`, `"-1"`, "", oneMsg), tx.Malformed},
		{"fee plus sign", body(`"c"`, `"1"`, `"+1"`, "", oneMsg), tx.Malformed},
		{"fee letters", body(`"c"`, `"1"`, `"abc"`, "", oneMsg), tx.Malformed},
		{"fee empty", body(`"c"`, `"1"`, `""`, "", oneMsg), tx.Malformed},
		{"fee missing", signRaw(t, []byte(`{"chain_id":"c","sequence":"1","msgs":`+oneMsg+`}`), priv), tx.Malformed},
		{"fee space", body(`"c"`, `"1"`, `" 1"`, "", oneMsg), tx.Malformed},
		{"fee decimal", body(`"c"`, `"1"`, `"1.5"`, "", oneMsg), tx.Malformed},
		{"fee underscore", body(`"c"`, `"1"`, `"1_000"`, "", oneMsg), tx.Malformed},
		{"fee overflow", body(`"c"`, `"1"`, `"18446744073709551616"`, "", oneMsg), tx.Malformed},
		{"fee bare number", body(`"c"`, `"1"`, `1000`, "", oneMsg), tx.Malformed},
		{"fee with denom", body(`"c"`, `"1"`, `"1000uflash"`, "", oneMsg), tx.Malformed},
		{"memo too long", body(`"c"`, `"1"`, `"1"`, quote(strings.Repeat("m", tx.MaxMemoLen+1)), oneMsg), tx.Malformed},
		{"memo too long multibyte", body(`"c"`, `"1"`, `"1"`, quote(strings.Repeat("é", tx.MaxMemoLen/2+1)), oneMsg), tx.Malformed},
	}
}

// msgsRejects break the message list and the messages in it.
func (f *decodeRejectFixture) msgsRejects() []decodeReject {
	body := f.body
	return []decodeReject{
		{"zero msgs", body(`"c"`, `"1"`, `"1"`, "", `[]`), tx.Malformed},
		{"null msgs", body(`"c"`, `"1"`, `"1"`, "", `null`), tx.Malformed},
		{"missing msgs", body(`"c"`, `"1"`, `"1"`, "", ""), tx.Malformed},
		{"too many msgs", body(`"c"`, `"1"`, `"1"`, "", nMsgs(tx.MaxMsgs+1)), tx.Malformed},
		{"msgs not array", body(`"c"`, `"1"`, `"1"`, "", `{}`), tx.Malformed},
		{"msg without type", body(`"c"`, `"1"`, `"1"`, "", `[{"value":{}}]`), tx.Malformed},
		{"msg empty type", body(`"c"`, `"1"`, `"1"`, "", `[{"type":"","value":{}}]`), tx.Malformed},
		{"msg blank type", body(`"c"`, `"1"`, `"1"`, "", `[{"type":"  ","value":{}}]`), tx.Malformed},
		{"msg type padded", body(`"c"`, `"1"`, `"1"`, "", `[{"type":" bank/send","value":{}}]`), tx.Malformed},
		{"second msg without type", body(`"c"`, `"1"`, `"1"`, "", `[{"type":"x","value":{}},{"value":{}}]`), tx.Malformed},
		{"msg without value", body(`"c"`, `"1"`, `"1"`, "", `[{"type":"bank/send"}]`), tx.Malformed},
		{"msg value null", body(`"c"`, `"1"`, `"1"`, "", `[{"type":"bank/send","value":null}]`), tx.Malformed},
		{"msg value array", body(`"c"`, `"1"`, `"1"`, "", `[{"type":"bank/send","value":[]}]`), tx.Malformed},
		{"msg value string", body(`"c"`, `"1"`, `"1"`, "", `[{"type":"bank/send","value":"{}"}]`), tx.Malformed},
		{"msg value number", body(`"c"`, `"1"`, `"1"`, "", `[{"type":"bank/send","value":1}]`), tx.Malformed},
		{"msg unknown field", body(`"c"`, `"1"`, `"1"`, "", `[{"type":"bank/send","value":{},"extra":1}]`), tx.Malformed},
		{"msg is string", body(`"c"`, `"1"`, `"1"`, "", `["bank/send"]`), tx.Malformed},
	}
}

func TestDecodeRejects(t *testing.T) {
	f := newDecodeRejectFixture(t)
	groups := []struct {
		name  string
		cases []decodeReject
	}{
		{"envelope", f.envelopeRejects()},
		{"body", f.bodyRejects()},
		{"msgs", f.msgsRejects()},
	}
	for _, g := range groups {
		for _, c := range g.cases {
			t.Run(c.name, func(t *testing.T) { checkDecodeRejects(t, c) })
		}
	}
}

// checkDecodeRejects asserts Decode refuses c.raw with a *tx.DecodeError of
// c.kind, a message, and no tx.
func checkDecodeRejects(t *testing.T, c decodeReject) {
	d, err := tx.Decode(c.raw)
	if err == nil {
		t.Fatalf("Decode accepted %q as %+v", truncate(c.raw), d.Body)
	}
	if d != nil {
		t.Fatal("Decode returned a tx together with an error")
	}
	var de *tx.DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("error %T %v is not a *tx.DecodeError", err, err)
	}
	if de.Kind != c.kind {
		t.Fatalf("kind = %d, want %d (%v)", de.Kind, c.kind, err)
	}
	if de.Error() == "" {
		t.Fatal("empty error message")
	}
}

func truncate(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + fmt.Sprintf("...(%d bytes)", len(b))
	}
	return string(b)
}

func TestDecodeSizeLimitBoundary(t *testing.T) {
	// The largest valid tx that fits decodes; the next size up is TooLarge
	// regardless of content. (Envelope lengths move in steps of 4 because
	// of base64, so "exactly MaxTxBytes" may be unreachable; the largest
	// fitting tx is within 3 bytes of the limit.)
	priv := testKey("alice")
	build := func(pad int) []byte {
		v := `{"pad":"` + strings.Repeat("p", pad) + `"}`
		return mustSign(t, tx.Body{ChainID: "c", Sequence: 1, Fee: "1", Msgs: []tx.Msg{{Type: "x", Value: json.RawMessage(v)}}}, priv)
	}
	pad := tx.MaxTxBytes * 3 / 4
	for len(build(pad)) > tx.MaxTxBytes {
		pad--
	}
	fit := build(pad)
	if len(fit) < tx.MaxTxBytes-3 {
		t.Fatalf("largest fitting tx is %d bytes, expected within 3 of %d", len(fit), tx.MaxTxBytes)
	}
	if _, err := tx.Decode(fit); err != nil {
		t.Fatalf("tx of %d bytes rejected: %v", len(fit), err)
	}
	for len(build(pad)) <= tx.MaxTxBytes {
		pad++
	}
	over := build(pad)
	_, err := tx.Decode(over)
	var de *tx.DecodeError
	if !errors.As(err, &de) || de.Kind != tx.TooLarge {
		t.Fatalf("tx of %d bytes: err = %v, want TooLarge", len(over), err)
	}
}

// A body that decodes but is not in canonical form is rejected, so that what
// a wallet displays from the body is exactly what the chain executes.
func TestDecodeRejectsNonCanonicalBody(t *testing.T) {
	priv := testKey("alice")
	for _, body := range []string{
		`{"chain_id":"c","sequence":"1","fee":"1","msgs":[{"type":"x","value": {}}]}`,
		`{"chain_id":"c","sequence":"01","fee":"1","msgs":[{"type":"x","value":{}}]}`,
		`{"chain_id":"c","sequence":"1","fee":"1","FEE":"999","msgs":[{"type":"x","value":{}}]}`,
		`{"sequence":"1","chain_id":"c","fee":"1","msgs":[{"type":"x","value":{}}]}`,
		`{"chain_id":"c","sequence":"1","fee":"1","fee":"2","msgs":[{"type":"x","value":{}}]}`,
	} {
		_, err := tx.Decode(signRaw(t, []byte(body), priv))
		var de *tx.DecodeError
		if !errors.As(err, &de) || de.Kind != tx.Malformed {
			t.Errorf("Decode(%s) = %v, want Malformed", body, err)
		}
	}
}
