package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
)

// TestCLIEndToEnd drives a dev node with the CLI exactly as a user would.
func TestCLIEndToEnd(t *testing.T) {
	home, _, _ := startDevNode(t, "e2e-cli", freeBase(t, 1))

	bob := strings.TrimSpace(run(t, "keys", "show", "bob", "--home", home))
	if !strings.HasPrefix(bob, "fb1") {
		t.Fatalf("keys show bob = %q", bob)
	}
	out := run(t, "tx", "bank", "send", bob, "1.5FLASH", "--from", "alice", "--home", home, "-o", "json")
	var res struct {
		Hash   string `json:"hash"`
		Height int64  `json:"height"`
		Code   uint32 `json:"code"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Code != 0 || res.Height == 0 {
		t.Fatalf("send result %q: %v", out, err)
	}
	var acct types.AccountView
	if err := json.Unmarshal([]byte(run(t, "query", "account", bob, "--home", home, "-o", "json")), &acct); err != nil {
		t.Fatal(err)
	}
	if want := core.Amount(1_000_000_000_000 + 1_500_000); acct.Balance != want {
		t.Fatalf("bob balance %d, want %d", acct.Balance, want)
	}
	// The committed tx is queryable by hash.
	if out := run(t, "query", "tx", res.Hash, "--home", home); !strings.Contains(out, "ok") {
		t.Fatalf("query tx: %q", out)
	}
	// A send beyond the balance is a clear, coded error.
	out, err := runErr("tx", "bank", "send", bob, "99999999FLASH", "--from", "alice", "--home", home)
	if err == nil || !strings.Contains(out, "insufficient_funds") {
		t.Fatalf("overdraft: err %v, out %q", err, out)
	}
	st := run(t, "status", "--home", home, "-o", "json")
	if !strings.Contains(st, `"chain_id": "e2e-cli"`) {
		t.Fatalf("status: %s", st)
	}
}

// TestReplayAnsweredOverAPI submits the same signed tx again, once it is
// in the mempool cache and once it is committed: both times the node
// answers with the first submission's result and executes nothing twice.
func TestReplayAnsweredOverAPI(t *testing.T) {
	home, _, c := startDevNode(t, "e2e-replay", freeBase(t, 1))
	ctx := context.Background()
	s := c.Signer(devKey(t, home, "alice"))
	bob := c.Signer(devKey(t, home, "bob")).Address()
	before, err := c.Account(ctx, bob)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := s.Sign(ctx, "", &bank.MsgSend{To: bob, Amount: 5})
	if err != nil {
		t.Fatal(err)
	}
	// Another tx with the same sequence, signed before the first commits.
	rival, err := c.Signer(devKey(t, home, "alice")).Sign(ctx, "", &bank.MsgSend{To: bob, Amount: 6})
	if err != nil {
		t.Fatal(err)
	}
	first, err := c.BroadcastTx(ctx, raw, true)
	if err != nil {
		t.Fatal(err)
	}
	// At once (the mempool cache knows the bytes), then after two blocks.
	for i := 0; i < 2; i++ {
		again, err := c.BroadcastTx(ctx, raw, true)
		if err != nil {
			t.Fatalf("resubmission %d: %v", i, err)
		}
		if again.Hash != first.Hash || again.Height != first.Height || again.Code != 0 {
			t.Fatalf("resubmission %d answered %+v, the first %+v", i, again, first)
		}
		waitHeight(t, c, mustStatus(t, c).Height+2, 30*time.Second)
	}
	after, err := c.Account(ctx, bob)
	if err != nil {
		t.Fatal(err)
	}
	if after.Balance-before.Balance != 5 {
		t.Fatalf("bob received %d, want 5 once", after.Balance-before.Balance)
	}
	// A different tx with the used sequence is still refused.
	if _, err := c.BroadcastTx(ctx, rival, true); client.CodeOf(err) != "bad_sequence" {
		t.Fatalf("a rival tx with a used sequence: %v, want bad_sequence", err)
	}
}

func mustStatus(t *testing.T, c *client.Client) *struct{ Height int64 } {
	t.Helper()
	st, err := c.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return &struct{ Height int64 }{st.Height}
}

// TestKillRestart kills a node with SIGKILL while txs stream in, restarts
// it, and checks that every acknowledged tx survived, balances add up and
// the chain continues from the same app hash.
func TestKillRestart(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	base := freeBase(t, 1)
	run(t, "init", "--home", home, "--chain-id", "e2e-kill", "--dev", "--base-port", fmt.Sprint(base), "--block-time", "200ms")
	api := fmt.Sprintf("http://127.0.0.1:%d", base+2)
	p := startNode(t, home, api)
	c := client.New(api)
	waitHeight(t, c, 2, 60*time.Second)
	ctx := context.Background()
	bob := c.Signer(devKey(t, home, "bob")).Address()

	sends := startSendStream(t, c, home, bob)
	time.Sleep(3 * time.Second)
	before := mustStatus(t, c).Height
	p.kill() // SIGKILL
	sends.stopAndWait()
	if len(sends.hashes) < 20 {
		t.Fatalf("only %d txs accepted before the kill", len(sends.hashes))
	}
	blk, err := c.Block(ctx, before)
	if err == nil {
		t.Fatal("API still answers after SIGKILL")
	}

	startNode(t, home, api)
	after := waitHeight(t, c, before+3, 60*time.Second)
	blk, err = c.Block(ctx, before)
	if err != nil {
		t.Fatal(err)
	}
	if blk.AppHash == "" {
		t.Fatal("empty app hash")
	}
	n := sends.checkCommitted(t, c, bob)
	sup, err := c.Supply(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("accepted %d txs, %d committed; height %d before kill, %d after restart; supply %s, fees %s", len(sends.hashes), n, before, after, sup.Supply, sup.Pools["fees"])
}

// sendStream is two senders (alice and provider) streaming signed sends
// to one address without waiting for commit, and the txs the node
// acknowledged.
type sendStream struct {
	mu      sync.Mutex
	hashes  []string
	amounts map[string]core.Amount
	wg      sync.WaitGroup
	stop    chan struct{}
}

func startSendStream(t *testing.T, c *client.Client, home, to string) *sendStream {
	ss := &sendStream{amounts: map[string]core.Amount{}, stop: make(chan struct{})}
	ctx := context.Background()
	for _, who := range []string{"alice", "provider"} {
		s := c.Signer(devKey(t, home, who))
		ss.wg.Add(1)
		go func() {
			defer ss.wg.Done()
			for i := 1; ; i++ {
				select {
				case <-ss.stop:
					return
				default:
				}
				amt := core.Amount(i)
				raw, err := s.Sign(ctx, "", &bank.MsgSend{To: to, Amount: amt})
				if err != nil {
					return
				}
				res, err := c.BroadcastTx(ctx, raw, false)
				if err != nil {
					return // the node died under us
				}
				ss.mu.Lock()
				ss.hashes = append(ss.hashes, res.Hash)
				ss.amounts[res.Hash] = amt
				ss.mu.Unlock()
			}
		}()
	}
	return ss
}

// stopAndWait stops the senders and waits for them to return.
func (ss *sendStream) stopAndWait() {
	close(ss.stop)
	ss.wg.Wait()
}

// checkCommitted checks every tx is either committed or gone, and the
// committed ones account for the recipient's whole gain (from the dev
// genesis balance). Txs in the mempool at the kill may be lost: they were
// never acknowledged as committed. It returns how many were committed.
func (ss *sendStream) checkCommitted(t *testing.T, c *client.Client, to string) int {
	t.Helper()
	ctx := context.Background()
	var committed core.Amount
	var n int
	for _, h := range ss.hashes {
		r, err := c.Tx(ctx, h)
		if err != nil {
			continue
		}
		if r.Code != 0 {
			t.Fatalf("tx %s failed: %s", h, r.Log)
		}
		committed += ss.amounts[h]
		n++
	}
	a, err := c.Account(ctx, to)
	if err != nil {
		t.Fatal(err)
	}
	if want := core.Amount(1_000_000_000_000) + committed; a.Balance != want {
		t.Fatalf("bob has %d, committed txs sum to %d (%d of %d txs committed)", a.Balance, want, n, len(ss.hashes))
	}
	if n == 0 {
		t.Fatal("no tx was committed before the kill")
	}
	return n
}
