package contract_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/params"
	"github.com/flashback-network/flashback/contract/store"
	"github.com/flashback-network/flashback/tx"
)

const testChainID = "flashback-test-1"

var testBlock = core.Block{ChainID: testChainID, Height: 5, Time: time.Unix(1_700_000_000, 0).UTC()}

// testAcct is a deterministic key and its address.
type testAcct struct {
	priv ed25519.PrivateKey
	pub  ed25519.PublicKey
	raw  []byte
	addr string
}

func newAcct(name string) testAcct {
	seed := sha256.Sum256([]byte("contract-test-key/" + name))
	priv := ed25519.NewKeyFromSeed(seed[:])
	pub := priv.Public().(ed25519.PublicKey)
	return testAcct{priv: priv, pub: pub, raw: address.Raw(pub), addr: address.FromPubKey(pub)}
}

var (
	alice = newAcct("alice")
	bob   = newAcct("bob")
	carol = newAcct("carol") // never funded
)

const (
	aliceFunds = core.Amount(1_000_000)
	bobFunds   = core.Amount(500)
	testFee    = core.Amount(1000) // == DefaultParams().TxFee
)

// newState returns a MemKV with alice and bob funded and a rewards pool.
func newState(t testing.TB) *store.MemKV {
	t.Helper()
	kv := store.NewMemKV()
	g := contract.Genesis{
		Params: params.Params{TxFee: testFee},
		Accounts: []contract.GenesisAccount{
			{Address: alice.addr, Balance: aliceFunds},
			{Address: bob.addr, Balance: bobFunds},
		},
		Pools: map[string]core.Amount{bank.PoolRewards: 777},
	}
	if err := contract.InitGenesis(kv, g); err != nil {
		t.Fatal(err)
	}
	if err := bank.CheckSupply(kv); err != nil {
		t.Fatal(err)
	}
	return kv
}

func send(to string, amt core.Amount) core.Msg {
	return &bank.MsgSend{To: to, Amount: amt}
}

func wrapAll(t testing.TB, msgs ...core.Msg) []tx.Msg {
	t.Helper()
	out := make([]tx.Msg, len(msgs))
	for i, m := range msgs {
		w, err := contract.Wrap(m)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = w
	}
	return out
}

func body(seq uint64, fee core.Amount, msgs []tx.Msg) tx.Body {
	return tx.Body{ChainID: testChainID, Sequence: seq, Fee: fee.String(), Msgs: msgs}
}

