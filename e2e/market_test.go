package e2e

import (
	"context"
	"crypto/rand"
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
	m := startMarketScenario(t)
	m.publishUnit()
	m.checkProviderAndUnit()
	m.quote()
	m.reserve()
	m.checkListings()
	m.awaitAccrual()
	m.closeAndClaim()
	m.checkSettlement(m.expectedSettlement())
	m.checkErrors()
}

// marketScenario is TestMarketEndToEnd's node and what its steps learn, in
// the order they fill it in.
type marketScenario struct {
	fb            func(args ...string) string // the CLI on home
	t             *testing.T
	ctx           context.Context
	home, apiURL  string
	c             *client.Client
	params        *types.Params
	txFee, stake  core.Amount
	alice, prov   string
	alice0, prov0 core.Amount // balances before the test's txs
	sup0          *types.SupplyView
	key           []byte // the provider's bridge key
	unit          string
	wantSLA       market.SLAOffer
	cost          types.Cost // the quote's
	rid           string
	r             *types.ReservationView // latest view of rid
	before        *types.UnitView        // the unit before the provider's claim
	aliceTxs      int                    // fee-paying txs of each
	provTxs       int
}

func startMarketScenario(t *testing.T) *marketScenario {
	base := freeBase(t, 1)
	m := &marketScenario{t: t, ctx: context.Background()}
	m.home, m.apiURL, m.c = startDevNode(t, "e2e-market", base)
	m.fb = homeCLI(t, m.home)
	t.Cleanup(func() {
		if t.Failed() {
			dumpLog(t, m.home)
		}
	})
	var err error
	if m.params, err = m.c.Params(m.ctx); err != nil {
		t.Fatal(err)
	}
	m.txFee, m.stake = m.params.TxFee, m.params.MinUnitStake
	if m.stake == 0 {
		m.stake = 1_000_000_000
	}
	m.alice = strings.TrimSpace(m.fb("keys", "show", "alice"))
	m.prov = strings.TrimSpace(m.fb("keys", "show", "provider"))
	m.alice0, m.prov0, m.sup0 = mustBalance(t, m.c, m.alice), mustBalance(t, m.c, m.prov), m.supply()
	return m
}

