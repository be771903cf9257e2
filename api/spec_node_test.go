package api_test

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/flashback-network/flashback/api"
	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/chain"
	"github.com/flashback-network/flashback/chain/chaintest"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/accesskey"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/params"
	"github.com/flashback-network/flashback/contract/qos"
)

// specNode is a real in-process node with the REST API in front of it.
type specNode struct {
	srv     *httptest.Server
	c       *client.Client
	signers map[string]*client.Signer
	params  params.Params
}

func startSpecNode(t *testing.T) *specNode {
	t.Helper()
	p := chain.DevParams()
	p.EpochSeconds = 2
	dev := chaintest.StartDev(t, "apispec", chaintest.Options{Params: &p})
	srv := httptest.NewServer(api.New(dev.Node.RPC))
	t.Cleanup(srv.Close)
	sn := &specNode{srv: srv, c: client.New(srv.URL), signers: map[string]*client.Signer{}, params: p}
	for _, name := range chain.DevKeys {
		sn.signers[name] = sn.c.Signer(dev.Key(t, name))
	}
	return sn
}

// call sends a request and checks the request and the response against
// openapi.json with openapi3filter: status, content type and body shape.
func (sn *specNode) call(t *testing.T, method, template string, pathParams map[string]string, query string, body []byte) (int, []byte) {
	t.Helper()
	route := api.SpecRoute(method, template)
	if route == nil {
		t.Fatalf("%s %s is not in openapi.json", method, template)
	}
	path := template
	for k, v := range pathParams {
		path = strings.ReplaceAll(path, "{"+k+"}", v)
	}
	url := sn.srv.URL + path
	if query != "" {
		url += "?" + query
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	// Validate against a fresh copy of the request (its body was sent).
	vreq, _ := http.NewRequest(method, url, nil)
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: pathParams, Route: route,
		Options: &openapi3filter.Options{ExcludeRequestBody: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(got)), Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("%s %s -> %d %s disagrees with openapi.json: %v\nbody: %.2000s", method, path+"?"+query, resp.StatusCode, resp.Header.Get("Content-Type"), err, got)
	}
	return resp.StatusCode, got
}

func (sn *specNode) get(t *testing.T, template string, pp map[string]string, query string, want int) []byte {
	t.Helper()
	st, body := sn.call(t, "GET", template, pp, query, nil)
	if st != want {
		t.Errorf("GET %s %v ?%s: status %d, want %d: %s", template, pp, query, st, want, body)
	}
	return body
}

