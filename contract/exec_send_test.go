package contract_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flashback-network/flashback/contract"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/params"
	"github.com/flashback-network/flashback/contract/store"
)

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

// sendModel is the random-send property test's prediction of the chain:
// every account's balance and sequence and the fees pool.
type sendModel struct {
	accts    []testAcct
	balances []core.Amount
	seqs     []uint64
	fees     core.Amount
	counts   map[core.Code]int
}

// randomSend draws a send (amount, a sometimes-wrong sequence, a
// sometimes-short fee) from a random account to a random account.
func (m *sendModel) randomSend(r *rand.Rand) (from, to int, amt core.Amount, seq uint64, fee core.Amount) {
	from, to = r.IntN(len(m.accts)), r.IntN(len(m.accts))
	switch x := r.IntN(10); {
	case x == 0:
		amt = 0 // invalid
	case x <= 2:
		amt = m.balances[from] + core.Amount(r.Uint64N(1000)) // likely too much after the fee
	default:
		amt = 1 + core.Amount(r.Uint64N(uint64(m.balances[from]/2+1)))
	}
	seq = m.seqs[from]
	if r.IntN(12) == 0 {
		if r.IntN(2) == 0 || seq == 0 {
			seq++
		} else {
			seq--
		}
	}
	fee = testFee
	if r.IntN(15) == 0 {
		fee = testFee - 1
	} else if r.IntN(5) == 0 {
		fee = testFee + core.Amount(r.IntN(500))
	}
	return from, to, amt, seq, fee
}

// apply predicts the send's result code and updates the model.
func (m *sendModel) apply(from, to int, amt core.Amount, seq uint64, fee core.Amount) core.Code {
	var want core.Code
	switch {
	case amt == 0:
		want = core.CodeInvalidAmount
	case seq != m.seqs[from]:
		want = core.CodeBadSequence
	case fee < testFee:
		want = core.CodeInsufficientFee
	case m.balances[from] < fee:
		want = core.CodeInsufficientFunds
	default:
		m.balances[from] -= fee
		m.seqs[from]++
		m.fees += fee
		if amt > m.balances[from] {
			want = core.CodeInsufficientFunds
		} else {
			m.balances[from] -= amt
			m.balances[to] += amt
		}
	}
	m.counts[want]++
	return want
}

// check compares the state after a block with the model: supply, every
// account, the fees pool, and balances plus pools equal to genesis supply.
func (m *sendModel) check(t *testing.T, kv store.KV, height int64, genesisSupply core.Amount) {
	t.Helper()
	if err := bank.CheckSupply(kv); err != nil {
		t.Fatalf("height %d: %v", height, err)
	}
	var sum core.Amount
	for i, a := range m.accts {
		got := bank.GetAccount(kv, a.raw)
		if got.Balance != m.balances[i] || got.Sequence != m.seqs[i] {
			t.Fatalf("height %d account %d: %+v, model balance %d sequence %d", height, i, got, m.balances[i], m.seqs[i])
		}
		sum += got.Balance
	}
	if got := bank.PoolBalance(kv, bank.PoolFees); got != m.fees {
		t.Fatalf("height %d: fees pool %d, model %d", height, got, m.fees)
	}
	sum += bank.PoolBalance(kv, bank.PoolFees) + bank.PoolBalance(kv, bank.PoolTreasury)
	if sum != genesisSupply || bank.Supply(kv) != genesisSupply {
		t.Fatalf("height %d: balances+pools %d, supply %d, genesis supply %d", height, sum, bank.Supply(kv), genesisSupply)
	}
}

