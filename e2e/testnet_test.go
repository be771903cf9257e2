package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
)

// TestFourValidators starts a 4-validator network from `flashback testnet`,
// commits txs, stops one validator, keeps committing with the other three,
// restarts it and checks that it catches up to the same app hash.
func TestFourValidators(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four nodes")
	}
	out := t.TempDir()
	base := freeBase(t, 4)
	run(t, "testnet", "--validators", "4", "--output", out, "--chain-id", "e2e-net",
		"--base-port", fmt.Sprint(base), "--block-time", "300ms")
	var procs []*proc
	var clients []*client.Client
	for i := 0; i < 4; i++ {
		home := filepath.Join(out, fmt.Sprintf("node%d", i))
		api := fmt.Sprintf("http://127.0.0.1:%d", base+10*i+2)
		procs = append(procs, startNode(t, home, api))
		clients = append(clients, client.New(api))
	}
	defer func() {
		if t.Failed() {
			for _, p := range procs {
				dumpLog(t, p.home)
			}
		}
	}()
	for _, c := range clients {
		waitHeight(t, c, 3, 90*time.Second)
	}
	ctx := context.Background()
	keys := filepath.Join(out, "node0")
	alice := clients[0].Signer(devKey(t, keys, "alice"))
	bob := clients[0].Signer(devKey(t, keys, "bob")).Address()
	send := func(c *client.Client, s *client.Signer, amt core.Amount) {
		t.Helper()
		if _, err := s.Submit(ctx, &bank.MsgSend{To: bob, Amount: amt}); err != nil {
			t.Fatalf("send %d: %v", amt, err)
		}
	}
	for i := 1; i <= 5; i++ {
		send(clients[0], alice, core.Amount(i))
	}

	// Stop validator 3; the other three hold 3/4 of the power (> 2/3).
	procs[3].stop(t)
	// Submit through node 1 now, to show any validator accepts txs.
	alice1 := clients[1].Signer(devKey(t, keys, "alice"))
	for i := 6; i <= 10; i++ {
		send(clients[1], alice1, core.Amount(i))
	}
	h := waitHeight(t, clients[1], 0, 10*time.Second)
	h = waitHeight(t, clients[1], h+3, 60*time.Second)

	// Restart validator 3 and let it catch up.
	home3 := filepath.Join(out, "node3")
	procs[3] = startNode(t, home3, fmt.Sprintf("http://127.0.0.1:%d", base+32))
	waitHeight(t, clients[3], h+1, 90*time.Second)

	// Every node agrees on the state at height h: same app hash in the
	// header of block h+1, and same balance for bob.
	var want string
	for i, c := range clients {
		b, err := c.Block(ctx, h+1)
		if err != nil {
			t.Fatalf("node%d block %d: %v", i, h+1, err)
		}
		if i == 0 {
			want = b.AppHash
		} else if b.AppHash != want {
			t.Fatalf("node%d app hash at %d = %s, node0 has %s", i, h+1, b.AppHash, want)
		}
		a, err := c.Account(ctx, bob)
		if err != nil {
			t.Fatal(err)
		}
		if wantBal := core.Amount(1_000_000_000_000 + 55); a.Balance != wantBal {
			t.Fatalf("node%d: bob has %d, want %d", i, a.Balance, wantBal)
		}
	}
	t.Logf("4 validators agree on app hash %s at height %d", want, h)
}