var rfc3339UTC = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$`)

// checkTimes fails unless every named field found anywhere in body is an
// RFC 3339 UTC string (or null where allowed).
func checkTimes(t *testing.T, what string, body []byte, fields ...string) {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	want := map[string]bool{}
	for _, f := range fields {
		want[f] = true
	}
	seen := map[string]bool{}
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			for k, v := range x {
				if want[k] {
					if s, ok := v.(string); ok && rfc3339UTC.MatchString(s) {
						seen[k] = true
					} else if v != nil {
						t.Errorf("%s: %s is %v (%T), want an RFC 3339 UTC string", what, k, v, v)
					}
				}
				walk(v)
			}
		case []any:
			for _, v := range x {
				walk(v)
			}
		}
	}
	walk(v)
	for _, f := range fields {
		if !seen[f] {
			t.Errorf("%s: no %s time in %.1500s", what, f, body)
		}
	}
}

// specWorld is the state TestEveryRouteMatchesSpec builds on its node, for
// the routes to find: a provider with two units (one auto-accepting, one with
// a maintenance window), an active and a pending reservation, an access key
// and an oracle.
type specWorld struct {
	unitA, unitB                 string // auto-accepting; with maintenance announced
	resA, resB                   string // active on unitA; pending on unitB
	keyID                        string // an access key of resA
	provAddr, aliceAddr, orcAddr string
}

func mustSpec(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// TestEveryRouteMatchesSpec runs a real node with a provider, units, a
// pending and an active reservation, an access key and an oracle that
// reported an epoch, calls every route (successes and errors) and validates
// each response against openapi.json, so the server and the spec cannot
// disagree about shapes, status codes or content types.
func TestEveryRouteMatchesSpec(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	sn := startSpecNode(t)
	w := populateSpecNode(t, sn)
	reportOneSpecEpoch(t, sn, w.unitA)

	// ---- successes, with times as RFC 3339 ----
	checkSpecNodeRoutes(t, sn, w)
	checkSpecMarketRoutes(t, sn, w)
	txBody := checkSpecTxRoutes(t, sn)

	// ---- errors, with their stable codes ----
	checkSpecNodeErrors(t, sn, w)
	checkSpecMarketErrors(t, sn, w, txBody)
}

// populateSpecNode submits the txs that build the specWorld.
func populateSpecNode(t *testing.T, sn *specNode) specWorld {
	ctx := context.Background()
	prov, alice, orc := sn.signers["provider"], sn.signers["alice"], sn.signers["oracle"]
	p := sn.params
	bridgeKey, err := ecdh.X25519().GenerateKey(rand.Reader)
	mustSpec(t, "bridge key", err)
	_, err = prov.RegisterProvider(ctx, market.MsgRegisterProvider{Name: "spec", Endpoint: "http://127.0.0.1:1", BridgePubKey: bridgeKey.PublicKey().Bytes()})
	mustSpec(t, "register provider", err)
	_, err = prov.Stake(ctx, 2*p.MinUnitStake+1_000_000)
	mustSpec(t, "stake", err)
	_, err = prov.Unstake(ctx, 1_000_000) // an unbonding entry
	mustSpec(t, "unstake", err)
	addUnit := func(auto bool) string {
		id, _, err := prov.AddUnit(ctx, market.MsgAddUnit{Kind: "local", Region: "eu-central", Country: "DE", Capacity: 100 << 30,
			StoragePrice: 2_000_000, EgressPrice: 10_000, AutoAccept: auto, SLA: market.SLAOffer{MaxP95LatencyMs: 1000}})
		mustSpec(t, "add unit", err)
		return id
	}
	w := specWorld{provAddr: prov.Address(), aliceAddr: alice.Address(), orcAddr: orc.Address()}
	w.unitA, w.unitB = addUnit(true), addUnit(false)
	st, err := sn.c.Status(ctx)
	mustSpec(t, "status", err)
	now := st.LatestBlockTime.Unix()
	_, err = prov.UnitMaintenance(ctx, market.MsgUnitMaintenance{Unit: w.unitB, Action: market.MaintenanceAnnounce, WindowStart: now + 3600, WindowEnd: now + 7200})
	mustSpec(t, "announce maintenance", err)
	w.resA, _, err = alice.Reserve(ctx, market.MsgReserve{Unit: w.unitA, Bytes: 1 << 30, Term: 86400, EgressBytes: 1 << 30, MaxPrice: 2_000_000})
	mustSpec(t, "reserve", err)
	w.resB, _, err = alice.Reserve(ctx, market.MsgReserve{Unit: w.unitB, Bytes: 1 << 30, Term: 86400, MaxPrice: 2_000_000})
	mustSpec(t, "reserve pending", err)
	key, err := alice.CreateAccessKey(ctx, w.resA, accesskey.PermWrite)
	mustSpec(t, "access key", err)
	w.keyID = key.AccessKeyID
	_, err = orc.RegisterOracle(ctx, p.MinOracleStake)
	mustSpec(t, "register oracle", err)
	return w
}

// reportOneSpecEpoch has the oracle report unit for the first epoch after
// the unit was created (within 30 s), then waits for it to be processed.
func reportOneSpecEpoch(t *testing.T, sn *specNode, unit string) {
	ctx := context.Background()
	orc, p := sn.signers["oracle"], sn.params
	u, err := sn.c.Unit(ctx, unit)
	mustSpec(t, "unit", err)
	created := u.CreatedAt.Unix() / p.EpochSeconds
	reported := false
	for deadline := time.Now().Add(30 * time.Second); !reported && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		st, err := sn.c.Status(ctx)
		mustSpec(t, "status", err)
		e := st.LatestBlockTime.Unix()/p.EpochSeconds - 1
		if e <= created {
			continue
		}
		_, err = orc.Report(ctx, qos.MsgReport{Epoch: e, Units: []qos.UnitMeasurement{
			{Unit: unit, Probes: 5, Successes: 5, P50Ms: 2, P95Ms: 3, DownMbps: 100, UpMbps: 50, IntegrityPassed: 1}}})
		if client.IsCode(err, core.CodeLateReport) {
			continue
		}
		mustSpec(t, "report", err)
		reported = true
	}
	if !reported {
		t.Fatal("no QoS report went in within 30s")
	}
	time.Sleep(time.Duration(2*p.EpochSeconds) * time.Second) // let the reported epoch be processed
}

// pathParam builds the path parameters of a route call.
func pathParam(k, v string) map[string]string { return map[string]string{k: v} }

// checkSpecNodeRoutes calls the node, account and provider routes.
func checkSpecNodeRoutes(t *testing.T, sn *specNode, w specWorld) {
	none, id := map[string]string(nil), pathParam
	sn.get(t, "/healthz", none, "", 200)
	sn.get(t, "/openapi.json", none, "", 200)
	sn.get(t, "/v1/status", none, "", 200)
	sn.get(t, "/v1/blocks/{height}", id("height", "1"), "", 200)
	sn.get(t, "/v1/accounts/{address}", id("address", w.aliceAddr), "", 200)
	sn.get(t, "/v1/params", none, "", 200)
	sn.get(t, "/v1/supply", none, "", 200)
	body := sn.get(t, "/v1/providers", none, "limit=5&all=true", 200)
	checkTimes(t, "providers", body, "registered_at", "updated_at", "release_at")
	body = sn.get(t, "/v1/providers/{address}", id("address", w.provAddr), "", 200)
	checkTimes(t, "provider", body, "registered_at", "updated_at", "release_at")
	sn.get(t, "/v1/providers/{address}/score", id("address", w.provAddr), "", 200)
	body = sn.get(t, "/v1/providers/{address}/changes", id("address", w.provAddr), "since=0", 200)
	if !bytes.Contains(body, []byte(`"gap":true`)) {
		t.Errorf("changes since 0: want gap true: %s", body)
	}
	sn.get(t, "/v1/providers/{address}/changes", id("address", w.provAddr), "since=1", 200)
}

// checkSpecMarketRoutes calls the unit, reservation, stats, oracle and
// access key routes.
func checkSpecMarketRoutes(t *testing.T, sn *specNode, w specWorld) {
	none, id := map[string]string(nil), pathParam
	body := sn.get(t, "/v1/units", none, "region=eu-central&min_free=1GiB&sort=price&limit=10", 200)
	checkTimes(t, "units", body, "created_at", "updated_at", "accrued_to", "start", "end")
	body = sn.get(t, "/v1/units/{id}", id("id", w.unitB), "", 200)
	checkTimes(t, "unit with a maintenance window", body, "created_at", "updated_at", "start", "end")
	body = sn.get(t, "/v1/units/{id}/qos", id("id", w.unitA), "", 200)
	var q types.UnitQoSView
	mustSpec(t, "unit qos", json.Unmarshal(body, &q))
	if len(q.History) == 0 {
		t.Errorf("unit %s has no QoS history after a report: %s", w.unitA, body)
	}
	body = sn.get(t, "/v1/units/{id}/qos", id("id", w.unitB), "", 200)
	checkTimes(t, "unit qos maintenance log", body, "announced_at", "start", "end")
	body = sn.get(t, "/v1/reservations", none, "consumer="+w.aliceAddr+"&limit=10", 200)
	checkTimes(t, "reservations", body, "created_at", "start", "end", "settled_to", "as_of", "accept_by")
	body = sn.get(t, "/v1/reservations/{id}", id("id", w.resB), "", 200)
	if !bytes.Contains(body, []byte(`"start":null`)) || !bytes.Contains(body, []byte(`"accept_by":"`)) {
		t.Errorf("pending reservation: want start null and accept_by a time: %s", body)
	}
	sn.get(t, "/v1/reservations/{id}", id("id", w.resA), "", 200)
	sn.get(t, "/v1/quote", none, "bytes=10GiB&term=30d&egress=1GiB", 200)
	body = sn.get(t, "/v1/stats", none, "", 200)
	checkTimes(t, "stats", body, "as_of")
	body = sn.get(t, "/v1/stats/epochs", none, "", 200)
	checkTimes(t, "epoch stats", body, "time")
	body = sn.get(t, "/v1/oracles", none, "all=true", 200)
	checkTimes(t, "oracles", body, "registered_at", "updated_at")
	sn.get(t, "/v1/oracles/{address}", id("address", w.orcAddr), "", 200)
	body = sn.get(t, "/v1/oracles/{address}/assignments", id("address", w.orcAddr), "epoch=0&limit=5", 200)
	if !bytes.Contains(body, []byte(`"epoch":0`)) {
		t.Errorf("assignments for epoch 0: %s", body)
	}
	body = sn.get(t, "/v1/units/{id}/oracles", id("id", w.unitA), "", 200)
	if !bytes.Contains(body, []byte(`"unit":"`+w.unitA+`"`)) {
		t.Errorf("unit oracles: %s", body)
	}
	body = sn.get(t, "/v1/accesskeys", none, "reservation="+w.resA, 200)
	checkTimes(t, "access keys", body, "created_at")
	sn.get(t, "/v1/accesskeys", none, "provider="+w.provAddr, 200)
	sn.get(t, "/v1/accesskeys/{id}", id("id", w.keyID), "", 200)
}

