package api_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/flashback-network/flashback/api"
	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/market"
)

// TestStatementRouteMatchesSpec runs a real node with an active reservation
// and a pending one and calls GET /v1/reservations/{id}/statement as JSON
// and CSV and with bad input, validating each answer against openapi.json.
func TestStatementRouteMatchesSpec(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	sn := startSpecNode(t)
	ctx := context.Background()
	prov, alice := sn.signers["provider"], sn.signers["alice"]
	_, err := prov.RegisterProvider(ctx, market.MsgRegisterProvider{Name: "stmt", Endpoint: "http://127.0.0.1:1", BridgePubKey: make([]byte, 32)})
	mustSpec(t, "register provider", err)
	_, err = prov.Stake(ctx, sn.params.MinUnitStake)
	mustSpec(t, "stake", err)
	unit, _, err := prov.AddUnit(ctx, market.MsgAddUnit{Kind: "local", Region: "eu-central", Country: "DE", Capacity: 10 << 30, StoragePrice: 1_000_000, EgressPrice: 1, AutoAccept: true})
	mustSpec(t, "add unit", err)
	res, _, err := alice.Reserve(ctx, market.MsgReserve{Unit: unit, Bytes: 1 << 30, Term: 86400, MaxPrice: 1_000_000})
	mustSpec(t, "reserve", err)
	// Let a few 2 s epochs pass: poll the statement until it has 3 lines.
	path := "/v1/reservations/{id}/statement"
	id := map[string]string{"id": res}
	var st types.Statement
	for i := 0; i < 100 && len(st.Lines) < 3; i++ {
		mustSpec(t, "decode statement", json.Unmarshal(sn.get(t, path, id, "", 200), &st))
		if len(st.Lines) < 3 {
			waitSpecBlocks(t, sn, 1)
		}
	}
	if len(st.Lines) < 3 || st.Totals.Paid+st.Totals.Refunded+st.Totals.EscrowLeft != st.Totals.Escrowed {
		t.Fatalf("statement %+v", st)
	}
	var page types.Statement
	mustSpec(t, "decode page", json.Unmarshal(sn.get(t, path, id, "limit=1", 200), &page))
	if len(page.Lines) != 1 || page.NextFrom != page.Lines[0].Epoch+1 {
		t.Fatalf("page of 1: %+v", page)
	}
	_, body := sn.call(t, "GET", path, id, "format=csv&limit=2", nil)
	rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil || len(rows) < 4 || strings.Join(rows[0], ",") != strings.Join(api.StatementCSVHeader, ",") || rows[1][0] != "epoch" || rows[3][0] != "total" {
		t.Fatalf("CSV (%v):\n%s", err, body)
	}
	if !strings.Contains(string(body), "more epochs: ask again with from=") {
		t.Fatalf("CSV page does not say there is more:\n%s", body)
	}
	for _, q := range []string{"format=xml", "limit=0", "limit=1001", "from=-1", "to=3"} {
		sn.get(t, path, id, q, 400)
	}
	// The provider's statement: its one reservation's figures.
	ppath, pp := "/v1/providers/{address}/statement", map[string]string{"address": prov.Address()}
	var ps types.ProviderStatement
	mustSpec(t, "decode provider statement", json.Unmarshal(sn.get(t, ppath, pp, "", 200), &ps))
	if ps.Reservations != 1 || len(ps.Lines) < 3 || ps.FirstEpoch != st.FirstEpoch {
		t.Fatalf("provider statement %+v", ps)
	}
	for _, q := range []string{"limit=101", "from=x", "format=csv"} {
		sn.get(t, ppath, pp, q, 400)
	}
	sn.get(t, ppath, map[string]string{"address": alice.Address()}, "", 404)
	sn.get(t, ppath, map[string]string{"address": "fb1nope"}, "", 400)
	sn.get(t, path, map[string]string{"id": "res-999"}, "", 404)
	sn.get(t, path, map[string]string{"id": "bogus"}, "", 404)
}

// waitSpecBlocks polls (for up to 30 s) until n more blocks are committed.
func waitSpecBlocks(t *testing.T, sn *specNode, n int64) {
	t.Helper()
	st, err := sn.c.Status(context.Background())
	mustSpec(t, "status", err)
	h := st.Height
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		st, err = sn.c.Status(context.Background())
		mustSpec(t, "status", err)
		if st.Height >= h+n {
			return
		}
	}
	t.Fatalf("no %d new blocks after height %d within 30s", n, h)
}
