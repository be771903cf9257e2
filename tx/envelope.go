package tx

import (
	"bytes"
	"encoding/base64"
)

// canonicalEnvelope parses raw when it is exactly the canonical envelope
// json.Marshal writes, {"body":"…","pub_key":"…","signature":"…"} with
// padded standard base64, which is the only form Decode accepts. It skips
// the general JSON decoder and the re-encoding that checks canonical form
// (most of an envelope's decoding cost). On false, raw may still be
// canonical (the general decoder decides and says why not).
func canonicalEnvelope(raw []byte) (Tx, bool) {
	rest, ok := bytes.CutPrefix(raw, []byte(`{"body":"`))
	var t Tx
	if ok {
		t.Body, rest, ok = cutBase64(rest, `","pub_key":"`)
	}
	if ok {
		t.PubKey, rest, ok = cutBase64(rest, `","signature":"`)
	}
	if ok {
		t.Signature, rest, ok = cutBase64(rest, `"}`)
	}
	return t, ok && len(rest) == 0
}

// cutBase64 decodes the base64 text up to the next quote, which must start
// sep, and returns the bytes after sep. The text must be what
// base64.StdEncoding writes for the bytes, so that json.Marshal of the
// result gives raw back.
func cutBase64(s []byte, sep string) (dec, rest []byte, ok bool) {
	i := bytes.IndexByte(s, '"')
	if i < 0 || !bytes.HasPrefix(s[i:], []byte(sep)) {
		return nil, nil, false
	}
	enc := s[:i]
	dec = make([]byte, base64.StdEncoding.DecodedLen(len(enc)))
	n, err := base64.StdEncoding.Strict().Decode(dec, enc)
	if err != nil {
		return nil, nil, false
	}
	// Strict refuses non-zero padding bits but skips CR and LF; with those
	// the text would be longer than the encoding of what it decoded to.
	if base64.StdEncoding.EncodedLen(n) != len(enc) {
		return nil, nil, false
	}
	return dec[:n], s[i+len(sep):], true
}