// checkSpecTxRoutes sends a tx through POST /v1/txs, then GETs
// /v1/txs/{hash}; it returns the request body, for the replay error case.
func checkSpecTxRoutes(t *testing.T, sn *specNode) []byte {
	ctx := context.Background()
	none, id := map[string]string(nil), pathParam
	raw, err := sn.signers["alice"].Sign(ctx, "spec", &bank.MsgSend{To: sn.signers["bob"].Address(), Amount: 1})
	mustSpec(t, "sign", err)
	txBody, _ := json.Marshal(types.TxRequest{Tx: raw})
	status, got := sn.call(t, "POST", "/v1/txs", none, "", txBody)
	var tr types.TxResult
	if status != 200 || json.Unmarshal(got, &tr) != nil || tr.Code != 0 {
		t.Fatalf("POST /v1/txs: %d %s", status, got)
	}
	sn.get(t, "/v1/txs/{hash}", id("hash", tr.Hash), "", 200)
	// The same tx again: its committed result, not an error.
	status, got = sn.call(t, "POST", "/v1/txs", none, "", txBody)
	var again types.TxResult
	if status != 200 || json.Unmarshal(got, &again) != nil || again.Hash != tr.Hash || again.Height != tr.Height {
		t.Fatalf("POST /v1/txs of a committed tx again: %d %s, first %+v", status, got, tr)
	}
	return txBody
}

