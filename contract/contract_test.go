package contract_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/api/types"
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

// snapshot is every key and value of a MemKV, for byte-exact comparisons.
// kvPair is one key and value of a state snapshot.
type kvPair struct{ k, v string }

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

func TestExecTxRejections(t *testing.T) {
	type tcase struct {
		name  string
		setup func(kv store.KV) // optional, runs before the snapshot
		raw   func(t *testing.T) []byte
		code  core.Code
	}
	withMsg := func(typ, value string) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			return signBody(t, body(0, testFee, []tx.Msg{{Type: typ, Value: json.RawMessage(value)}}), alice)
		}
	}
	okSend := func(t *testing.T) []tx.Msg { return wrapAll(t, send(bob.addr, 1)) }
	aliceAt2 := func(kv store.KV) {
		bank.SetAccount(kv, alice.raw, bank.Account{Balance: aliceFunds, Sequence: 2})
	}
	cases := []tcase{
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
	for _, mode := range []contract.Mode{contract.Check, contract.Deliver} {
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s/mode%d", c.name, mode), func(t *testing.T) {
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
			})
		}
	}
}

func TestExecTxSendDeliver(t *testing.T) {
	kv := newState(t)
	const amt = core.Amount(12_345)
	raw := signedSend(t, alice, 0, bob.addr, amt)
	res := contract.ExecTx(kv, testBlock, raw, contract.Deliver)
	if res.Code != core.CodeOK {
		t.Fatalf("send failed: %d %s", res.Code, res.Log)
	}
	if res.Signer != alice.addr {
		t.Errorf("signer = %q, want %q", res.Signer, alice.addr)
	}
	if got, want := bal(kv, alice), aliceFunds-amt-testFee; got != want {
		t.Errorf("alice balance %d, want %d", got, want)
	}
	if got, want := bal(kv, bob), bobFunds+amt; got != want {
		t.Errorf("bob balance %d, want %d", got, want)
	}
	if got := bank.PoolBalance(kv, bank.PoolFees); got != testFee {
		t.Errorf("fees pool %d, want %d", got, testFee)
	}
	if got := bank.PoolBalance(kv, bank.PoolRewards); got != 777 {
		t.Errorf("rewards pool %d, want 777", got)
	}
	if seqOf(kv, alice) != 1 || seqOf(kv, bob) != 0 {
		t.Errorf("sequences alice %d bob %d, want 1 0", seqOf(kv, alice), seqOf(kv, bob))
	}
	if err := bank.CheckSupply(kv); err != nil {
		t.Error(err)
	}
	if bank.Supply(kv) != aliceFunds+bobFunds+777 {
		t.Errorf("supply %d changed", bank.Supply(kv))
	}
	want := []core.Event{
		{Type: "tx", Attrs: []core.Attr{{Key: "signer", Value: alice.addr}, {Key: "sequence", Value: "0"}, {Key: "fee", Value: "1000"}}},
		{Type: "transfer", Attrs: []core.Attr{{Key: "sender", Value: alice.addr}, {Key: "recipient", Value: bob.addr}, {Key: "amount", Value: "12345"}}},
	}
	if got, _ := json.Marshal(res.Events); !bytes.Equal(got, mustJSON(t, want)) {
		t.Errorf("events %s\nwant   %s", got, mustJSON(t, want))
	}

	// Replay: the same bytes again are refused and change nothing.
	before := snapshot(kv)
	res = contract.ExecTx(kv, testBlock, raw, contract.Deliver)
	if res.Code != core.CodeBadSequence {
		t.Fatalf("replay: code %d (%s), want bad_sequence", res.Code, res.Log)
	}
	requireUnchanged(t, before, kv)
	if res = contract.ExecTx(kv, testBlock, raw, contract.Check); res.Code != core.CodeBadSequence {
		t.Fatalf("replay in check: code %d, want bad_sequence", res.Code)
	}
	requireUnchanged(t, before, kv)

	// The next sequence works; sending to self only costs the fee; a fee
	// above the minimum is taken whole.
	res = contract.ExecTx(kv, testBlock, signBody(t, body(1, testFee+5, wrapAll(t, send(alice.addr, 100))), alice), contract.Deliver)
	if res.Code != core.CodeOK {
		t.Fatalf("self send: %d %s", res.Code, res.Log)
	}
	if got, want := bal(kv, alice), aliceFunds-amt-2*testFee-5; got != want {
		t.Errorf("alice after self send %d, want %d", got, want)
	}
	if got := bank.PoolBalance(kv, bank.PoolFees); got != 2*testFee+5 {
		t.Errorf("fees pool %d", got)
	}
	if err := bank.CheckSupply(kv); err != nil {
		t.Error(err)
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestExecTxSendToNewAccount(t *testing.T) {
	kv := newState(t)
	res := contract.ExecTx(kv, testBlock, signedSend(t, alice, 0, carol.addr, 5000), contract.Deliver)
	if res.Code != core.CodeOK {
		t.Fatalf("%d %s", res.Code, res.Log)
	}
	if bal(kv, carol) != 5000 || seqOf(kv, carol) != 0 {
		t.Fatalf("carol %+v", bank.GetAccount(kv, carol.raw))
	}
	// carol can now pay fees and send on, starting at sequence 0.
	res = contract.ExecTx(kv, testBlock, signedSend(t, carol, 0, bob.addr, 4000), contract.Deliver)
	if res.Code != core.CodeOK {
		t.Fatalf("%d %s", res.Code, res.Log)
	}
	if bal(kv, carol) != 0 || bal(kv, bob) != bobFunds+4000 {
		t.Fatalf("carol %d bob %d", bal(kv, carol), bal(kv, bob))
	}
	if err := bank.CheckSupply(kv); err != nil {
		t.Fatal(err)
	}
}

func TestExecTxFailingMessageChargesFee(t *testing.T) {
	kv := newState(t)
	// alice can pay the fee, but not the fee plus everything she has.
	raw := signedSend(t, alice, 0, bob.addr, aliceFunds)
	res := contract.ExecTx(kv, testBlock, raw, contract.Deliver)
	if res.Code != core.CodeInsufficientFunds {
		t.Fatalf("code %d (%s), want insufficient_funds", res.Code, res.Log)
	}
	if bal(kv, alice) != aliceFunds-testFee || seqOf(kv, alice) != 1 {
		t.Errorf("alice %+v, want fee charged and sequence 1", bank.GetAccount(kv, alice.raw))
	}
	if bal(kv, bob) != bobFunds {
		t.Errorf("bob got %d, transfer must not apply", bal(kv, bob))
	}
	if bank.PoolBalance(kv, bank.PoolFees) != testFee {
		t.Errorf("fees pool %d", bank.PoolBalance(kv, bank.PoolFees))
	}
	for _, e := range res.Events {
		if e.Type == "transfer" {
			t.Errorf("failed tx emitted a transfer event: %+v", res.Events)
		}
	}
	if err := bank.CheckSupply(kv); err != nil {
		t.Error(err)
	}
	// The exact fitting amount goes through on the next sequence.
	res = contract.ExecTx(kv, testBlock, signedSend(t, alice, 1, bob.addr, aliceFunds-2*testFee), contract.Deliver)
	if res.Code != core.CodeOK {
		t.Fatalf("exact balance send: %d %s", res.Code, res.Log)
	}
	if bal(kv, alice) != 0 {
		t.Errorf("alice left with %d", bal(kv, alice))
	}
}

func TestExecTxMultiMessageAtomic(t *testing.T) {
	kv := newState(t)
	msgs := wrapAll(t, send(bob.addr, 100), send(carol.addr, 200), send(bob.addr, aliceFunds))
	res := contract.ExecTx(kv, testBlock, signBody(t, body(0, testFee, msgs), alice), contract.Deliver)
	if res.Code != core.CodeInsufficientFunds {
		t.Fatalf("code %d (%s), want insufficient_funds", res.Code, res.Log)
	}
	if !strings.Contains(res.Log, "message 2") {
		t.Errorf("log %q does not name the failing message", res.Log)
	}
	if bal(kv, bob) != bobFunds || bal(kv, carol) != 0 {
		t.Errorf("earlier messages not rolled back: bob %d carol %d", bal(kv, bob), bal(kv, carol))
	}
	if bal(kv, alice) != aliceFunds-testFee || seqOf(kv, alice) != 1 {
		t.Errorf("alice %+v", bank.GetAccount(kv, alice.raw))
	}
	if _, exists := findKey(kv, carol.raw); exists {
		t.Error("rolled-back message left carol's account in state")
	}
	if err := bank.CheckSupply(kv); err != nil {
		t.Error(err)
	}

	// All messages succeed: all apply, in order, with one event each.
	msgs = wrapAll(t, send(bob.addr, 100), send(carol.addr, 200), send(bob.addr, 300))
	res = contract.ExecTx(kv, testBlock, signBody(t, body(1, testFee, msgs), alice), contract.Deliver)
	if res.Code != core.CodeOK {
		t.Fatalf("%d %s", res.Code, res.Log)
	}
	if bal(kv, bob) != bobFunds+400 || bal(kv, carol) != 200 || bal(kv, alice) != aliceFunds-2*testFee-600 {
		t.Errorf("balances alice %d bob %d carol %d", bal(kv, alice), bal(kv, bob), bal(kv, carol))
	}
	var amounts []string
	for _, e := range res.Events {
		if e.Type == "transfer" {
			amounts = append(amounts, e.Attrs[2].Value)
		}
	}
	if !slices.Equal(amounts, []string{"100", "200", "300"}) {
		t.Errorf("transfer events %v", amounts)
	}
}

func findKey(kv store.KV, raw []byte) ([]byte, bool) {
	var found []byte
	kv.Iterate(nil, nil, func(k, _ []byte) bool {
		if bytes.HasSuffix(k, raw) {
			found = k
			return false
		}
		return true
	})
	return found, found != nil
}

func TestExecTxCheckModeSequences(t *testing.T) {
	kv := newState(t)
	base := snapshot(kv)
	check := store.NewCache(kv)
	tx0 := signedSend(t, alice, 0, bob.addr, 10)
	tx1 := signedSend(t, alice, 1, bob.addr, 20)
	tx3 := signedSend(t, alice, 3, bob.addr, 30)

	if res := contract.ExecTx(check, testBlock, tx0, contract.Check); res.Code != core.CodeOK {
		t.Fatalf("check seq 0: %d %s", res.Code, res.Log)
	}
	if res := contract.ExecTx(check, testBlock, tx1, contract.Check); res.Code != core.CodeOK {
		t.Fatalf("check seq 1 after seq 0: %d %s", res.Code, res.Log)
	}
	if res := contract.ExecTx(check, testBlock, tx1, contract.Check); res.Code != core.CodeBadSequence {
		t.Fatalf("check seq 1 twice: %d, want bad_sequence", res.Code)
	}
	if res := contract.ExecTx(check, testBlock, tx3, contract.Check); res.Code != core.CodeBadSequence {
		t.Fatalf("check seq 3 with a gap: %d, want bad_sequence", res.Code)
	}
	// Check applies fee and sequence but never the messages.
	if got := bank.GetAccount(check, alice.raw); got.Sequence != 2 || got.Balance != aliceFunds-2*testFee {
		t.Fatalf("check state alice %+v", got)
	}
	if bal(check, bob) != bobFunds {
		t.Fatalf("check mode applied a transfer: bob %d", bal(check, bob))
	}
	if bank.PoolBalance(check, bank.PoolFees) != 2*testFee {
		t.Fatalf("check state fees %d", bank.PoolBalance(check, bank.PoolFees))
	}
	if err := bank.CheckSupply(check); err != nil {
		t.Fatal(err)
	}
	// The committed state is untouched by check txs.
	requireUnchanged(t, base, kv)

	// The same txs deliver in order on the committed state.
	for i, raw := range [][]byte{tx0, tx1} {
		if res := contract.ExecTx(kv, testBlock, raw, contract.Deliver); res.Code != core.CodeOK {
			t.Fatalf("deliver %d: %d %s", i, res.Code, res.Log)
		}
	}
	if bal(kv, bob) != bobFunds+30 || seqOf(kv, alice) != 2 {
		t.Fatalf("after deliver: bob %d alice seq %d", bal(kv, bob), seqOf(kv, alice))
	}
	// Check of a tx whose fee the check state can no longer afford.
	poor := store.NewCache(kv)
	bank.SetAccount(poor, bob.raw, bank.Account{Balance: testFee})
	if res := contract.ExecTx(poor, testBlock, signedSend(t, bob, 0, alice.addr, 1), contract.Check); res.Code != core.CodeOK {
		t.Fatalf("bob first check: %d %s", res.Code, res.Log)
	}
	if res := contract.ExecTx(poor, testBlock, signedSend(t, bob, 1, alice.addr, 1), contract.Check); res.Code != core.CodeInsufficientFunds {
		t.Fatalf("bob second check: %d, want insufficient_funds", res.Code)
	}
}

// TestExecTxRandomSends is a property test: random sends among 20 accounts,
// some invalid, executed block by block. A model predicts every result code
// and balance; the supply invariant holds after every block.
func TestExecTxRandomSends(t *testing.T) {
	const seed = 0x5eed_f1a5
	t.Logf("seed %#x", seed)
	r := rand.New(rand.NewPCG(seed, 0))

	const nAccts = 20
	accts := make([]testAcct, nAccts)
	g := contract.Genesis{Params: params.Params{TxFee: testFee}, Pools: map[string]core.Amount{bank.PoolTreasury: 1234}}
	balances := make([]core.Amount, nAccts)
	seqs := make([]uint64, nAccts)
	for i := range accts {
		accts[i] = newAcct(fmt.Sprintf("prop-%d", i))
		balances[i] = core.Amount(r.Uint64N(1_000_000))
		if i == 0 {
			balances[i] = 0 // one account that can never pay a fee at first
		}
		g.Accounts = append(g.Accounts, contract.GenesisAccount{Address: accts[i].addr, Balance: balances[i]})
	}
	kv := store.NewMemKV()
	if err := contract.InitGenesis(kv, g); err != nil {
		t.Fatal(err)
	}
	genesisSupply := bank.Supply(kv)
	var fees core.Amount
	counts := map[core.Code]int{}

	const total = 2000
	for done, height := 0, int64(1); done < total; height++ {
		blk := testBlock
		blk.Height = height
		blk.Time = blk.Time.Add(time.Duration(height) * 5 * time.Second)
		size := 1 + r.IntN(60)
		cache := store.NewCache(kv)
		for k := 0; k < size && done < total; k, done = k+1, done+1 {
			from, to := r.IntN(nAccts), r.IntN(nAccts)
			var amt core.Amount
			switch x := r.IntN(10); {
			case x == 0:
				amt = 0 // invalid
			case x <= 2:
				amt = balances[from] + core.Amount(r.Uint64N(1000)) // likely too much after the fee
			default:
				amt = 1 + core.Amount(r.Uint64N(uint64(balances[from]/2+1)))
			}
			seq := seqs[from]
			if r.IntN(12) == 0 {
				if r.IntN(2) == 0 || seq == 0 {
					seq++
				} else {
					seq--
				}
			}
			fee := testFee
			if r.IntN(15) == 0 {
				fee = testFee - 1
			} else if r.IntN(5) == 0 {
				fee = testFee + core.Amount(r.IntN(500))
			}
			raw := signBody(t, body(seq, fee, wrapAll(t, send(accts[to].addr, amt))), accts[from])

			// Model.
			var want core.Code
			switch {
			case amt == 0:
				want = core.CodeInvalidAmount
			case seq != seqs[from]:
				want = core.CodeBadSequence
			case fee < testFee:
				want = core.CodeInsufficientFee
			case balances[from] < fee:
				want = core.CodeInsufficientFunds
			default:
				balances[from] -= fee
				seqs[from]++
				fees += fee
				if amt > balances[from] {
					want = core.CodeInsufficientFunds
				} else {
					balances[from] -= amt
					balances[to] += amt
				}
			}
			counts[want]++

			res := contract.ExecTx(cache, blk, raw, contract.Deliver)
			if res.Code != want {
				t.Fatalf("height %d tx %d (%d->%d amt %d seq %d fee %d): code %d (%s), model says %d",
					height, done, from, to, amt, seq, fee, res.Code, res.Log, want)
			}
		}
		cache.Write()

		if err := bank.CheckSupply(kv); err != nil {
			t.Fatalf("height %d: %v", height, err)
		}
		var sum core.Amount
		for i, a := range accts {
			got := bank.GetAccount(kv, a.raw)
			if got.Balance != balances[i] || got.Sequence != seqs[i] {
				t.Fatalf("height %d account %d: %+v, model balance %d sequence %d", height, i, got, balances[i], seqs[i])
			}
			sum += got.Balance
		}
		if got := bank.PoolBalance(kv, bank.PoolFees); got != fees {
			t.Fatalf("height %d: fees pool %d, model %d", height, got, fees)
		}
		sum += bank.PoolBalance(kv, bank.PoolFees) + bank.PoolBalance(kv, bank.PoolTreasury)
		if sum != genesisSupply || bank.Supply(kv) != genesisSupply {
			t.Fatalf("height %d: balances+pools %d, supply %d, genesis supply %d", height, sum, bank.Supply(kv), genesisSupply)
		}
	}
	t.Logf("result codes: %v", counts)
	// The generator must actually exercise every path.
	for _, c := range []core.Code{core.CodeOK, core.CodeInvalidAmount, core.CodeBadSequence, core.CodeInsufficientFee, core.CodeInsufficientFunds} {
		if counts[c] == 0 {
			t.Errorf("no tx ended with %s", c.Name())
		}
	}
}

func TestCheckSupplyDetectsMismatch(t *testing.T) {
	kv := newState(t)
	bank.SetAccount(kv, carol.raw, bank.Account{Balance: 1})
	if err := bank.CheckSupply(kv); err == nil {
		t.Fatal("minted token not detected")
	}
	bank.SetAccount(kv, carol.raw, bank.Account{})
	if err := bank.CheckSupply(kv); err != nil {
		t.Fatal(err)
	}
	bank.SetAccount(kv, alice.raw, bank.Account{Balance: core.MaxAmount})
	bank.SetAccount(kv, bob.raw, bank.Account{Balance: core.MaxAmount})
	if err := bank.CheckSupply(kv); err == nil {
		t.Fatal("overflowing balances not detected")
	}
}

func TestQuery(t *testing.T) {
	kv := newState(t)
	if res := contract.ExecTx(kv, testBlock, signedSend(t, alice, 0, bob.addr, 42), contract.Deliver); res.Code != core.CodeOK {
		t.Fatal(res.Log)
	}

	got, err := contract.Query(kv, "account/"+alice.addr)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`{"address":%q,"balance":"%d","sequence":1}`, alice.addr, aliceFunds-42-testFee)
	if string(got) != want {
		t.Fatalf("account view %s\nwant %s", got, want)
	}
	// Leading/trailing slashes and an upper-case address are accepted; the
	// view reports the canonical address.
	got2, err := contract.Query(kv, "/account/"+strings.ToUpper(alice.addr)+"/")
	if err != nil || string(got2) != want {
		t.Fatalf("upper-case query: %s %v", got2, err)
	}
	// Unknown account: the zero account.
	got, err = contract.Query(kv, "account/"+carol.addr)
	if err != nil || string(got) != fmt.Sprintf(`{"address":%q,"balance":"0","sequence":0}`, carol.addr) {
		t.Fatalf("unknown account: %s %v", got, err)
	}
	// The view decodes back.
	var v types.AccountView
	if err := json.Unmarshal(got2, &v); err != nil || v.Balance != aliceFunds-42-testFee || v.Sequence != 1 {
		t.Fatalf("decode view: %+v %v", v, err)
	}

	got, err = contract.Query(kv, "params")
	if err != nil || string(got) != `{"tx_fee":"1000"}` {
		t.Fatalf("params: %s %v", got, err)
	}
	got, err = contract.Query(kv, "supply")
	if err != nil {
		t.Fatal(err)
	}
	wantSupply := fmt.Sprintf(`{"supply":"%d","pools":{"fees":"1000","rewards":"777"}}`, aliceFunds+bobFunds+777)
	if string(got) != wantSupply {
		t.Fatalf("supply %s\nwant %s", got, wantSupply)
	}

	for _, p := range []string{"", "/", "accounts/" + alice.addr, "account", "account/", "account/" + alice.addr + "/x", "params/x", "supply/fees", "Params", "balance/" + alice.addr} {
		// ("account/" trims to "account": one part, so an unknown path.)
		if out, err := contract.Query(kv, p); core.CodeOf(err) != core.CodeInvalidQuery || out != nil {
			t.Errorf("Query(%q) = %s, %v; want invalid_query", p, out, err)
		}
	}
	for _, a := range badAddrs() {
		if a == "" {
			continue // "account/" is an unknown path, tested above
		}
		if out, err := contract.Query(kv, "account/"+a); core.CodeOf(err) != core.CodeInvalidAddress || out != nil {
			t.Errorf("Query(account/%s) = %s, %v; want invalid_address", a, out, err)
		}
	}
}

// badAddrs are strings that are not account addresses, each for a
// different reason.
func badAddrs() []string {
	typo := []byte(alice.addr)
	if typo[len(typo)-1] == 'q' {
		typo[len(typo)-1] = 'p'
	} else {
		typo[len(typo)-1] = 'q'
	}
	return []string{
		"",
		"fb1",
		"fb1xyz",
		string(typo), // checksum mismatch
		strings.ToUpper(alice.addr[:5]) + alice.addr[5:], // mixed case
		"cosmos1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqnrql8a",  // valid bech32, wrong prefix
		"fb1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq8q4vjv",       // 19 bytes
		"fb1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq9p946q",    // 21 bytes
		fmt.Sprintf("%x", alice.pub),                     // hex public key
	}
}

func TestInitGenesis(t *testing.T) {
	t.Run("ok", func(t *testing.T) {
		kv := store.NewMemKV()
		g := contract.Genesis{
			Params:   params.Params{TxFee: 7},
			Accounts: []contract.GenesisAccount{{Address: alice.addr, Balance: 10}, {Address: bob.addr, Balance: 0}},
			Pools:    map[string]core.Amount{bank.PoolRewards: 5, bank.PoolEscrow: 0},
		}
		if err := contract.InitGenesis(kv, g); err != nil {
			t.Fatal(err)
		}
		if bank.Supply(kv) != 15 || bal(kv, alice) != 10 || bank.PoolBalance(kv, bank.PoolRewards) != 5 {
			t.Fatalf("supply %d alice %d", bank.Supply(kv), bal(kv, alice))
		}
		if params.Get(kv).TxFee != 7 {
			t.Fatalf("params %+v", params.Get(kv))
		}
		if err := bank.CheckSupply(kv); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("deterministic", func(t *testing.T) {
		g := contract.Genesis{
			Accounts: []contract.GenesisAccount{{Address: alice.addr, Balance: 10}, {Address: bob.addr, Balance: 3}},
			Pools:    map[string]core.Amount{"a": 1, "b": 2, "c": 3, "d": 4, "e": 5},
		}
		var first []kvPair
		for i := 0; i < 10; i++ {
			kv := store.NewMemKV()
			if err := contract.InitGenesis(kv, g); err != nil {
				t.Fatal(err)
			}
			if s := snapshot(kv); first == nil {
				first = s
			} else if !slices.Equal(s, first) {
				t.Fatal("genesis state differs between runs")
			}
		}
	})
	bad := map[string]contract.Genesis{
		"duplicate account":             {Accounts: []contract.GenesisAccount{{Address: alice.addr, Balance: 1}, {Address: bob.addr, Balance: 1}, {Address: alice.addr, Balance: 2}}},
		"duplicate account, other case": {Accounts: []contract.GenesisAccount{{Address: alice.addr, Balance: 1}, {Address: strings.ToUpper(alice.addr), Balance: 2}}},
		"supply overflow in accounts":   {Accounts: []contract.GenesisAccount{{Address: alice.addr, Balance: core.MaxAmount}, {Address: bob.addr, Balance: 1}}},
		"supply overflow in pools": {
			Accounts: []contract.GenesisAccount{{Address: alice.addr, Balance: core.MaxAmount}},
			Pools:    map[string]core.Amount{bank.PoolRewards: 1},
		},
	}
	for i, a := range badAddrs() {
		bad[fmt.Sprintf("bad address %d %q", i, a)] = contract.Genesis{Accounts: []contract.GenesisAccount{{Address: alice.addr, Balance: 1}, {Address: a, Balance: 1}}}
	}
	for name, g := range bad {
		t.Run(name, func(t *testing.T) {
			if err := contract.InitGenesis(store.NewMemKV(), g); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestWrapAndDecodeMsg(t *testing.T) {
	m, err := contract.Wrap(&bank.MsgSend{To: bob.addr, Amount: 9})
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != "bank/send" || string(m.Value) != `{"to":"`+bob.addr+`","amount":"9"}` {
		t.Fatalf("Wrap = %s %s", m.Type, m.Value)
	}
	back, err := contract.DecodeMsg(m)
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := back.(*bank.MsgSend); !ok || *s != (bank.MsgSend{To: bob.addr, Amount: 9}) {
		t.Fatalf("DecodeMsg = %#v", back)
	}
	if _, err := contract.Wrap(unregistered{}); err == nil {
		t.Fatal("Wrap accepted an unregistered type")
	}
	if !slices.Contains(contract.MsgTypes(), "bank/send") || !slices.IsSorted(contract.MsgTypes()) {
		t.Fatalf("MsgTypes = %v", contract.MsgTypes())
	}
	defer func() {
		if recover() == nil {
			t.Fatal("registering a duplicate type did not panic")
		}
	}()
	contract.FromModules(contract.Module{Name: "a", Routes: bank.Routes()}, contract.Module{Name: "b", Routes: bank.Routes()})
}

type unregistered struct{}

func (unregistered) Type() string         { return "test/unregistered" }
func (unregistered) ValidateBasic() error { return nil }

// The handler table serves exactly the wire names signed txs have always
// used, each by the route whose message says that name.
func TestHandlerTableWireNames(t *testing.T) {
	want := []string{
		"accesskey/create", "accesskey/revoke", "bank/send",
		"market/accept_reservation", "market/add_unit", "market/claim", "market/close_reservation",
		"market/decommission_unit", "market/delete_unit", "market/deregister_provider", "market/extend",
		"market/register_provider", "market/reject_reservation", "market/report_usage", "market/reserve",
		"market/resize", "market/stake", "market/topup", "market/unit_maintenance", "market/unstake",
		"market/update_provider", "market/update_unit",
		"qos/claim_compensation", "qos/deregister_oracle", "qos/register_oracle", "qos/report",
	}
	if got := contract.MsgTypes(); !slices.Equal(got, want) {
		t.Fatalf("MsgTypes = %v\nwant      %v", got, want)
	}
	for _, name := range want {
		m, err := contract.DecodeMsg(tx.Msg{Type: name, Value: []byte("{}")})
		if err == nil && m.Type() != name {
			t.Errorf("%s decodes to a message named %s", name, m.Type())
		}
		if err != nil && core.CodeOf(err) == core.CodeUnknownMessage {
			t.Errorf("%s: %v", name, err)
		}
	}
}
