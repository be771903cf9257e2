package chain_test

import (
	"context"
	"strings"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/flashback-network/flashback/chain"
	"github.com/flashback-network/flashback/contract"
)

// A home written by a flashback whose state format differs (here: the JSON
// records of state format 1, which recorded no version) is refused with a
// message saying how to start over; a home this version initialized opens.
func TestStateVersionChecked(t *testing.T) {
	oldHome, newHome := t.TempDir(), t.TempDir()

	// An old home: initialized (chain id set), no state version.
	st, err := chain.OpenStore(oldHome)
	if err != nil {
		t.Fatal(err)
	}
	st.Working().Set([]byte("meta/chain_id"), []byte("old-1"))
	if _, _, err := st.Commit(); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st, err = chain.OpenStore(oldHome)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := chain.NewApp(st); err == nil || !strings.Contains(err.Error(), "state format 1") || !strings.Contains(err.Error(), "flashback init") {
		t.Fatalf("old home: NewApp error %v, want a state format message saying how to start over", err)
	}

	// A home initialized by this version.
	st2, err := chain.OpenStore(newHome)
	if err != nil {
		t.Fatal(err)
	}
	app, err := chain.NewApp(st2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.InitChain(context.Background(), &abci.RequestInitChain{ChainId: "new-1", AppStateBytes: []byte(`{"accounts":[]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st2.Commit(); err != nil {
		t.Fatal(err)
	}
	info, err := app.Info(context.Background(), &abci.RequestInfo{})
	if err != nil || info.AppVersion != contract.StateVersion {
		t.Fatalf("Info: app version %d (%v), want %d", info.GetAppVersion(), err, contract.StateVersion)
	}
	st2.Close()
	st2, err = chain.OpenStore(newHome)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	if _, err := chain.NewApp(st2); err != nil {
		t.Fatalf("home of this version refused: %v", err)
	}
}