// newSendModel funds n accounts at random (the first with nothing, so it
// cannot pay a fee at first) and starts the chain on kv.
func newSendModel(t *testing.T, r *rand.Rand, kv store.KV, n int) *sendModel {
	m := &sendModel{accts: make([]testAcct, n), balances: make([]core.Amount, n), seqs: make([]uint64, n), counts: map[core.Code]int{}}
	g := contract.Genesis{Params: params.Params{TxFee: testFee}, Pools: map[string]core.Amount{bank.PoolTreasury: 1234}}
	for i := range m.accts {
		m.accts[i] = newAcct(fmt.Sprintf("prop-%d", i))
		m.balances[i] = core.Amount(r.Uint64N(1_000_000))
		if i == 0 {
			m.balances[i] = 0
		}
		g.Accounts = append(g.Accounts, contract.GenesisAccount{Address: m.accts[i].addr, Balance: m.balances[i]})
	}
	if err := contract.InitGenesis(kv, g); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestExecTxRandomSends is a property test: random sends among 20 accounts,
// some invalid, executed block by block. A model predicts every result code
// and balance; the supply invariant holds after every block.
func TestExecTxRandomSends(t *testing.T) {
	const seed = 0x5eed_f1a5
	t.Logf("seed %#x", seed)
	r := rand.New(rand.NewPCG(seed, 0))
	kv := store.NewMemKV()
	m := newSendModel(t, r, kv, 20)
	genesisSupply := bank.Supply(kv)
	const total = 2000
	for done, height := 0, int64(1); done < total; height++ {
		blk := testBlock
		blk.Height = height
		blk.Time = blk.Time.Add(time.Duration(height) * 5 * time.Second)
		size := 1 + r.IntN(60)
		cache := store.NewCache(kv)
		for k := 0; k < size && done < total; k, done = k+1, done+1 {
			from, to, amt, seq, fee := m.randomSend(r)
			raw := signBody(t, body(seq, fee, wrapAll(t, send(m.accts[to].addr, amt))), m.accts[from])
			want := m.apply(from, to, amt, seq, fee)
			if res := contract.ExecTx(cache, blk, raw, contract.Deliver); res.Code != want {
				t.Fatalf("height %d tx %d (%d->%d amt %d seq %d fee %d): code %d (%s), model says %d",
					height, done, from, to, amt, seq, fee, res.Code, res.Log, want)
			}
		}
		cache.Write()
		m.check(t, kv, height, genesisSupply)
	}
	t.Logf("result codes: %v", m.counts)
	// The generator must actually exercise every path.
	for _, c := range []core.Code{core.CodeOK, core.CodeInvalidAmount, core.CodeBadSequence, core.CodeInsufficientFee, core.CodeInsufficientFunds} {
		if m.counts[c] == 0 {
			t.Errorf("no tx ended with %s", c.Name())
		}
	}
}

// TestSendAfterRecipientChange: bank/send keeps the recipient ValidateBasic
// parsed, but a message whose To changed after that pays the new To.
func TestSendAfterRecipientChange(t *testing.T) {
	kv := newState(t)
	m := &bank.MsgSend{To: bob.addr, Amount: 5}
	if err := m.ValidateBasic(); err != nil {
		t.Fatal(err)
	}
	m.To = carol.addr
	cache := store.NewCache(kv)
	ctx := &core.Context{KV: cache, Block: testBlock}
	if err := contract.New().Handle(ctx, alice.raw, m); err != nil {
		t.Fatal(err)
	}
	cache.Write()
	if got := bal(kv, carol); got != 5 {
		t.Errorf("carol has %d, want 5", got)
	}
	if got := bal(kv, bob); got != bobFunds {
		t.Errorf("bob has %d, want %d", got, bobFunds)
	}
	want := []core.Event{{Type: "transfer", Attrs: []core.Attr{{Key: "sender", Value: alice.addr}, {Key: "recipient", Value: carol.addr}, {Key: "amount", Value: "5"}}}}
	if got, _ := json.Marshal(ctx.Events()); !bytes.Equal(got, mustJSON(t, want)) {
		t.Errorf("events %s\nwant   %s", got, mustJSON(t, want))
	}
}
