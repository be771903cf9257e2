package chain_test

import (
	"context"
	"math/rand/v2"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/flashback-network/flashback/api"
	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/chain"
	"github.com/flashback-network/flashback/chain/chaintest"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/store"
)

// TestSupplyInvariantOverRandomSends runs a real in-process node and checks
// the supply invariant after every block while random sends (some of them
// overdrafts) go through the REST API; then restarts the node and checks
// that it resumes at the same height and app hash.
func TestSupplyInvariantOverRandomSends(t *testing.T) {
	var mu sync.Mutex
	var violations []string
	blocks := 0
	check := func(kv store.KV, h int64) {
		mu.Lock()
		defer mu.Unlock()
		blocks++
		if err := bank.CheckSupply(kv); err != nil {
			violations = append(violations, err.Error())
		}
	}
	dev := chaintest.StartDev(t, "invariant", chaintest.Options{AfterBlock: check})
	srv := httptest.NewServer(api.New(dev.Node.RPC))
	c := client.New(srv.URL)
	var signers []*client.Signer
	for _, name := range chain.DevKeys {
		signers = append(signers, c.Signer(dev.Key(t, name)))
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	ctx := context.Background()
	var last *types.TxResult
	for i := 0; i < 60; i++ {
		from := signers[rng.IntN(len(signers))]
		to := signers[rng.IntN(len(signers))].Address()
		amt := core.Amount(rng.Uint64N(uint64(chain.DevBalance) / 4))
		if amt == 0 {
			amt = 1
		}
		raw, err := from.Sign(ctx, "", &bank.MsgSend{To: to, Amount: amt})
		if err != nil {
			t.Fatal(err)
		}
		wait := i%10 == 9
		res, err := c.BroadcastTx(ctx, raw, wait)
		if err != nil && client.CodeOf(err) != "insufficient_funds" {
			t.Fatalf("tx %d: %v", i, err)
		}
		if wait && res != nil {
			last = res
		}
	}
	if last == nil {
		t.Fatal("no tx result observed")
	}
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	dev.Stop(t)
	mu.Lock()
	if len(violations) > 0 || blocks == 0 {
		t.Fatalf("after %d blocks, invariant violations: %v", blocks, violations)
	}
	mu.Unlock()

	// Restart: the app resumes where consensus is.
	dev.Start(t)
	n2 := dev.Node
	info, err := n2.RPC.ABCIInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Response.LastBlockHeight < st.Height {
		t.Fatalf("restarted app at height %d, was at %d", info.Response.LastBlockHeight, st.Height)
	}
	b, err := n2.RPC.Block(ctx, &st.Height)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Block.AppHash.String(); !equalFoldHex(got, st.AppHash) {
		t.Fatalf("app hash at %d after restart %s, before %s", st.Height, got, st.AppHash)
	}
	t.Logf("%d blocks checked, %d bytes of app hash stable across restart", blocks, len(st.AppHash)/2)
}

func equalFoldHex(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i]|0x20, b[i]|0x20
		if x != y {
			return false
		}
	}
	return true
}
