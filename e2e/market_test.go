package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
)

// TestMarketEndToEnd runs the market on a real node through the CLI (every
// tx) and the SDK and REST API (every check): a provider registers, stakes
// and publishes a unit; a consumer takes a quote, reserves, closes early;
// the provider claims. The balances of consumer, provider and treasury must
// match the settlement arithmetic to the uflash.
func TestMarketEndToEnd(t *testing.T) {
	base := freeBase(t, 1)
	home, apiURL, c := startDevNode(t, "e2e-market", base)
	ctx := context.Background()
	defer func() {
		if t.Failed() {
			dumpLog(t, home)
		}
	}()

	fb := func(args ...string) string {
		t.Helper()
		return run(t, append(args, "--home", home)...)
	}
	fbJSON := func(v any, args ...string) {
		t.Helper()
		out := fb(append(args, "-o", "json")...)
		if err := json.Unmarshal([]byte(out), v); err != nil {
			t.Fatalf("flashback %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	balance := func(addr string) core.Amount {
		t.Helper()
		a, err := c.Account(ctx, addr)
		if err != nil {
			t.Fatal(err)
		}
		return a.Balance
	}
	supply := func() *types.SupplyView {
		t.Helper()
		s, err := c.Supply(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	params, err := c.Params(ctx)
	if err != nil {
		t.Fatal(err)
	}
	txFee, stake := params.TxFee, params.MinUnitStake
	if stake == 0 {
		stake = 1_000_000_000
	}
	alice := strings.TrimSpace(fb("keys", "show", "alice"))
	prov := strings.TrimSpace(fb("keys", "show", "provider"))
	alice0, prov0, sup0 := balance(alice), balance(prov), supply()

	// Provider: register with a random bridge key from a file, stake, add
	// a unit.
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "bridge.pub")
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		t.Fatal(err)
	}
	fb("tx", "provider", "register", "--name", "e2e storage", "--description", "test provider",
		"--website", "https://example.com", "--endpoint", "http://127.0.0.1:9000", "--bridge-key-file", keyFile, "--from", "provider")
	fb("tx", "provider", "stake", stake.String(), "--from", "provider")
	var added struct {
		Code uint32 `json:"code"`
		Unit string `json:"unit"`
	}
	fbJSON(&added, "tx", "unit", "add", "--kind", "local", "--region", "eu-central", "--country", "DE",
		"--capacity", "1TiB", "--price", "100FLASH", "--egress-price", "0.05FLASH",
		"--sla-latency-ms", "200", "--sla-uptime", "99.9", "--sla-download-mbps", "50", "--sla-error-rate", "0.1",
		"--durability", "--versioning", "--auto-accept", "--from", "provider")
	if added.Code != 0 || added.Unit == "" {
		t.Fatalf("unit add: %+v", added)
	}
	unit := added.Unit

	p, err := c.Provider(ctx, prov)
	if err != nil {
		t.Fatal(err)
	}
	if string(p.BridgePubKey) != string(key) || p.Stake != stake || p.LiveUnits != 1 || p.Name != "e2e storage" {
		t.Fatalf("provider view: %+v", p)
	}
	u, err := c.Unit(ctx, unit)
	if err != nil {
		t.Fatal(err)
	}
	wantSLA := market.SLAOffer{MaxP95LatencyMs: 200, MinUptimeBps: 9990, MinDownloadMbps: 50, MaxErrorRateBps: 10, Durability: true}
	if u.Provider != prov || u.Capacity != 1<<40 || u.StoragePrice != 100_000_000 || u.EgressPrice != 50_000 ||
		u.SLA != types.SLAOffer(wantSLA) || !u.Features.Versioning || u.Features.ObjectLock || !u.AutoAccept || u.Status != market.UnitAvailable {
		t.Fatalf("unit view: %+v", u)
	}
	if out := fb("query", "units", "--region", "eu-central", "--min-free", "100GiB", "--sort", "price"); !strings.Contains(out, unit) || !strings.Contains(out, "100 FLASH") {
		t.Fatalf("query units:\n%s", out)
	}

	// Consumer: quote (CLI and SDK agree), a reservation above max price is
	// refused with a stable code, then a reservation at the quoted price.
	const size, term, egress = "100GiB", "30d", "50GiB"
	var quote types.QuotePage
	fbJSON(&quote, "query", "quote", "--size", size, "--term", term, "--egress", egress, "--region", "eu-central")
	if len(quote.Quotes) != 1 || quote.Quotes[0].Unit != unit || quote.Bytes != 100<<30 || quote.Term != 30*86400 {
		t.Fatalf("quote: %+v", quote)
	}
	cost := quote.Quotes[0].Cost
	sdkQuote, err := c.Quote(ctx, client.QuoteRequest{Bytes: 100 << 30, Term: 30 * 86400, Egress: 50 << 30, Country: "de"})
	if err != nil || len(sdkQuote.Quotes) != 1 || sdkQuote.Quotes[0].Cost != cost {
		t.Fatalf("SDK quote %+v, err %v; CLI quote cost %+v", sdkQuote, err, cost)
	}
	if cost.Storage == 0 || cost.Egress != 50*50_000 || cost.Total != cost.Storage+cost.Egress+cost.Fee {
		t.Fatalf("quote cost: %+v", cost)
	}
	out, err := runErr("tx", "reserve", unit, "--size", size, "--term", term, "--egress", egress, "--max-price", "99FLASH", "--from", "alice", "--home", home)
	if err == nil || !strings.Contains(out, "price_too_high") {
		t.Fatalf("reserve above max price: err %v\n%s", err, out)
	}
	aliceTxs := 1 // the refused reserve still paid its tx fee
	var reserved struct {
		Code        uint32 `json:"code"`
		Reservation string `json:"reservation"`
	}
	fbJSON(&reserved, "tx", "reserve", unit, "--size", size, "--term", term, "--egress", egress, "--max-price", "100FLASH", "--from", "alice")
	aliceTxs++
	rid := reserved.Reservation
	if reserved.Code != 0 || rid == "" {
		t.Fatalf("reserve: %+v", reserved)
	}
	r, err := c.Reservation(ctx, rid)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != market.ResActive || r.Escrowed != cost.Total || r.StorageEsc+r.EgressEsc+r.EgressFeeEsc != r.Escrowed ||
		r.Consumer != alice || r.Provider != prov || r.SLA != types.SLAOffer(wantSLA) {
		t.Fatalf("reservation after reserve (quote %+v): %+v", cost, r)
	}
	if b := balance(alice); b != alice0-core.Amount(aliceTxs)*txFee-r.Escrowed {
		t.Fatalf("alice after reserve: %d, want %d - %d fees - %d escrow", b, alice0, aliceTxs, r.Escrowed)
	}
	page, err := c.Reservations(ctx, client.ReservationFilter{Consumer: alice, Status: market.ResActive})
	if err != nil || len(page.Reservations) != 1 || page.Reservations[0].ID != rid {
		t.Fatalf("reservations of alice: %+v, %v", page, err)
	}
	tooCheap := core.Amount(99_000_000)
	if units, err := c.Units(ctx, client.UnitFilter{MaxPrice: &tooCheap}); err != nil || len(units.Units) != 0 {
		t.Fatalf("units under 99 FLASH: %+v, %v", units, err)
	}
	if units, err := c.Units(ctx, client.UnitFilter{Provider: prov, Sort: "score", Page: client.Page{Limit: 1}}); err != nil ||
		len(units.Units) != 1 || units.Units[0].Reserved != 100<<30 {
		t.Fatalf("units of the provider: %+v, %v", units, err)
	}

	// Blocks pass: let a few seconds of the term accrue.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if r, err = c.Reservation(ctx, rid); err != nil {
			t.Fatal(err)
		}
		if r.AsOf >= r.Start+3 && r.Paid > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reservation did not accrue: %+v", r)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// The consumer closes early; the provider claims.
	fb("tx", "reservation", "close", rid, "--from", "alice")
	aliceTxs++
	r, err = c.Reservation(ctx, rid)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != market.ResCancelled || r.ClosedAt <= r.Start {
		t.Fatalf("reservation after close: %+v", r)
	}
	if out := fb("query", "reservation", rid); !strings.Contains(out, "cancelled") {
		t.Fatalf("query reservation:\n%s", out)
	}
	before, err := c.Unit(ctx, unit)
	if err != nil {
		t.Fatal(err)
	}
	fb("tx", "provider", "claim", "--unit", unit, "--from", "provider")
	provTxs := 4 // register, stake, unit add, claim

	// The arithmetic, from the reservation's own fields and the params.
	// Storage accrues price x bytes x seconds (price-byte-seconds); one
	// uflash of provider revenue is GiB x 30 days of them; the consumer
	// pays that plus fee_bps, rounded up; the provider and the treasury
	// get floors; the escrow keeps the rounding.
	if r.FeeBps != params.FeeBps && params.FeeBps != 0 {
		t.Fatalf("reservation fee_bps %d, params %d", r.FeeBps, params.FeeBps)
	}
	pbs := new(big.Int).Mul(new(big.Int).SetUint64(uint64(r.StoragePrice)), new(big.Int).SetUint64(r.Bytes))
	pbs.Mul(pbs, big.NewInt(int64(r.ClosedAt-r.Start)))
	if pbs.String() != r.PaidPBS {
		t.Fatalf("paid_pbs %s, want price x bytes x %ds = %s", r.PaidPBS, r.ClosedAt-r.Start, pbs)
	}
	perUflash := new(big.Int).Mul(big.NewInt(1<<30), big.NewInt(market.MonthSeconds))
	perUflashBps := new(big.Int).Mul(perUflash, big.NewInt(market.BpsDenom))
	ceilDiv := func(a, b *big.Int) core.Amount {
		q, m := new(big.Int).QuoRem(a, b, new(big.Int))
		if m.Sign() > 0 {
			q.Add(q, big.NewInt(1))
		}
		return core.Amount(q.Uint64())
	}
	charge := ceilDiv(new(big.Int).Mul(pbs, big.NewInt(int64(market.BpsDenom+r.FeeBps))), perUflashBps)
	provNet := core.Amount(new(big.Int).Quo(pbs, perUflash).Uint64())
	treasuryFee := core.Amount(new(big.Int).Quo(new(big.Int).Mul(pbs, big.NewInt(int64(r.FeeBps))), perUflashBps).Uint64())
	if charge == 0 || provNet == 0 || treasuryFee == 0 {
		t.Fatalf("nothing was paid: charge %d, provider %d, fee %d (%d s)", charge, provNet, treasuryFee, r.ClosedAt-r.Start)
	}
	if r.StoragePaid != charge || r.Paid != charge || r.Refunded != r.Escrowed-charge || r.RemainingEscrow != 0 {
		t.Fatalf("reservation after close: storage_paid %d paid %d refunded %d remaining %d; want charge %d, refund %d",
			r.StoragePaid, r.Paid, r.Refunded, r.RemainingEscrow, charge, r.Escrowed-charge)
	}
	if before.Claimable != provNet {
		t.Fatalf("unit claimable %d before the claim, want %d", before.Claimable, provNet)
	}
	sup1 := supply()
	pool := func(s *types.SupplyView, name string) core.Amount { return s.Pools[name] }
	checks := []struct {
		what      string
		got, want core.Amount
	}{
		{"consumer balance", balance(alice), alice0 - core.Amount(aliceTxs)*txFee - charge},
		{"provider balance", balance(prov), prov0 - core.Amount(provTxs)*txFee - stake + provNet},
		{"treasury pool", pool(sup1, bank.PoolTreasury), pool(sup0, bank.PoolTreasury) + treasuryFee},
		{"escrow pool (rounding kept)", pool(sup1, bank.PoolEscrow), pool(sup0, bank.PoolEscrow) + charge - provNet - treasuryFee},
		{"stake pool", pool(sup1, bank.PoolStake), pool(sup0, bank.PoolStake) + stake},
		{"fees pool", pool(sup1, bank.PoolFees), pool(sup0, bank.PoolFees) + core.Amount(aliceTxs+provTxs)*txFee},
		{"supply", sup1.Supply, sup0.Supply},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s: %d, want %d", ck.what, ck.got, ck.want)
		}
	}
	if rest := charge - provNet - treasuryFee; rest > 2 {
		t.Errorf("escrow kept %d uflash of rounding, want at most 2", rest)
	}
	t.Logf("%ds active: consumer paid %s, provider got %s, treasury %s, refund %s",
		r.ClosedAt-r.Start, client.FormatAmount(charge), client.FormatAmount(provNet), client.FormatAmount(treasuryFee), client.FormatAmount(r.Refunded))

	// REST error paths: problem documents with stable codes.
	for _, tc := range []struct {
		path   string
		status int
		code   string
	}{
		{"/v1/units/unit-999", 404, "not_found"},
		{"/v1/units/bogus", 404, "not_found"},
		{"/v1/reservations/res-999", 404, "not_found"},
		{"/v1/providers/" + alice, 404, "not_found"},
		{"/v1/units?sort=latency", 400, "invalid_query"},
		{"/v1/units?regoin=eu-central", 400, "invalid_query"},
		{"/v1/units?min_free=lots", 400, "invalid_query"},
		{"/v1/units?limit=0", 400, "invalid_query"},
		{"/v1/reservations?consumer=fb1nope", 400, "invalid_address"},
		{"/v1/quote?term=30d", 400, "invalid_query"},
	} {
		checkProblem(t, apiURL+tc.path, tc.status, tc.code)
	}
	if _, err := c.Reservation(ctx, "res-999"); client.CodeOf(err) != "not_found" {
		t.Errorf("SDK Reservation(res-999): %v", err)
	}
	if out, err := runErr("query", "unit", "unit-999", "--home", home); err == nil || !strings.Contains(out, "not_found") {
		t.Errorf("query unit unit-999: err %v\n%s", err, out)
	}
}

