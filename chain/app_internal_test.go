package chain

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/flashback-network/flashback/contract/params"

	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/store"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract"
	"github.com/flashback-network/flashback/tx"
)

const testChain = "chain-test"

func testKeys(n int) []ed25519.PrivateKey {
	keys := make([]ed25519.PrivateKey, n)
	for i := range keys {
		var seed [32]byte
		binary.BigEndian.PutUint64(seed[:], uint64(i)+7)
		keys[i] = ed25519.NewKeyFromSeed(seed[:])
	}
	return keys
}

func keyAddr(k ed25519.PrivateKey) string {
	return address.FromPubKey(k.Public().(ed25519.PublicKey))
}

// newTestApp starts an app on an in-memory store with every key funded.
func newTestApp(t *testing.T, keys []ed25519.PrivateKey) *App {
	t.Helper()
	store, err := OpenMemStore()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	app, err := NewApp(store)
	if err != nil {
		t.Fatal(err)
	}
	g := contract.Genesis{Params: params.Default()}
	for _, k := range keys {
		g.Accounts = append(g.Accounts, contract.GenesisAccount{Address: keyAddr(k), Balance: 1_000_000})
	}
	state, _ := json.Marshal(g)
	if _, err := app.InitChain(context.Background(), &abci.RequestInitChain{ChainId: testChain, AppStateBytes: state}); err != nil {
		t.Fatal(err)
	}
	return app
}

func signSend(t *testing.T, chainID string, from ed25519.PrivateKey, seq uint64, to string, amt core.Amount) []byte {
	t.Helper()
	m, err := contract.Wrap(&bank.MsgSend{To: to, Amount: amt})
	if err != nil {
		t.Fatal(err)
	}
	return signMsgs(t, chainID, from, seq, m)
}

