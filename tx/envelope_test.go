package tx_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/flashback-network/flashback/tx"
)

// TestDecodeEnvelopeForms: the canonical envelope decodes to what was
// signed, and every near-canonical variant (whitespace, escapes, line
// breaks or non-zero padding bits in base64, reordered or extra fields) is
// refused as before.
func TestDecodeEnvelopeForms(t *testing.T) {
	raw := mustSign(t, validBody(), testKey("alice"))
	d, err := tx.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	var want tx.Tx
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(d.Tx.Body, want.Body) || !bytes.Equal(d.Tx.PubKey, want.PubKey) || !bytes.Equal(d.Tx.Signature, want.Signature) || !d.VerifySignature() {
		t.Fatal("canonical envelope decoded to something else")
	}
	sigText := raw[bytes.Index(raw, []byte(`"signature":"`))+len(`"signature":"`) : len(raw)-2]
	lastChar := sigText[len(sigText)-3] // 64 bytes: two padding characters follow
	pk := raw[bytes.Index(raw, []byte(`"pub_key":"`))+len(`"pub_key":"`)]
	variants := map[string][]byte{
		"space after colon":  bytes.Replace(raw, []byte(`"body":"`), []byte(`"body": "`), 1),
		"leading space":      append([]byte(" "), raw...),
		"trailing newline":   append(append([]byte(nil), raw...), '\n'),
		"escaped character":  bytes.Replace(raw, []byte(`"pub_key":"`+string(pk)), []byte(fmt.Sprintf(`"pub_key":"\u%04x`, pk)), 1),
		"line break in body": bytes.Replace(raw, []byte(`"body":"`), []byte("\"body\":\"\r\n"), 1),
		"escaped line break": bytes.Replace(raw, []byte(`"body":"`), []byte(`"body":"\r\n`), 1),
		"padding bits set":   bytes.Replace(raw, append(append([]byte(nil), lastChar), '=', '=', '"', '}'), append(append([]byte(nil), lastChar+1), '=', '=', '"', '}'), 1),
		"renamed field":      bytes.Replace(bytes.Replace(raw, []byte(`{"body":`), []byte(`{"x":`), 1), []byte(`,"signature":`), []byte(`,"signature":`), 1),
		"extra field":        bytes.Replace(raw, []byte(`"}`), []byte(`","memo":"x"}`), 1),
		"unpadded signature": bytes.Replace(raw, []byte(`=="}`), []byte(`"}`), 1),
	}
	for name, v := range variants {
		if bytes.Equal(v, raw) {
			t.Fatalf("%s: variant equals the canonical form", name)
		}
		if _, err := tx.Decode(v); err == nil {
			t.Errorf("%s: accepted %q", name, v)
		}
	}
}
