package contract_test

import (
	"reflect"
	"testing"

	"github.com/flashback-network/flashback/contract"
	"github.com/flashback-network/flashback/tx"
)

// ExecDecoded with the signature checked by the caller gives exactly the
// results and state of ExecTx; with sigVerified false it checks the
// signature itself.
func TestExecDecodedMatchesExecTx(t *testing.T) {
	good := signedSend(t, alice, 0, bob.addr, 10)
	next := signedSend(t, alice, 1, bob.addr, 20)
	badBody := body(2, testFee, wrapAll(t, send(bob.addr, 30)))
	bodyBytes, err := tx.EncodeBody(badBody)
	if err != nil {
		t.Fatal(err)
	}
	forged := envelopeRaw(t, bodyBytes, alice.pub, bob.priv) // signed by bob for alice's key
	txs := [][]byte{good, next, forged}

	viaRaw, viaDecoded := newState(t), newState(t)
	for i, raw := range txs {
		want := contract.ExecTx(viaRaw, testBlock, raw, contract.Deliver)
		d, err := tx.Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		got := contract.ExecDecoded(viaDecoded, testBlock, d, contract.Deliver, d.VerifySignature())
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("tx %d: ExecDecoded = %+v, ExecTx = %+v", i, got, want)
		}
	}
	if !reflect.DeepEqual(snapshot(viaRaw), snapshot(viaDecoded)) {
		t.Fatal("ExecDecoded left a different state than ExecTx")
	}
	d, _ := tx.Decode(forged)
	if r := contract.ExecDecoded(newState(t), testBlock, d, contract.Check, false); r.Code.Name() != "bad_signature" {
		t.Fatalf("unverified forged tx: %s %s", r.Code.Name(), r.Log)
	}
}
