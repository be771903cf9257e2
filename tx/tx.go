// Package tx defines the signed transaction envelope: its wire encoding, the
// exact bytes that are signed, and a strict decoder.
//
// Wire format: canonical JSON of Tx, whose Body field holds the JSON body as
// raw bytes (base64 on the wire). The signature covers SignPrefix + body
// bytes exactly as transmitted, so no re-encoding can change what was signed;
// the outer envelope must itself be canonical so that one signed body has one
// tx hash.
package tx

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// SignPrefix is prepended to the body bytes before signing, separating our
// signatures from any other use of the same key.
const SignPrefix = "flashback/tx/v1\n"

// Limits on a transaction. Larger txs are rejected before any other work.
const (
	MaxTxBytes    = 64 << 10
	MaxMsgs       = 32
	MaxMemoLen    = 256
	MaxChainIDLen = 64
)

// Tx is the signed envelope.
type Tx struct {
	Body      []byte `json:"body"`
	PubKey    []byte `json:"pub_key"`
	Signature []byte `json:"signature"`
}

// Body is what the signer commits to.
type Body struct {
	ChainID  string `json:"chain_id"`
	Sequence uint64 `json:"sequence,string"`
	Fee      string `json:"fee"` // decimal uflash
	Memo     string `json:"memo,omitempty"`
	Msgs     []Msg  `json:"msgs"`
}

// Msg is one message: a type name chosen from the contract's registry and its
// JSON value.
type Msg struct {
	Type  string          `json:"type"`
	Value json.RawMessage `json:"value"`
}

// Decoded is a tx that passed structural checks (not signature or state).
type Decoded struct {
	Tx   Tx
	Body Body
	Hash [32]byte
}

// ErrorKind classifies why decoding failed, so the contract can map it to a
// stable code.
type ErrorKind int

const (
	Malformed ErrorKind = iota + 1
	TooLarge
)

// DecodeError reports why bytes are not a valid tx.
type DecodeError struct {
	Kind ErrorKind
	Msg  string
}

func (e *DecodeError) Error() string { return e.Msg }

func malformed(format string, args ...any) error {
	return &DecodeError{Kind: Malformed, Msg: fmt.Sprintf(format, args...)}
}

// Hash is the tx hash used everywhere (CometBFT uses SHA-256 of the bytes).
func Hash(raw []byte) [32]byte { return sha256.Sum256(raw) }

// SignBytes returns the bytes an ed25519 signature covers.
func SignBytes(body []byte) []byte {
	out := make([]byte, 0, len(SignPrefix)+len(body))
	out = append(out, SignPrefix...)
	return append(out, body...)
}

// EncodeBody returns the canonical body bytes.
func EncodeBody(b Body) ([]byte, error) {
	return json.Marshal(b)
}

// Sign builds the wire bytes of a tx with body b signed by priv.
func Sign(b Body, priv ed25519.PrivateKey) ([]byte, error) {
	body, err := EncodeBody(b)
	if err != nil {
		return nil, fmt.Errorf("encode tx body: %w", err)
	}
	t := Tx{
		Body:      body,
		PubKey:    priv.Public().(ed25519.PublicKey),
		Signature: ed25519.Sign(priv, SignBytes(body)),
	}
	return json.Marshal(t)
}

// Decode parses wire bytes strictly. It does not verify the signature.
func Decode(raw []byte) (*Decoded, error) {
	if len(raw) > MaxTxBytes {
		return nil, &DecodeError{Kind: TooLarge, Msg: fmt.Sprintf("tx is %d bytes, limit is %d", len(raw), MaxTxBytes)}
	}
	if len(raw) == 0 {
		return nil, malformed("empty tx")
	}
	t, ok := canonicalEnvelope(raw)
	if !ok {
		// The general decoder says what is wrong.
		if err := strictUnmarshal(raw, &t); err != nil {
			return nil, malformed("tx envelope: %v", err)
		}
		canon, err := json.Marshal(t)
		if err != nil || !bytes.Equal(canon, raw) {
			return nil, malformed("tx envelope is not in canonical form (re-encode it with compact JSON, fields body, pub_key, signature)")
		}
	}
	if len(t.PubKey) != ed25519.PublicKeySize {
		return nil, malformed("pub_key is %d bytes, want %d (ed25519)", len(t.PubKey), ed25519.PublicKeySize)
	}
	if len(t.Signature) != ed25519.SignatureSize {
		return nil, malformed("signature is %d bytes, want %d (ed25519)", len(t.Signature), ed25519.SignatureSize)
	}
	var b Body
	if err := strictUnmarshal(t.Body, &b); err != nil {
		return nil, malformed("tx body: %v", err)
	}
	if canon, err := EncodeBody(b); err != nil || !bytes.Equal(canon, t.Body) {
		return nil, malformed("tx body is not in canonical form (compact JSON, fields in order chain_id, sequence, fee, memo, msgs, as tx.EncodeBody writes)")
	}
	if err := checkBody(&b); err != nil {
		return nil, err
	}
	return &Decoded{Tx: t, Body: b, Hash: Hash(raw)}, nil
}

func checkBody(b *Body) error {
	if b.ChainID == "" {
		return malformed("chain_id is empty")
	}
	if len(b.ChainID) > MaxChainIDLen {
		return malformed("chain_id longer than %d bytes", MaxChainIDLen)
	}
	if _, err := strconv.ParseUint(b.Fee, 10, 64); err != nil || (len(b.Fee) > 1 && b.Fee[0] == '0') {
		return malformed("fee %q is not a decimal amount of uflash", b.Fee)
	}
	if len(b.Memo) > MaxMemoLen {
		return malformed("memo is %d bytes, limit is %d", len(b.Memo), MaxMemoLen)
	}
	if !utf8.ValidString(b.Memo) {
		return malformed("memo is not valid UTF-8")
	}
	if len(b.Msgs) == 0 {
		return malformed("tx has no messages")
	}
	if len(b.Msgs) > MaxMsgs {
		return malformed("tx has %d messages, limit is %d", len(b.Msgs), MaxMsgs)
	}
	for i, m := range b.Msgs {
		if m.Type == "" || strings.TrimSpace(m.Type) != m.Type {
			return malformed("message %d has no type", i)
		}
		if len(m.Value) == 0 || m.Value[0] != '{' {
			return malformed("message %d (%s): value must be a JSON object", i, m.Type)
		}
	}
	return nil
}

// strictUnmarshal refuses unknown fields and trailing data.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if rest := bytes.TrimSpace(data[dec.InputOffset():]); len(rest) > 0 {
		return errors.New("trailing data after JSON value")
	}
	return nil
}

// StrictUnmarshal is the decoder the contract uses for message values.
func StrictUnmarshal(data []byte, v any) error { return strictUnmarshal(data, v) }

// VerifySignature checks the envelope's signature over its body, by the
// ZIP-215 rules (see VerifyBatch).
func (d *Decoded) VerifySignature() bool {
	return voi.VerifyWithOptions(voi.PublicKey(d.Tx.PubKey), SignBytes(d.Tx.Body), d.Tx.Signature, zip215)
}