func signMsgs(t *testing.T, chainID string, from ed25519.PrivateKey, seq uint64, msgs ...tx.Msg) []byte {
	t.Helper()
	raw, err := tx.Sign(tx.Body{ChainID: chainID, Sequence: seq, Fee: "1000", Msgs: msgs}, from)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// breakSignature returns raw with one bit of its signature flipped, still a
// well-formed canonical envelope.
func breakSignature(t *testing.T, raw []byte) []byte {
	t.Helper()
	var env tx.Tx
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatal(err)
	}
	env.Signature[10] ^= 1
	out, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func finalize(t *testing.T, app *App, height int64, txs [][]byte) *abci.ResponseFinalizeBlock {
	t.Helper()
	res, err := app.FinalizeBlock(context.Background(), &abci.RequestFinalizeBlock{Height: height, Time: time.Unix(1_800_000_000+height, 0), Txs: txs})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Commit(context.Background(), &abci.RequestCommit{}); err != nil {
		t.Fatal(err)
	}
	return res
}

// mixedBlock is a block of valid txs and every kind of failure: bad and
// missing signatures, malformed and oversized bytes, wrong chain, stale and
// future sequences, an unknown message, an overdraft, a tx that depends on
// an earlier one in the block. want is each tx's expected code.
func mixedBlock(t *testing.T, keys []ed25519.PrivateKey, seq uint64) (txs [][]byte, want []core.Code) {
	add := func(raw []byte, code core.Code) {
		txs = append(txs, raw)
		want = append(want, code)
	}
	to := keyAddr(keys[0])
	for i := 1; i <= 8; i++ {
		add(signSend(t, testChain, keys[i], seq, to, 10), core.CodeOK)
	}
	add(signSend(t, testChain, keys[1], seq+1, to, 10), core.CodeOK) // after keys[1]'s first
	add(txs[1], core.CodeBadSequence)                                // replay of keys[2]'s
	add(breakSignature(t, signSend(t, testChain, keys[9], seq, to, 10)), core.CodeBadSignature)
	add(signSend(t, "other-chain", keys[10], seq, to, 10), core.CodeWrongChainID)
	add(breakSignature(t, signSend(t, "other-chain", keys[10], seq, to, 10)), core.CodeWrongChainID)
	add([]byte("not a tx"), core.CodeTxDecode)
	add(nil, core.CodeTxDecode)
	add(append([]byte(" "), signSend(t, testChain, keys[11], seq, to, 10)...), core.CodeTxDecode)
	add(bytes.Repeat([]byte("x"), tx.MaxTxBytes+1), core.CodeTxTooLarge)
	add(signSend(t, testChain, keys[12], seq+3, to, 10), core.CodeBadSequence)
	add(signMsgs(t, testChain, keys[13], seq, tx.Msg{Type: "bank/nope", Value: json.RawMessage(`{}`)}), core.CodeUnknownMessage)
	add(signSend(t, testChain, keys[14], seq, to, 1<<40), core.CodeInsufficientFunds)
	add(signSend(t, testChain, keys[15], seq, to, 10), core.CodeOK)
	return txs, want
}

// TestFinalizeBlockParallelMatchesSerial executes the same blocks on apps
// that prepare txs ahead of execution with 1 (the executing goroutine
// alone), 2 and 4 workers, and on one running each tx with contract.ExecTx
// in turn, and requires identical results, events and app hashes.
func TestFinalizeBlockParallelMatchesSerial(t *testing.T) {
	keys := testKeys(48)
	serial := newTestApp(t, keys)
	serial.serialExec = true
	workers := []int{1, 2, 4}
	parallel := make([]*App, len(workers))
	for i, w := range workers {
		parallel[i] = newTestApp(t, keys)
		parallel[i].prepareWorkers = w
	}
	for h := int64(1); h <= 3; h++ {
		// Each block has signers of its own, all at sequence 0.
		txs, want := mixedBlock(t, keys[(h-1)*16:h*16], 0)
		rs := finalize(t, serial, h, txs)
		for pi, p := range parallel {
			rp := finalize(t, p, h, txs)
			if !reflect.DeepEqual(rs, rp) {
				t.Fatalf("block %d, %d workers: serial and parallel execution differ:\nserial   %v\nparallel %v", h, workers[pi], rs, rp)
			}
			if !bytes.Equal(serial.store.Hash(), p.store.Hash()) {
				t.Fatalf("block %d, %d workers: committed app hashes differ", h, workers[pi])
			}
			for i, r := range rp.TxResults {
				if got := core.Code(r.Code); got != want[i] {
					t.Errorf("block %d tx %d: code %d (%s), want %d", h, i, got, r.Log, want[i])
				}
			}
			if len(rp.TxResults[0].Events) == 0 {
				t.Fatalf("block %d: a successful send emitted no events", h)
			}
		}
	}
}

func checkTx(t *testing.T, app *App, raw []byte, typ abci.CheckTxType) core.Code {
	t.Helper()
	res, err := app.CheckTx(context.Background(), &abci.RequestCheckTx{Tx: raw, Type: typ})
	if err != nil {
		t.Fatal(err)
	}
	return core.Code(res.Code)
}

// TestRecheckSkipsVerifiedSignature: a tx accepted by CheckTx is rechecked
// after a block without verifying its signature again, while sequence and
// funds are checked against the new state; bytes that were never accepted
// are verified in full.
func TestRecheckSkipsVerifiedSignature(t *testing.T) {
	keys := testKeys(3)
	app := newTestApp(t, keys)
	to := keyAddr(keys[2])
	a := signSend(t, testChain, keys[0], 0, to, 10)
	if c := checkTx(t, app, a, abci.CheckTxType_New); c != core.CodeOK {
		t.Fatalf("new tx: code %d", c)
	}
	finalize(t, app, 1, nil) // a stays in the mempool
	if c := checkTx(t, app, a, abci.CheckTxType_Recheck); c != core.CodeOK || app.recheckSkips != 1 {
		t.Fatalf("recheck of an accepted tx: code %d, skipped verifications %d, want 0 and 1", c, app.recheckSkips)
	}
	// Changed bytes are another tx: verified, and rejected.
	if c := checkTx(t, app, breakSignature(t, a), abci.CheckTxType_Recheck); c != core.CodeBadSignature || app.recheckSkips != 1 {
		t.Fatalf("recheck of a tampered tx: code %d, skipped %d, want bad signature and 1", c, app.recheckSkips)
	}
	// A new tx does not skip even when the same bytes were accepted before.
	finalize(t, app, 2, nil)
	if c := checkTx(t, app, a, abci.CheckTxType_New); c != core.CodeOK || app.recheckSkips != 1 {
		t.Fatalf("new check of accepted bytes: code %d, skipped %d", c, app.recheckSkips)
	}
	// Another tx of the same signer commits first: a's sequence is used.
	b := signSend(t, testChain, keys[0], 0, to, 20)
	finalize(t, app, 3, [][]byte{b})
	if c := checkTx(t, app, a, abci.CheckTxType_Recheck); c != core.CodeBadSequence || app.recheckSkips != 2 {
		t.Fatalf("recheck after the sequence moved: code %d, skipped %d, want bad sequence and 2", c, app.recheckSkips)
	}
	// Rejected, a left the mempool and the cache.
	if _, ok := app.sigVerified[tx.Hash(a)]; ok {
		t.Fatal("a rejected tx stays in the recheck cache")
	}
	// Funds are rechecked too: drain and then c enter the mempool; drain
	// commits and leaves too little for c's fee.
	drain := signSend(t, testChain, keys[1], 0, to, 998_500)
	c := signSend(t, testChain, keys[1], 1, to, 10)
	for _, raw := range [][]byte{drain, c} {
		if code := checkTx(t, app, raw, abci.CheckTxType_New); code != core.CodeOK {
			t.Fatalf("new tx: code %d", code)
		}
	}
	finalize(t, app, 4, [][]byte{drain})
	if code := checkTx(t, app, c, abci.CheckTxType_Recheck); code != core.CodeInsufficientFunds || app.recheckSkips != 3 {
		t.Fatalf("recheck after the balance went: code %d, skipped %d, want insufficient funds and 3", code, app.recheckSkips)
	}
	// A committed tx leaves the cache with its block.
	if _, ok := app.sigVerified[tx.Hash(drain)]; ok {
		t.Fatal("a committed tx stays in the recheck cache")
	}
}

// TestReadMemoFollowsWrites: the block's read memo serves what was last
// written or deleted through it, never a stale read, and keeps its own copy
// of written values.
func TestReadMemoFollowsWrites(t *testing.T) {
	under := store.NewMemKV()
	under.Set([]byte("a"), []byte("1"))
	m := newReadMemo(under)
	if got := m.Get([]byte("a")); string(got) != "1" {
		t.Fatalf("first read %q", got)
	}
	if got := m.Get([]byte("missing")); got != nil {
		t.Fatalf("absent key read %q", got)
	}
	v := []byte("2")
	m.Set([]byte("a"), v)
	v[0] = 'x'
	if got := m.Get([]byte("a")); string(got) != "2" || string(under.Get([]byte("a"))) != "2" {
		t.Fatalf("after write: memo %q, store %q", got, under.Get([]byte("a")))
	}
	m.Set([]byte("missing"), []byte("3"))
	if got := m.Get([]byte("missing")); string(got) != "3" {
		t.Fatalf("after writing an absent key: %q", got)
	}
	m.Delete([]byte("a"))
	if got := m.Get([]byte("a")); got != nil || under.Get([]byte("a")) != nil {
		t.Fatalf("after delete: memo %q, store %q", got, under.Get([]byte("a")))
	}
	var keys []string
	m.Iterate(nil, nil, func(k, _ []byte) bool { keys = append(keys, string(k)); return true })
	if !reflect.DeepEqual(keys, []string{"missing"}) {
		t.Fatalf("iterate: %v", keys)
	}
}
