package api_test

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/sha256"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/flashback-network/flashback/api"
	"github.com/flashback-network/flashback/chain"
	"github.com/flashback-network/flashback/chain/chaintest"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/dispute"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/receipt"
)

// TestDisputeRoutesMatchSpec: on a real node, the dev oracle registers its
// seal key, alice opens a data_loss dispute through the SDK with a receipt
// the provider's key signed; every dispute route answers what openapi.json
// says (open, then decided after the oracle's verdict), and bad requests
// get their stable codes.
func TestDisputeRoutesMatchSpec(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	p := chain.DevParams()
	p.EpochSeconds = 2
	dev := chaintest.StartDev(t, "apidispute", chaintest.Options{Params: &p})
	srv := httptest.NewServer(api.New(dev.Node.RPC))
	t.Cleanup(srv.Close)
	sn := &specNode{srv: srv, c: client.New(srv.URL), signers: map[string]*client.Signer{}, params: p}
	for _, name := range chain.DevKeys {
		sn.signers[name] = sn.c.Signer(dev.Key(t, name))
	}
	ctx := context.Background()
	prov, alice, orc := sn.signers["provider"], sn.signers["alice"], sn.signers["oracle"]
	bridgeKey, err := ecdh.X25519().GenerateKey(rand.Reader)
	mustSpec(t, "bridge key", err)
	_, err = prov.RegisterProvider(ctx, market.MsgRegisterProvider{Name: "spec", Endpoint: "http://127.0.0.1:1", BridgePubKey: bridgeKey.PublicKey().Bytes()})
	mustSpec(t, "register provider", err)
	_, err = prov.Stake(ctx, 2*p.MinUnitStake)
	mustSpec(t, "stake", err)
	unit, _, err := prov.AddUnit(ctx, market.MsgAddUnit{Kind: "local", Region: "eu-central", Country: "DE", Capacity: 100 << 30,
		StoragePrice: 2_000_000, EgressPrice: 10_000, AutoAccept: true})
	mustSpec(t, "add unit", err)
	res, _, err := alice.Reserve(ctx, market.MsgReserve{Unit: unit, Bytes: 1 << 30, Term: 86400, EgressBytes: 1 << 30, MaxPrice: 2_000_000})
	mustSpec(t, "reserve", err)
	_, err = orc.RegisterOracle(ctx, 2*p.MinOracleStake)
	mustSpec(t, "register oracle", err)
	sealPub, _, err := client.SealKeyFor(dev.Key(t, "oracle"))
	mustSpec(t, "seal key", err)
	_, err = orc.RegisterSealKey(ctx, sealPub[:])
	mustSpec(t, "register seal key", err)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		panel, err := sn.c.DisputePanel(ctx, res)
		mustSpec(t, "panel", err)
		if len(panel.Oracles) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the oracle is not on %s's panel after 20 s: %+v", res, panel)
		}
	}
	sum := sha256.Sum256([]byte("x"))
	rc := &receipt.Receipt{ChainID: "apidispute", Reservation: res, Key: "k", Op: receipt.OpPut, Size: 1, ContentHash: sum[:], Time: time.Now().Unix()}
	mustSpec(t, "sign receipt", rc.Sign(dev.Key(t, "provider")))
	enc, err := rc.Encode()
	mustSpec(t, "encode receipt", err)
	opened, err := alice.OpenDispute(ctx, client.OpenDisputeRequest{Reservation: res, Kind: dispute.KindDataLoss, Receipt: enc})
	mustSpec(t, "open dispute", err)

	w := specWorld{provAddr: prov.Address(), aliceAddr: alice.Address(), orcAddr: orc.Address(), unitA: unit, resA: res}
	checkDisputeRoutes(t, sn, w, opened.ID)
	_, err = orc.DisputeVerdict(ctx, opened.ID, dispute.VerdictUpheld, "404")
	mustSpec(t, "verdict", err)
	body := sn.get(t, "/v1/disputes/{id}", pathParam("id", opened.ID), "", 200)
	if !bytes.Contains(body, []byte(`"status":"upheld"`)) || bytes.Contains(body, []byte(`"closed_at":null`)) {
		t.Errorf("decided dispute: %s", body)
	}
	checkTimes(t, "decided dispute", body, "opened_at", "deadline", "closed_at", "at")
	sn.get(t, "/v1/disputes/stats", nil, "", 200)
	checkDisputeErrors(t, sn, w)
}

func checkDisputeRoutes(t *testing.T, sn *specNode, w specWorld, id string) {
	none, pp := map[string]string(nil), pathParam
	body := sn.get(t, "/v1/disputes", none, "reservation="+w.resA+"&status=open&limit=5", 200)
	if !bytes.Contains(body, []byte(`"id":"`+id+`"`)) {
		t.Errorf("disputes of %s: %s", w.resA, body)
	}
	sn.get(t, "/v1/disputes", none, "consumer="+w.aliceAddr, 200)
	sn.get(t, "/v1/disputes", none, "provider="+w.provAddr+"&status=upheld", 200)
	body = sn.get(t, "/v1/disputes/{id}", pp("id", id), "", 200)
	if !bytes.Contains(body, []byte(`"closed_at":null`)) || !bytes.Contains(body, []byte(`"oracle":"`+w.orcAddr+`"`)) {
		t.Errorf("open dispute: %s", body)
	}
	sn.get(t, "/v1/disputes/stats", none, "", 200)
	sn.get(t, "/v1/disputes/panel", none, "reservation="+w.resA, 200)
	body = sn.get(t, "/v1/disputes/accounts/{address}", pp("address", w.aliceAddr), "", 200)
	if !bytes.Contains(body, []byte(`"opened":1`)) {
		t.Errorf("alice's counts: %s", body)
	}
	sn.get(t, "/v1/disputes/accounts/{address}", pp("address", w.orcAddr), "", 200)
	sn.get(t, "/v1/disputes/units/{id}", pp("id", w.unitA), "", 200)
}

func checkDisputeErrors(t *testing.T, sn *specNode, w specWorld) {
	none, pp := map[string]string(nil), pathParam
	errCase := sn.errCaseChecker(t)
	errCase("GET", "/v1/disputes", none, "status=pending", nil, 400, "invalid_query")
	errCase("GET", "/v1/disputes", none, "consumer=fb1nope", nil, 400, "invalid_address")
	errCase("GET", "/v1/disputes", none, "limit=101", nil, 400, "invalid_query")
	errCase("GET", "/v1/disputes/{id}", pp("id", "dsp-999"), "", nil, 404, "not_found")
	errCase("GET", "/v1/disputes/{id}", pp("id", "bogus"), "", nil, 404, "not_found")
	errCase("GET", "/v1/disputes/panel", none, "", nil, 400, "invalid_query")
	errCase("GET", "/v1/disputes/panel", none, "reservation=res-999", nil, 404, "not_found")
	errCase("GET", "/v1/disputes/accounts/{address}", pp("address", "nope"), "", nil, 400, "invalid_address")
	errCase("GET", "/v1/disputes/units/{id}", pp("id", "unit-999"), "", nil, 404, "not_found")
}
