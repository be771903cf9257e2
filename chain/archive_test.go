package chain_test

import (
	"context"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/flashback-network/flashback/api"
	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/chain"
	"github.com/flashback-network/flashback/chain/chaintest"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/qos"
)

// TestArchiveServesPrunedHistory runs a node that keeps only 2 epochs of QoS
// history in state while an oracle reports every epoch, and checks that the
// REST API still serves every epoch since the unit was listed, from the
// node's archive, also after a restart.
func TestArchiveServesPrunedHistory(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a node through ~10 epochs")
	}
	p := chain.DevParams()
	p.EpochSeconds = 2
	p.HistoryEpochs = 2
	dev := chaintest.StartDev(t, "archive", chaintest.Options{Params: &p})
	srv := httptest.NewServer(api.New(dev.Node.RPC))
	c := client.New(srv.URL)
	signer := func(name string) *client.Signer { return c.Signer(dev.Key(t, name)) }
	prov, orc := signer("provider"), signer("oracle")
	ctx := context.Background()
	submit := func(s *client.Signer, msgs ...core.Msg) {
		t.Helper()
		if _, err := s.Submit(ctx, msgs...); err != nil {
			t.Fatal(err)
		}
	}
	submit(prov, &market.MsgRegisterProvider{Name: "archive", Endpoint: "http://127.0.0.1:1", BridgePubKey: make([]byte, 32)},
		&market.MsgStake{Amount: p.MinUnitStake},
		&market.MsgAddUnit{Kind: "local", Region: "local", Country: "US", Capacity: 1 << 30, StoragePrice: 1_000_000, EgressPrice: 1, AutoAccept: true})
	submit(orc, &qos.MsgRegisterOracle{Stake: p.MinOracleStake})

	// Report every epoch until the unit has far more judged epochs than
	// state keeps.
	view := reportUntilHistory(t, c, orc, 6)
	for i, h := range view.History {
		if h.Status != qos.QoSCompliant || h.Reporters != 1 {
			t.Errorf("history[%d] = %+v, want a compliant epoch with one reporter", i, h)
		}
		if i > 0 && h.Epoch <= view.History[i-1].Epoch {
			t.Errorf("history out of order at %d: %d after %d", i, h.Epoch, view.History[i-1].Epoch)
		}
	}
	last := view.History[len(view.History)-1].Epoch
	r := client.EpochRange{From: view.History[0].Epoch, To: last}
	epochs, err := c.EpochStats(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(epochs.Epochs)) != last-r.From+1 {
		t.Fatalf("%d epoch snapshots for epochs %d..%d", len(epochs.Epochs), r.From, last)
	}
	srv.Close()
	dev.Stop(t)

	// The archive is on disk: a restarted node serves the same history.
	dev.Start(t)
	srv2 := httptest.NewServer(api.New(dev.Node.RPC))
	defer srv2.Close()
	c2 := client.New(srv2.URL)
	again, err := c2.UnitQoS(ctx, "unit-1", r)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again.History, view.History[:len(again.History)]) || len(again.History) != len(view.History) {
		t.Fatalf("after restart:\n got %+v\nwant %+v", again.History, view.History)
	}
	epochs2, err := c2.EpochStats(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(epochs2.Epochs, epochs.Epochs) {
		t.Fatalf("epoch stats after restart:\n got %+v\nwant %+v", epochs2.Epochs, epochs.Epochs)
	}
	t.Logf("%d epochs of unit history and stats served with history_epochs=%d", len(view.History), p.HistoryEpochs)
}

// reportUntilHistory has orc report unit-1 compliant for every finished
// epoch until the REST API serves at least want epochs of its history, and
// returns that history (failing after 90 s).
func reportUntilHistory(t *testing.T, c *client.Client, orc *client.Signer, want int) *types.UnitQoSView {
	t.Helper()
	ctx := context.Background()
	reported := map[int64]bool{}
	deadline := time.Now().Add(90 * time.Second)
	for {
		st, err := c.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if e := st.Epoch - 1; e >= 0 && !reported[e] {
			m := qos.UnitMeasurement{Unit: "unit-1", Probes: 10, Successes: 10, P50Ms: 5, P95Ms: 10, DownMbps: 100, UpMbps: 100, IntegrityPassed: 2}
			if _, err := orc.Submit(ctx, &qos.MsgReport{Epoch: e, Units: []qos.UnitMeasurement{m}}); err != nil {
				t.Logf("report epoch %d: %v", e, err) // e.g. the epoch turned while signing
			}
			reported[e] = true
		}
		view, err := c.UnitQoS(ctx, "unit-1", client.EpochRange{From: 0, To: st.Epoch})
		if err != nil {
			t.Fatal(err)
		}
		if len(view.History) >= want {
			return view
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 90 s the unit has %d history entries: %+v", len(view.History), view.History)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