// errCaseChecker returns a function that calls a route and checks it fails
// with status and code.
func (sn *specNode) errCaseChecker(t *testing.T) func(method, template string, pp map[string]string, query string, body []byte, status int, code string) {
	return func(method, template string, pp map[string]string, query string, body []byte, status int, code string) {
		t.Helper()
		st, got := sn.call(t, method, template, pp, query, body)
		var pb types.ErrorBody
		if st != status || json.Unmarshal(got, &pb) != nil || pb.Code != code {
			t.Errorf("%s %s %v ?%s: %d %s, want %d %s", method, template, pp, query, st, got, status, code)
		}
	}
}

// checkSpecNodeErrors checks the errors of the block, account, tx and
// provider routes.
func checkSpecNodeErrors(t *testing.T, sn *specNode, w specWorld) {
	none, id := map[string]string(nil), pathParam
	errCase := sn.errCaseChecker(t)
	errCase("GET", "/v1/blocks/{height}", id("height", "0"), "", nil, 400, "invalid_query")
	errCase("GET", "/v1/blocks/{height}", id("height", "tall"), "", nil, 400, "invalid_query")
	errCase("GET", "/v1/blocks/{height}", id("height", "999999999"), "", nil, 404, "not_found")
	errCase("GET", "/v1/accounts/{address}", id("address", "fb1nope"), "", nil, 400, "invalid_address")
	errCase("GET", "/v1/txs/{hash}", id("hash", "zz"), "", nil, 400, "invalid_query")
	errCase("GET", "/v1/txs/{hash}", id("hash", strings.Repeat("AB", 32)), "", nil, 404, "not_found")
	errCase("GET", "/v1/providers", none, "limit=0", nil, 400, "invalid_query")
	errCase("GET", "/v1/providers", none, "limit=101", nil, 400, "invalid_query")
	errCase("GET", "/v1/providers", none, "all=maybe", nil, 400, "invalid_query")
	errCase("GET", "/v1/providers", none, "colour=blue", nil, 400, "invalid_query")
	errCase("GET", "/v1/providers/{address}", id("address", "nope"), "", nil, 400, "invalid_address")
	errCase("GET", "/v1/providers/{address}", id("address", w.aliceAddr), "", nil, 404, "not_found")
	errCase("GET", "/v1/providers/{address}/score", id("address", "nope"), "", nil, 400, "invalid_address")
	errCase("GET", "/v1/providers/{address}/changes", id("address", "nope"), "since=1", nil, 400, "invalid_address")
	errCase("GET", "/v1/providers/{address}/changes", id("address", w.provAddr), "", nil, 400, "invalid_query")
	errCase("GET", "/v1/providers/{address}/changes", id("address", w.provAddr), "since=-1", nil, 400, "invalid_query")
}

