package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
)

// TestSimulateRoute simulates through POST /v1/txs/simulate (checked against
// openapi.json) and through the SDK's Signer modes: a simulated or refused
// tx changes no balance and uses no sequence; a prechecked good tx commits.
func TestSimulateRoute(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	sn := startSpecNode(t)
	ctx := context.Background()
	alice, bob := sn.signers["alice"], sn.signers["bob"]
	// Simulation runs on committed state: wait until the app has surely
	// committed a block (the status can report height 1 a moment before).
	for deadline := time.Now().Add(30 * time.Second); ; {
		st, err := sn.c.Status(ctx)
		if err == nil && st.Height >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no first block: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	before, err := sn.c.Account(ctx, alice.Address())
	mustSpec(t, "account", err)

	raw, err := alice.Sign(ctx, "", &bank.MsgSend{To: bob.Address(), Amount: 5})
	mustSpec(t, "sign", err)
	body, _ := json.Marshal(types.TxRequest{Tx: raw})
	status, got := sn.call(t, "POST", "/v1/txs/simulate", nil, "", body)
	var sim types.SimulateResult
	if status != 200 || json.Unmarshal(got, &sim) != nil || sim.Code != 0 || sim.BalanceBefore != before.Balance || sim.BalanceAfter != before.Balance-5-sn.params.TxFee {
		t.Fatalf("simulate: %d %s", status, got)
	}
	errCase := sn.errCaseChecker(t)
	errCase("POST", "/v1/txs/simulate", nil, "", []byte(`{"tx": ""}`), 400, "invalid_request")
	errCase("POST", "/v1/txs/simulate", nil, "", []byte(`nope`), 400, "invalid_request")
	status, got = sn.call(t, "POST", "/v1/txs/simulate", nil, "", []byte(`{"tx": "AAAA"}`))
	if status != 200 || json.Unmarshal(got, &sim) != nil || sim.Code != uint32(core.CodeTxDecode) {
		t.Fatalf("simulate garbage: %d %s", status, got)
	}

	// alice signed above a sequence it never broadcast: the first
	// simulation resyncs.
	s := alice
	s.SetMode(client.DryRun)
	res, err := s.Send(ctx, bob.Address(), 7)
	if err != nil || res.Height != 0 || client.EventAttr(res, "transfer", "amount") != "7" {
		t.Fatalf("dry run send: %+v %v", res, err)
	}
	s.SetMode(client.Precheck)
	_, err = s.Send(ctx, bob.Address(), before.Balance*2)
	var se *client.SimulatedError
	if !errors.As(err, &se) || !client.IsCode(err, core.CodeInsufficientFunds) {
		t.Fatalf("precheck overdraft: %v", err)
	}
	after, err := sn.c.Account(ctx, alice.Address())
	mustSpec(t, "account", err)
	if after.Balance != before.Balance || after.Sequence != before.Sequence {
		t.Fatalf("simulations changed the account: %+v -> %+v", before, after)
	}
	res, err = s.Send(ctx, bob.Address(), 7)
	if err != nil || res.Height == 0 {
		t.Fatalf("prechecked send: %+v %v", res, err)
	}
	after, err = sn.c.Account(ctx, alice.Address())
	mustSpec(t, "account", err)
	if after.Balance != before.Balance-7-sn.params.TxFee {
		t.Fatalf("balance %d after a prechecked send of 7, want %d", after.Balance, before.Balance-7-sn.params.TxFee)
	}
}