func checkProblem(t *testing.T, url string, status int, code string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var eb types.ErrorBody
	decErr := json.NewDecoder(resp.Body).Decode(&eb)
	if resp.StatusCode != status || resp.Header.Get("Content-Type") != "application/problem+json" || decErr != nil ||
		eb.Code != code || eb.Status != status || eb.Detail == "" {
		t.Errorf("GET %s: %d %s %+v (decode %v); want %d %s", url, resp.StatusCode, resp.Header.Get("Content-Type"), eb, decErr, status, code)
	}
}

// TestMarketLifecycleCLI drives the rest of the market commands: provider
// update, a unit that needs acceptance, reject and accept, top-up, extend,
// resize, maintenance, decommission and delete, unstake and deregister.
func TestMarketLifecycleCLI(t *testing.T) {
	base := freeBase(t, 1)
	home, _, c := startDevNode(t, "e2e-market-cli", base)
	ctx := context.Background()
	defer func() {
		if t.Failed() {
			dumpLog(t, home)
		}
	}()
	fb := func(args ...string) string {
		t.Helper()
		return run(t, append(args, "--home", home)...)
	}
	fails := func(code string, args ...string) {
		t.Helper()
		out, err := runErr(append(args, "--home", home)...)
		if err == nil || !strings.Contains(out, code) {
			t.Fatalf("flashback %s: want %s, got err %v\n%s", strings.Join(args, " "), code, err, out)
		}
	}
	res := func(id string) *types.ReservationView {
		t.Helper()
		r, err := c.Reservation(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	unitView := func(id string) *types.UnitView {
		t.Helper()
		u, err := c.Unit(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	reservedID := func(out string) string { t.Helper(); return jsonString(t, out, "reservation") }
	prov := strings.TrimSpace(fb("keys", "show", "provider"))
	bob := strings.TrimSpace(fb("keys", "show", "bob"))
	params, err := c.Params(ctx)
	if err != nil {
		t.Fatal(err)
	}

	key := make([]byte, 32)
	_, _ = rand.Read(key)
	fb("tx", "provider", "register", "--name", "p", "--endpoint", "https://bridge.example", "--bridge-pubkey", base64.StdEncoding.EncodeToString(key), "--from", "provider")
	fb("tx", "provider", "update", "--description", "now with a description", "--from", "provider")
	fb("tx", "provider", "stake", "2000FLASH", "--from", "provider")
	if p, err := c.Provider(ctx, prov); err != nil || p.Description != "now with a description" || p.Name != "p" || p.Stake != 2_000_000_000 {
		t.Fatalf("provider: %+v, %v", p, err)
	}
	out := fb("tx", "unit", "add", "--kind", "s3", "--region", "us-east", "--country", "US", "--capacity", "10GiB",
		"--price", "1.5FLASH", "--sla-latency-ms", "100", "--from", "provider")
	unit := strings.TrimSpace(out[strings.Index(out, "unit: ")+len("unit: "):])
	fb("tx", "unit", "update", unit, "--price", "2FLASH", "--sla-uptime", "99.5", "--encryption", "--from", "provider")
	if u := unitView(unit); u.StoragePrice != 2_000_000 || u.SLA.MinUptimeBps != 9950 || u.SLA.MaxP95LatencyMs != 100 || !u.Features.EncryptionAtRest || u.AutoAccept {
		t.Fatalf("unit after update: %+v", u)
	}

	// Not auto-accepting: the reservation waits; a rejection refunds all.
	bob0 := mustBalance(t, c, bob)
	rid := reservedID(fb("tx", "reserve", unit, "--size", "1GiB", "--term", "1h", "--from", "bob", "-o", "json"))
	if r := res(rid); r.Status != market.ResPending || r.StoragePrice != 2_000_000 {
		t.Fatalf("reservation: %+v", r)
	}
	fails("unauthorized", "tx", "reservation", "accept", rid, "--from", "bob")
	fb("tx", "reservation", "reject", rid, "--from", "provider")
	if r := res(rid); r.Status != market.ResRejected || r.Refunded != r.Escrowed {
		t.Fatalf("rejected reservation: %+v", r)
	}
	if b := mustBalance(t, c, bob); b != bob0-2*params.TxFee { // reserve, refused accept
		t.Fatalf("bob after reject: %d, want %d (fees only)", b, bob0-2*params.TxFee)
	}

	rid = reservedID(fb("tx", "reserve", unit, "--size", "1GiB", "--term", "1h", "--egress", "1GiB", "--max-price", "2000000", "--from", "bob", "-o", "json"))
	fb("tx", "reservation", "accept", rid, "--from", "provider")
	fb("tx", "reservation", "topup", rid, "--egress", "1GiB", "--from", "bob")
	fb("tx", "reservation", "extend", rid, "--term", "1h", "--from", "bob")
	fb("tx", "reservation", "resize", rid, "--size", "2GiB", "--from", "bob")
	if r := res(rid); r.Status != market.ResActive || r.EgressBytes != 2<<30 || r.Term != 7200 || r.Bytes != 2<<30 || r.End != r.Start+7200 {
		t.Fatalf("reservation after topup, extend, resize: %+v", r)
	}
	fails("no_capacity", "tx", "reservation", "resize", rid, "--size", "11GiB", "--from", "bob")
	if out := fb("query", "reservations", "--unit", unit, "--status", "active"); !strings.Contains(out, rid) || !strings.Contains(out, "2 GiB") {
		t.Fatalf("query reservations:\n%s", out)
	}

	// Maintenance, decommission, delete.
	fb("tx", "unit", "maintenance", unit, "start", "--until", "+1h", "--from", "provider")
	if u := unitView(unit); u.Status != market.UnitMaintenance || u.Maintenance == nil {
		t.Fatalf("unit in maintenance: %+v", u)
	}
	fails("wrong_state", "tx", "reserve", unit, "--size", "1GiB", "--term", "1h", "--from", "alice")
	fb("tx", "unit", "maintenance", unit, "end", "--from", "provider")
	fb("tx", "unit", "maintenance", unit, "announce", "--from-time", "+1h", "--until", "+2h", "--from", "provider")
	if u := unitView(unit); u.Status != market.UnitAvailable || u.Maintenance == nil || u.Maintenance.End-u.Maintenance.Start != 3600 {
		t.Fatalf("unit after announce: %+v", u)
	}
	fb("tx", "unit", "decommission", unit, "--from", "provider")
	fails("wrong_state", "tx", "unit", "delete", unit, "--from", "provider")
	fb("tx", "reservation", "close", rid, "--from", "bob")
	fb("tx", "unit", "delete", unit, "--from", "provider")
	if u := unitView(unit); u.Status != market.UnitDeleted {
		t.Fatalf("unit after delete: %+v", u)
	}

	// Stake out and retire.
	fb("tx", "provider", "unstake", "500FLASH", "--from", "provider")
	fb("tx", "provider", "deregister", "--from", "provider")
	p, err := c.Provider(ctx, prov)
	if err != nil || !p.Deregistered || p.Stake != 0 || p.UnbondingTotal != 2_000_000_000 || len(p.Unbonding) != 2 {
		t.Fatalf("provider after deregister: %+v, %v", p, err)
	}
	if out := fb("query", "providers"); strings.Contains(out, prov) {
		t.Fatalf("deregistered provider listed:\n%s", out)
	}
	if out := fb("query", "providers", "--all"); !strings.Contains(out, prov) || !strings.Contains(out, "deregistered") {
		t.Fatalf("query providers --all:\n%s", out)
	}
	if out := fb("query", "provider", prov); !strings.Contains(out, "unbonding:") {
		t.Fatalf("query provider:\n%s", out)
	}
}

func mustBalance(t *testing.T, c *client.Client, addr string) core.Amount {
	t.Helper()
	a, err := c.Account(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	return a.Balance
}