// checkSpecMarketErrors checks the errors of the unit, reservation, quote,
// stats, oracle, access key and tx submission routes.
func checkSpecMarketErrors(t *testing.T, sn *specNode, w specWorld, txBody []byte) {
	none, id := map[string]string(nil), pathParam
	errCase := sn.errCaseChecker(t)
	errCase("GET", "/v1/units", none, "kind=floppy", nil, 400, "invalid_query")
	errCase("GET", "/v1/units", none, "min_score=101", nil, 400, "invalid_query")
	errCase("GET", "/v1/units", none, "provider=fb1nope", nil, 400, "invalid_address")
	errCase("GET", "/v1/units/{id}", id("id", "unit-999"), "", nil, 404, "not_found")
	errCase("GET", "/v1/units/{id}", id("id", "bogus"), "", nil, 404, "not_found")
	errCase("GET", "/v1/units/{id}/qos", id("id", "bogus"), "", nil, 404, "not_found")
	errCase("GET", "/v1/units/{id}/qos", id("id", w.unitA), "from=-1", nil, 400, "invalid_query")
	errCase("GET", "/v1/reservations", none, "status=dormant", nil, 400, "invalid_query")
	errCase("GET", "/v1/reservations", none, "consumer=nobody", nil, 400, "invalid_address")
	errCase("GET", "/v1/reservations/{id}", id("id", "res-999"), "", nil, 404, "not_found")
	errCase("GET", "/v1/quote", none, "term=30d", nil, 400, "invalid_query")
	errCase("GET", "/v1/stats/epochs", none, "from=x", nil, 400, "invalid_query")
	errCase("GET", "/v1/oracles/{address}", id("address", "nope"), "", nil, 400, "invalid_address")
	errCase("GET", "/v1/oracles/{address}", id("address", w.aliceAddr), "", nil, 404, "not_found")
	errCase("GET", "/v1/oracles/{address}/assignments", id("address", "nope"), "", nil, 400, "invalid_address")
	errCase("GET", "/v1/oracles/{address}/assignments", id("address", w.orcAddr), "epoch=-1", nil, 400, "invalid_query")
	errCase("GET", "/v1/units/{id}/oracles", id("id", "bogus"), "", nil, 404, "not_found")
	errCase("GET", "/v1/units/{id}/oracles", id("id", w.unitA), "epoch=x", nil, 400, "invalid_query")
	errCase("GET", "/v1/accesskeys", none, "", nil, 400, "invalid_query")
	errCase("GET", "/v1/accesskeys/{id}", id("id", "NOSUCHKEY0000000"), "", nil, 404, "not_found")
	errCase("POST", "/v1/txs", none, "", []byte(`{"tx": 5}`), 400, "invalid_request")
	errCase("POST", "/v1/txs", none, "", []byte(`{"wait": true}`), 400, "invalid_request")
	errCase("POST", "/v1/txs", none, "", []byte(`not json`), 400, "invalid_request")
	errCase("POST", "/v1/txs", none, "", []byte(`{"tx": "AAAA", "wait": "yes"}`), 400, "invalid_request")
}
