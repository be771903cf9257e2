package chain

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
)

func simulate(t *testing.T, app *App, raw []byte) types.SimulateResult {
	t.Helper()
	resp, err := app.Query(context.Background(), &abci.RequestQuery{Path: SimulatePath, Data: raw})
	if err != nil || resp.Code != 0 {
		t.Fatalf("simulate query: %v %+v", err, resp)
	}
	var out types.SimulateResult
	if err := json.Unmarshal(resp.Value, &out); err != nil {
		t.Fatalf("decode %s: %v", resp.Value, err)
	}
	return out
}

func balanceOf(t *testing.T, app *App, addr string) bank.Account {
	t.Helper()
	resp, err := app.Query(context.Background(), &abci.RequestQuery{Path: "/account/" + addr})
	if err != nil || resp.Code != 0 {
		t.Fatalf("account query: %v %+v", err, resp)
	}
	var v types.AccountView
	if err := json.Unmarshal(resp.Value, &v); err != nil {
		t.Fatal(err)
	}
	return bank.Account{Balance: v.Balance, Sequence: v.Sequence}
}

// TestSimulateLeavesStateUntouched simulates a send that would succeed and
// one that would fail: each reports the code, events, fee and the signer's
// balance change, and neither changes committed state, the app hash or the
// mempool's view (the same tx is still accepted by CheckTx and commits).
func TestSimulateLeavesStateUntouched(t *testing.T) {
	keys := testKeys(2)
	app := newTestApp(t, keys)
	finalize(t, app, 1, nil)
	from, to := keyAddr(keys[0]), keyAddr(keys[1])
	hash := append([]byte(nil), app.store.Hash()...)
	before := balanceOf(t, app, from)

	raw := signSend(t, testChain, keys[0], before.Sequence, to, 250)
	ok := simulate(t, app, raw)
	if ok.Code != 0 || ok.Fee != 1000 || ok.Signer != from {
		t.Fatalf("simulated send: %+v", ok)
	}
	if ok.BalanceBefore != before.Balance || ok.BalanceAfter != before.Balance-250-1000 {
		t.Fatalf("simulated balances %d -> %d, want %d -> %d", ok.BalanceBefore, ok.BalanceAfter, before.Balance, before.Balance-1250)
	}
	if !hasEvent(ok.Events, "transfer") || ok.Hash == "" {
		t.Fatalf("simulated send: no transfer event or hash: %+v", ok)
	}
	bad := simulate(t, app, signSend(t, testChain, keys[0], before.Sequence, to, 1<<40))
	if bad.Code != uint32(core.CodeInsufficientFunds) || bad.BalanceAfter != before.Balance-1000 {
		t.Fatalf("simulated overdraft: %+v", bad)
	}
	if got := balanceOf(t, app, from); got != before {
		t.Fatalf("committed account changed by simulation: %+v -> %+v", before, got)
	}
	if !bytes.Equal(app.store.Hash(), hash) {
		t.Fatal("app hash changed by simulation")
	}
	// The simulated tx was never in the mempool's view: its sequence is
	// still free, so CheckTx accepts it and it commits once.
	ct, err := app.CheckTx(context.Background(), &abci.RequestCheckTx{Tx: raw})
	if err != nil || ct.Code != 0 {
		t.Fatalf("CheckTx after simulation: %v %+v", err, ct)
	}
	res := finalize(t, app, 2, [][]byte{raw})
	if res.TxResults[0].Code != 0 {
		t.Fatalf("tx after simulation: %+v", res.TxResults[0])
	}
	if got := balanceOf(t, app, from); got.Balance != ok.BalanceAfter {
		t.Fatalf("committed balance %d, simulation said %d", got.Balance, ok.BalanceAfter)
	}
}

// TestSimulateGarbage reports a decode failure as a result, not a query
// error.
func TestSimulateGarbage(t *testing.T) {
	app := newTestApp(t, testKeys(1))
	finalize(t, app, 1, nil)
	out := simulate(t, app, []byte("not a tx"))
	if out.Code != uint32(core.CodeTxDecode) || out.Fee != 0 || out.Signer != "" {
		t.Fatalf("garbage: %+v", out)
	}
}

func hasEvent(evs []core.Event, typ string) bool {
	for _, e := range evs {
		if e.Type == typ {
			return true
		}
	}
	return false
}

// TestSimulateBeforeFirstBlock is refused: there is no committed state to
// simulate on yet (rather than a misleading "no funds").
func TestSimulateBeforeFirstBlock(t *testing.T) {
	keys := testKeys(2)
	app := newTestApp(t, keys)
	resp, err := app.Query(context.Background(), &abci.RequestQuery{Path: SimulatePath, Data: signSend(t, testChain, keys[0], 0, keyAddr(keys[1]), 1)})
	if err != nil || resp.Code != uint32(core.CodeWrongState) {
		t.Fatalf("simulate at height 0: %v %+v", err, resp)
	}
}