// fbJSON runs the CLI with `-o json` and decodes its output into v.
func (m *marketScenario) fbJSON(v any, args ...string) {
	m.t.Helper()
	out := m.fb(append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		m.t.Fatalf("flashback %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (m *marketScenario) supply() *types.SupplyView {
	m.t.Helper()
	s, err := m.c.Supply(m.ctx)
	if err != nil {
		m.t.Fatal(err)
	}
	return s
}

// publishUnit: the provider registers with a random bridge key from a
// file, stakes, adds a unit.
func (m *marketScenario) publishUnit() {
	t, fb := m.t, m.fb
	m.key = make([]byte, 32)
	if _, err := rand.Read(m.key); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "bridge.pub")
	if err := os.WriteFile(keyFile, m.key, 0o600); err != nil {
		t.Fatal(err)
	}
	fb("tx", "provider", "register", "--name", "e2e storage", "--description", "test provider",
		"--website", "https://example.com", "--endpoint", "http://127.0.0.1:9000", "--bridge-key-file", keyFile, "--from", "provider")
	fb("tx", "provider", "stake", m.stake.String(), "--from", "provider")
	var added struct {
		Code uint32 `json:"code"`
		Unit string `json:"unit"`
	}
	m.fbJSON(&added, "tx", "unit", "add", "--kind", "local", "--region", "eu-central", "--country", "DE",
		"--capacity", "1TiB", "--price", "100FLASH", "--egress-price", "0.05FLASH",
		"--sla-latency-ms", "200", "--sla-uptime", "99.9", "--sla-download-mbps", "50", "--sla-error-rate", "0.1",
		"--durability", "--versioning", "--auto-accept", "--from", "provider")
	if added.Code != 0 || added.Unit == "" {
		t.Fatalf("unit add: %+v", added)
	}
	m.unit = added.Unit
	m.provTxs = 3 // register, stake, unit add
}

// checkProviderAndUnit checks the provider and unit views and the units
// query show what was published.
func (m *marketScenario) checkProviderAndUnit() {
	t, c, ctx, unit := m.t, m.c, m.ctx, m.unit
	p, err := c.Provider(ctx, m.prov)
	if err != nil {
		t.Fatal(err)
	}
	if string(p.BridgePubKey) != string(m.key) || p.Stake != m.stake || p.LiveUnits != 1 || p.Name != "e2e storage" {
		t.Fatalf("provider view: %+v", p)
	}
	u, err := c.Unit(ctx, unit)
	if err != nil {
		t.Fatal(err)
	}
	m.wantSLA = market.SLAOffer{MaxP95LatencyMs: 200, MinUptimeBps: 9990, MinDownloadMbps: 50, MaxErrorRateBps: 10, Durability: true}
	if u.Provider != m.prov || u.Capacity != 1<<40 || u.StoragePrice != 100_000_000 || u.EgressPrice != 50_000 ||
		u.SLA != types.SLAOffer(m.wantSLA) || !u.Features.Versioning || u.Features.ObjectLock || !u.AutoAccept || u.Status != market.UnitAvailable {
		t.Fatalf("unit view: %+v", u)
	}
	if out := m.fb("query", "units", "--region", "eu-central", "--min-free", "100GiB", "--sort", "price"); !strings.Contains(out, unit) || !strings.Contains(out, "100 FLASH") {
		t.Fatalf("query units:\n%s", out)
	}
}

// The consumer's request.
const marketSize, marketTerm, marketEgress = "100GiB", "30d", "50GiB"

// quote: the consumer's quote, where CLI and SDK agree.
func (m *marketScenario) quote() {
	t := m.t
	var quote types.QuotePage
	m.fbJSON(&quote, "query", "quote", "--size", marketSize, "--term", marketTerm, "--egress", marketEgress, "--region", "eu-central")
	if len(quote.Quotes) != 1 || quote.Quotes[0].Unit != m.unit || quote.Bytes != 100<<30 || quote.Term != 30*86400 {
		t.Fatalf("quote: %+v", quote)
	}
	cost := quote.Quotes[0].Cost
	sdkQuote, err := m.c.Quote(m.ctx, client.QuoteRequest{Bytes: 100 << 30, Term: 30 * 86400, Egress: 50 << 30, Country: "de"})
	if err != nil || len(sdkQuote.Quotes) != 1 || sdkQuote.Quotes[0].Cost != cost {
		t.Fatalf("SDK quote %+v, err %v; CLI quote cost %+v", sdkQuote, err, cost)
	}
	if cost.Storage == 0 || cost.Egress != 50*50_000 || cost.Total != cost.Storage+cost.Egress+cost.Fee {
		t.Fatalf("quote cost: %+v", cost)
	}
	m.cost = cost
}

// reserve: a reservation above max price is refused with a stable code,
// then one at the quoted price escrows the quote.
func (m *marketScenario) reserve() {
	t, unit := m.t, m.unit
	out, err := runErr("tx", "reserve", unit, "--size", marketSize, "--term", marketTerm, "--egress", marketEgress, "--max-price", "99FLASH", "--from", "alice", "--home", m.home)
	if err == nil || !strings.Contains(out, "price_too_high") {
		t.Fatalf("reserve above max price: err %v\n%s", err, out)
	}
	// The CLI's simulation refused it before broadcast: no tx fee.
	if !strings.Contains(out, "no fee charged") {
		t.Fatalf("reserve above max price was not refused locally:\n%s", out)
	}
	var reserved struct {
		Code        uint32 `json:"code"`
		Reservation string `json:"reservation"`
	}
	m.fbJSON(&reserved, "tx", "reserve", unit, "--size", marketSize, "--term", marketTerm, "--egress", marketEgress, "--max-price", "100FLASH", "--from", "alice")
	m.aliceTxs++
	m.rid = reserved.Reservation
	if reserved.Code != 0 || m.rid == "" {
		t.Fatalf("reserve: %+v", reserved)
	}
	r, err := m.c.Reservation(m.ctx, m.rid)
	if err != nil {
		t.Fatal(err)
	}
	m.r = r
	if r.Status != market.ResActive || r.Escrowed != m.cost.Total || r.StorageEsc+r.EgressEsc+r.EgressFeeEsc != r.Escrowed ||
		r.Consumer != m.alice || r.Provider != m.prov || r.SLA != types.SLAOffer(m.wantSLA) {
		t.Fatalf("reservation after reserve (quote %+v): %+v", m.cost, r)
	}
	if b := mustBalance(t, m.c, m.alice); b != m.alice0-core.Amount(m.aliceTxs)*m.txFee-r.Escrowed {
		t.Fatalf("alice after reserve: %d, want %d - %d fees - %d escrow", b, m.alice0, m.aliceTxs, r.Escrowed)
	}
}

// checkListings checks the reservation and unit lists reflect the
// reservation.
func (m *marketScenario) checkListings() {
	t, c, ctx := m.t, m.c, m.ctx
	page, err := c.Reservations(ctx, client.ReservationFilter{Consumer: m.alice, Status: market.ResActive})
	if err != nil || len(page.Reservations) != 1 || page.Reservations[0].ID != m.rid {
		t.Fatalf("reservations of alice: %+v, %v", page, err)
	}
	tooCheap := core.Amount(99_000_000)
	if units, err := c.Units(ctx, client.UnitFilter{MaxPrice: &tooCheap}); err != nil || len(units.Units) != 0 {
		t.Fatalf("units under 99 FLASH: %+v, %v", units, err)
	}
	if units, err := c.Units(ctx, client.UnitFilter{Provider: m.prov, Sort: "score", Page: client.Page{Limit: 1}}); err != nil ||
		len(units.Units) != 1 || units.Units[0].Reserved != 100<<30 {
		t.Fatalf("units of the provider: %+v, %v", units, err)
	}
}

// awaitAccrual lets blocks pass until a few seconds of the term accrued.
func (m *marketScenario) awaitAccrual() {
	t := m.t
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := m.c.Reservation(m.ctx, m.rid)
		if err != nil {
			t.Fatal(err)
		}
		m.r = r
		if r.AsOf >= r.Start+3 && r.Paid > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("reservation did not accrue: %+v", r)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// closeAndClaim: the consumer closes early; the provider claims.
func (m *marketScenario) closeAndClaim() {
	t, fb, rid := m.t, m.fb, m.rid
	fb("tx", "reservation", "close", rid, "--from", "alice")
	m.aliceTxs++
	r, err := m.c.Reservation(m.ctx, rid)
	if err != nil {
		t.Fatal(err)
	}
	m.r = r
	if r.Status != market.ResCancelled || r.ClosedAt <= r.Start {
		t.Fatalf("reservation after close: %+v", r)
	}
	if out := fb("query", "reservation", rid); !strings.Contains(out, "cancelled") {
		t.Fatalf("query reservation:\n%s", out)
	}
	if m.before, err = m.c.Unit(m.ctx, m.unit); err != nil {
		t.Fatal(err)
	}
	fb("tx", "provider", "claim", "--unit", m.unit, "--from", "provider")
	m.provTxs++
}

// settlement is what the closed reservation should have moved, in uflash.
type settlement struct {
	charge      core.Amount // the consumer paid
	provNet     core.Amount // the provider got
	treasuryFee core.Amount // the treasury got
}

// expectedSettlement does the arithmetic, from the reservation's own fields
// and the params. Storage accrues price x bytes x seconds
// (price-byte-seconds); one uflash of provider revenue is GiB x 30 days of
// them; the consumer pays that plus fee_bps, rounded up; the provider and
// the treasury get floors; the escrow keeps the rounding.
func (m *marketScenario) expectedSettlement() settlement {
	t, r := m.t, m.r
	if r.FeeBps != m.params.FeeBps && m.params.FeeBps != 0 {
		t.Fatalf("reservation fee_bps %d, params %d", r.FeeBps, m.params.FeeBps)
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
	s := settlement{
		charge:      ceilDiv(new(big.Int).Mul(pbs, big.NewInt(int64(market.BpsDenom+r.FeeBps))), perUflashBps),
		provNet:     core.Amount(new(big.Int).Quo(pbs, perUflash).Uint64()),
		treasuryFee: core.Amount(new(big.Int).Quo(new(big.Int).Mul(pbs, big.NewInt(int64(r.FeeBps))), perUflashBps).Uint64()),
	}
	if s.charge == 0 || s.provNet == 0 || s.treasuryFee == 0 {
		t.Fatalf("nothing was paid: charge %d, provider %d, fee %d (%d s)", s.charge, s.provNet, s.treasuryFee, r.ClosedAt-r.Start)
	}
	return s
}

// checkSettlement checks the reservation, the unit, the balances and the
// pools against the expected settlement.
func (m *marketScenario) checkSettlement(s settlement) {
	t, r, charge, provNet, treasuryFee := m.t, m.r, s.charge, s.provNet, s.treasuryFee
	if r.StoragePaid != charge || r.Paid != charge || r.Refunded != r.Escrowed-charge || r.RemainingEscrow != 0 {
		t.Fatalf("reservation after close: storage_paid %d paid %d refunded %d remaining %d; want charge %d, refund %d",
			r.StoragePaid, r.Paid, r.Refunded, r.RemainingEscrow, charge, r.Escrowed-charge)
	}
	if m.before.Claimable != provNet {
		t.Fatalf("unit claimable %d before the claim, want %d", m.before.Claimable, provNet)
	}
	sup0, sup1, txFee := m.sup0, m.supply(), m.txFee
	pool := func(s *types.SupplyView, name string) core.Amount { return s.Pools[name] }
	checks := []struct {
		what      string
		got, want core.Amount
	}{
		{"consumer balance", mustBalance(t, m.c, m.alice), m.alice0 - core.Amount(m.aliceTxs)*txFee - charge},
		{"provider balance", mustBalance(t, m.c, m.prov), m.prov0 - core.Amount(m.provTxs)*txFee - m.stake + provNet},
		{"treasury pool", pool(sup1, bank.PoolTreasury), pool(sup0, bank.PoolTreasury) + treasuryFee},
		{"escrow pool (rounding kept)", pool(sup1, bank.PoolEscrow), pool(sup0, bank.PoolEscrow) + charge - provNet - treasuryFee},
		{"stake pool", pool(sup1, bank.PoolStake), pool(sup0, bank.PoolStake) + m.stake},
		{"fees pool", pool(sup1, bank.PoolFees), pool(sup0, bank.PoolFees) + core.Amount(m.aliceTxs+m.provTxs)*txFee},
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
}

// checkErrors: REST error paths are problem documents with stable codes,
// through the REST API, the SDK and the CLI.
func (m *marketScenario) checkErrors() {
	t := m.t
	for _, tc := range []struct {
		path   string
		status int
		code   string
	}{
		{"/v1/units/unit-999", 404, "not_found"},
		{"/v1/units/bogus", 404, "not_found"},
		{"/v1/reservations/res-999", 404, "not_found"},
		{"/v1/providers/" + m.alice, 404, "not_found"},
		{"/v1/units?sort=latency", 400, "invalid_query"},
		{"/v1/units?regoin=eu-central", 400, "invalid_query"},
		{"/v1/units?min_free=lots", 400, "invalid_query"},
		{"/v1/units?limit=0", 400, "invalid_query"},
		{"/v1/reservations?consumer=fb1nope", 400, "invalid_address"},
		{"/v1/quote?term=30d", 400, "invalid_query"},
	} {
		checkProblem(t, m.apiURL+tc.path, tc.status, tc.code)
	}
	if _, err := m.c.Reservation(m.ctx, "res-999"); client.CodeOf(err) != "not_found" {
		t.Errorf("SDK Reservation(res-999): %v", err)
	}
	if out, err := runErr("query", "unit", "unit-999", "--home", m.home); err == nil || !strings.Contains(out, "not_found") {
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
