package chain

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/flashback-network/flashback/contract"
	"github.com/flashback-network/flashback/contract/params"
)

// TestPrevHashSurvivesRestart: the hash of the last finalized block is the
// next block's PrevHash, also after the node restarts on its database (QoS
// draws oracle assignments from it, so every node and a replay must agree).
func TestPrevHashSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	st, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	app, err := NewApp(st)
	if err != nil {
		t.Fatal(err)
	}
	state, _ := json.Marshal(contract.Genesis{Params: params.Default()})
	if _, err := app.InitChain(context.Background(), &abci.RequestInitChain{ChainId: testChain, AppStateBytes: state}); err != nil {
		t.Fatal(err)
	}
	if got := app.nextBlock().PrevHash; len(got) != 0 {
		t.Fatalf("before block 1 PrevHash = %x, want empty", got)
	}
	h1 := bytes.Repeat([]byte{0xab}, 32)
	for i, h := range [][]byte{bytes.Repeat([]byte{0x01}, 32), h1} {
		req := &abci.RequestFinalizeBlock{Height: int64(i + 1), Time: time.Unix(1_800_000_000+int64(i), 0), Hash: h}
		if _, err := app.FinalizeBlock(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		if _, err := app.Commit(context.Background(), &abci.RequestCommit{}); err != nil {
			t.Fatal(err)
		}
	}
	if got := app.nextBlock().PrevHash; !bytes.Equal(got, h1) {
		t.Fatalf("PrevHash = %x, want the last block's hash %x", got, h1)
	}
	st.Close()
	st2, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	app2, err := NewApp(st2)
	if err != nil {
		t.Fatal(err)
	}
	if got := app2.nextBlock().PrevHash; !bytes.Equal(got, h1) {
		t.Fatalf("after restart PrevHash = %x, want %x", got, h1)
	}
}