func signBody(t testing.TB, b tx.Body, from testAcct) []byte {
	t.Helper()
	raw, err := tx.Sign(b, from.priv)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// signedSend is a one-message send tx with the standard fee.
func signedSend(t testing.TB, from testAcct, seq uint64, to string, amt core.Amount) []byte {
	t.Helper()
	return signBody(t, body(seq, testFee, wrapAll(t, send(to, amt))), from)
}

// envelopeRaw signs arbitrary body bytes with signer but puts pub in the
// envelope.
func envelopeRaw(t testing.TB, bodyBytes []byte, pub ed25519.PublicKey, signer ed25519.PrivateKey) []byte {
	t.Helper()
	raw, err := json.Marshal(tx.Tx{Body: bodyBytes, PubKey: pub, Signature: ed25519.Sign(signer, tx.SignBytes(bodyBytes))})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// kvPair is one key and value of a state snapshot.
type kvPair struct{ k, v string }

// snapshot is every key and value of a MemKV, for byte-exact comparisons.
func snapshot(kv store.KV) []kvPair {
	var out []kvPair
	kv.Iterate(nil, nil, func(k, v []byte) bool {
		out = append(out, kvPair{string(k), string(v)})
		return true
	})
	return out
}

func requireUnchanged(t testing.TB, before []kvPair, kv store.KV) {
	t.Helper()
	if after := snapshot(kv); !slices.Equal(before, after) {
		t.Fatalf("state changed by a rejected tx:\nbefore %q\nafter  %q", before, after)
	}
}

func bal(kv store.KV, a testAcct) core.Amount { return bank.GetAccount(kv, a.raw).Balance }
func seqOf(kv store.KV, a testAcct) uint64    { return bank.GetAccount(kv, a.raw).Sequence }

// rejectionCase is a tx ExecTx must reject with code, writing nothing.
type rejectionCase struct {
	name  string
	setup func(kv store.KV) // optional, runs before the snapshot
	raw   func(t *testing.T) []byte
	code  core.Code
}

// withMsg signs, for alice, a tx of one message given as raw JSON.
func withMsg(typ, value string) func(t *testing.T) []byte {
	return func(t *testing.T) []byte {
		return signBody(t, body(0, testFee, []tx.Msg{{Type: typ, Value: json.RawMessage(value)}}), alice)
	}
}

func okSend(t *testing.T) []tx.Msg { return wrapAll(t, send(bob.addr, 1)) }

func aliceAt2(kv store.KV) {
	bank.SetAccount(kv, alice.raw, bank.Account{Balance: aliceFunds, Sequence: 2})
}

// envelopeRejections: chain id, sequence and signature.
func envelopeRejections() []rejectionCase {
	return []rejectionCase{
		{name: "wrong chain id", code: core.CodeWrongChainID, raw: func(t *testing.T) []byte {
			b := body(0, testFee, okSend(t))
			b.ChainID = "flashback-other"
			return signBody(t, b, alice)
		}},
		{name: "chain id differs in case", code: core.CodeWrongChainID, raw: func(t *testing.T) []byte {
			b := body(0, testFee, okSend(t))
			b.ChainID = strings.ToUpper(testChainID)
			return signBody(t, b, alice)
		}},
		{name: "stale sequence", setup: aliceAt2, code: core.CodeBadSequence, raw: func(t *testing.T) []byte {
			return signBody(t, body(1, testFee, okSend(t)), alice)
		}},
		{name: "sequence zero after use", setup: aliceAt2, code: core.CodeBadSequence, raw: func(t *testing.T) []byte {
			return signBody(t, body(0, testFee, okSend(t)), alice)
		}},
		{name: "future sequence", setup: aliceAt2, code: core.CodeBadSequence, raw: func(t *testing.T) []byte {
			return signBody(t, body(3, testFee, okSend(t)), alice)
		}},
		{name: "future sequence on fresh account", code: core.CodeBadSequence, raw: func(t *testing.T) []byte {
			return signBody(t, body(1, testFee, okSend(t)), alice)
		}},
		{name: "max sequence", code: core.CodeBadSequence, raw: func(t *testing.T) []byte {
			return signBody(t, body(1<<64-1, testFee, okSend(t)), alice)
		}},
		{name: "signed by another key", code: core.CodeBadSignature, raw: func(t *testing.T) []byte {
			bb, _ := tx.EncodeBody(body(0, testFee, okSend(t)))
			return envelopeRaw(t, bb, alice.pub, bob.priv)
		}},
		{name: "tampered body", code: core.CodeBadSignature, raw: func(t *testing.T) []byte {
			b := body(0, testFee, okSend(t))
			b.Memo = "pay bob 1"
			bb, _ := tx.EncodeBody(b)
			raw := envelopeRaw(t, bb, alice.pub, alice.priv)
			if _, err := tx.Decode(raw); err != nil {
				t.Fatal(err)
			}
			tampered := bytes.Replace(bb, []byte("pay bob 1"), []byte("pay bob 9"), 1)
			sig := ed25519.Sign(alice.priv, tx.SignBytes(bb))
			out, _ := json.Marshal(tx.Tx{Body: tampered, PubKey: alice.pub, Signature: sig})
			return out
		}},
		{name: "tampered amount", code: core.CodeBadSignature, raw: func(t *testing.T) []byte {
			bb, _ := tx.EncodeBody(body(0, testFee, okSend(t)))
			sig := ed25519.Sign(alice.priv, tx.SignBytes(bb))
			tampered := bytes.Replace(bb, []byte(`"amount":"1"`), []byte(`"amount":"9"`), 1)
			if bytes.Equal(tampered, bb) {
				t.Fatal("amount not found in body")
			}
			out, _ := json.Marshal(tx.Tx{Body: tampered, PubKey: alice.pub, Signature: sig})
			return out
		}},
		{name: "signature without domain prefix", code: core.CodeBadSignature, raw: func(t *testing.T) []byte {
			bb, _ := tx.EncodeBody(body(0, testFee, okSend(t)))
			out, _ := json.Marshal(tx.Tx{Body: bb, PubKey: alice.pub, Signature: ed25519.Sign(alice.priv, bb)})
			return out
		}},
	}
}

// messageRejections: message types, fields, amounts and addresses.
func messageRejections() []rejectionCase {
	return []rejectionCase{
		{name: "unknown message type", code: core.CodeUnknownMessage, raw: withMsg("bank/sendx", `{}`)},
		{name: "message type wrong case", code: core.CodeUnknownMessage, raw: withMsg("Bank/Send", `{"to":"`+bob.addr+`","amount":"1"}`)},
		{name: "unknown field in message", code: core.CodeInvalidMessage, raw: withMsg("bank/send", `{"to":"`+bob.addr+`","amount":"1","memo":"x"}`)},
		{name: "amount bare number", code: core.CodeInvalidMessage, raw: withMsg("bank/send", `{"to":"`+bob.addr+`","amount":1}`)},
		{name: "amount negative", code: core.CodeInvalidMessage, raw: withMsg("bank/send", `{"to":"`+bob.addr+`","amount":"-1"}`)},
		{name: "amount overflow", code: core.CodeInvalidMessage, raw: withMsg("bank/send", `{"to":"`+bob.addr+`","amount":"18446744073709551616"}`)},
		{name: "bad address", code: core.CodeInvalidAddress, raw: withMsg("bank/send", `{"to":"fb1notanaddress","amount":"1"}`)},
		{name: "address checksum typo", code: core.CodeInvalidAddress, raw: func(t *testing.T) []byte {
			a := []byte(bob.addr)
			if a[len(a)-1] == 'q' {
				a[len(a)-1] = 'p'
			} else {
				a[len(a)-1] = 'q'
			}
			return signBody(t, body(0, testFee, wrapAll(t, send(string(a), 1))), alice)
		}},
		{name: "address wrong prefix", code: core.CodeInvalidAddress, raw: func(t *testing.T) []byte {
			return signBody(t, body(0, testFee, wrapAll(t, send("cosmos1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqnrql8a", 1))), alice)
		}},
		{name: "address 19 bytes", code: core.CodeInvalidAddress, raw: func(t *testing.T) []byte {
			return signBody(t, body(0, testFee, wrapAll(t, send("fb1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq8q4vjv", 1))), alice)
		}},
		{name: "empty address", code: core.CodeInvalidAddress, raw: withMsg("bank/send", `{"amount":"1"}`)},
		{name: "zero amount", code: core.CodeInvalidAmount, raw: withMsg("bank/send", `{"to":"`+bob.addr+`","amount":"0"}`)},
		{name: "missing amount", code: core.CodeInvalidAmount, raw: withMsg("bank/send", `{"to":"`+bob.addr+`"}`)},
		{name: "second message invalid", code: core.CodeInvalidAmount, raw: func(t *testing.T) []byte {
			return signBody(t, body(0, testFee, wrapAll(t, send(bob.addr, 1), send(bob.addr, 0))), alice)
		}},
	}
}

// sizeAndFeeRejections: size limits, undecodable bytes, fees and funds.
func sizeAndFeeRejections() []rejectionCase {
	return []rejectionCase{
		{name: "oversize tx", code: core.CodeTxTooLarge, raw: func(t *testing.T) []byte {
			v := `{"to":"` + bob.addr + `","amount":"1","pad":"` + strings.Repeat("x", tx.MaxTxBytes) + `"}`
			raw := signBody(t, body(0, testFee, []tx.Msg{{Type: "bank/send", Value: json.RawMessage(v)}}), alice)
			if len(raw) <= tx.MaxTxBytes {
				t.Fatal("test tx is not oversize")
			}
			return raw
		}},
		{name: "oversize garbage", code: core.CodeTxTooLarge, raw: func(t *testing.T) []byte {
			return bytes.Repeat([]byte{0}, tx.MaxTxBytes+1)
		}},
		{name: "malformed bytes", code: core.CodeTxDecode, raw: func(t *testing.T) []byte { return []byte("\x00\x01garbage") }},
		{name: "empty tx", code: core.CodeTxDecode, raw: func(t *testing.T) []byte { return nil }},
		{name: "non-canonical envelope", code: core.CodeTxDecode, raw: func(t *testing.T) []byte {
			return append(signedSend(t, alice, 0, bob.addr, 1), '\n')
		}},
		{name: "body fails structural checks", code: core.CodeTxDecode, raw: func(t *testing.T) []byte {
			return signBody(t, body(0, testFee, nil), alice)
		}},
		{name: "fee below minimum", code: core.CodeInsufficientFee, raw: func(t *testing.T) []byte {
			return signBody(t, body(0, testFee-1, okSend(t)), alice)
		}},
		{name: "zero fee", code: core.CodeInsufficientFee, raw: func(t *testing.T) []byte {
			return signBody(t, body(0, 0, okSend(t)), alice)
		}},
		{name: "balance below fee", code: core.CodeInsufficientFunds, raw: func(t *testing.T) []byte {
			// bob has 500 < 1000
			return signBody(t, body(0, testFee, wrapAll(t, send(alice.addr, 1))), bob)
		}},
		{name: "balance one below fee", setup: func(kv store.KV) {
			bank.SetAccount(kv, bob.raw, bank.Account{Balance: testFee - 1})
		}, code: core.CodeInsufficientFunds, raw: func(t *testing.T) []byte {
			return signBody(t, body(0, testFee, wrapAll(t, send(alice.addr, 1))), bob)
		}},
		{name: "unfunded account", code: core.CodeInsufficientFunds, raw: func(t *testing.T) []byte {
			return signBody(t, body(0, testFee, wrapAll(t, send(alice.addr, 1))), carol)
		}},
		{name: "fee above balance", code: core.CodeInsufficientFunds, raw: func(t *testing.T) []byte {
			return signBody(t, body(0, aliceFunds+1, okSend(t)), alice)
		}},
	}
}

// requireRejected runs c in mode on a fresh state and checks the code, a
// non-empty log, no events and no write (directly and through a cache).
func requireRejected(t *testing.T, c rejectionCase, mode contract.Mode) {
	kv := newState(t)
	if c.setup != nil {
		c.setup(kv)
	}
	raw := c.raw(t)
	before := snapshot(kv)
	res := contract.ExecTx(kv, testBlock, raw, mode)
	if res.Code != c.code {
		t.Fatalf("code = %d (%s), want %d (%s); log: %s", res.Code, res.Code.Name(), c.code, c.code.Name(), res.Log)
	}
	if res.Log == "" {
		t.Error("rejection has an empty log")
	}
	if len(res.Events) != 0 {
		t.Errorf("rejected tx emitted events %+v", res.Events)
	}
	requireUnchanged(t, before, kv)
	// Same through a cache: nothing buffered either.
	cache := store.NewCache(kv)
	if res2 := contract.ExecTx(cache, testBlock, raw, mode); res2.Code != c.code || res2.Log != res.Log {
		t.Fatalf("through a cache: %d %q, want %d %q", res2.Code, res2.Log, res.Code, res.Log)
	}
	cache.Write()
	requireUnchanged(t, before, kv)
}

func TestExecTxRejections(t *testing.T) {
	cases := append(append(envelopeRejections(), messageRejections()...), sizeAndFeeRejections()...)
	for _, mode := range []contract.Mode{contract.Check, contract.Deliver} {
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s/mode%d", c.name, mode), func(t *testing.T) { requireRejected(t, c, mode) })
		}
	}
}
