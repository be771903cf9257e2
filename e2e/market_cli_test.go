package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
)

// TestMarketLifecycleCLI drives the rest of the market commands: provider
// update, a unit that needs acceptance, reject and accept, top-up, extend,
// resize, maintenance, decommission and delete, unstake and deregister.
func TestMarketLifecycleCLI(t *testing.T) {
	m := startMarketCLI(t)
	unit := m.publishUnit()
	m.rejectPending(unit)
	rid := m.acceptAndAdjust(unit)
	m.maintainAndDelete(unit, rid)
	m.oracleAccountability()
	m.retire()
}

// oracleAccountability: a provider declares a related account (never to be
// assigned to its units), bad declarations fail with their codes, and
// unjailing needs an oracle that is jailed.
func (m *marketCLI) oracleAccountability() {
	m.t.Helper()
	m.fb("tx", "provider", "declare-related", m.bob, "--from", "provider")
	m.fails("invalid_address", "tx", "provider", "declare-related", "not-an-address", "--from", "provider")
	m.fails("not_found", "tx", "provider", "declare-related", m.prov, "--from", "bob")
	m.fails("not_oracle", "tx", "oracle", "unjail", "--from", "bob")
	m.fb("tx", "oracle", "register", "1000FLASH", "--from", "bob")
	m.fails("wrong_state", "tx", "oracle", "unjail", "--from", "bob")
}

// marketCLI is TestMarketLifecycleCLI's node with its CLI and SDK helpers.
type marketCLI struct {
	fb        func(args ...string) string // the CLI on home
	t         *testing.T
	ctx       context.Context
	home      string
	c         *client.Client
	prov, bob string
	params    *types.Params
}

func startMarketCLI(t *testing.T) *marketCLI {
	base := freeBase(t, 1)
	m := &marketCLI{t: t, ctx: context.Background()}
	m.home, _, m.c = startDevNode(t, "e2e-market-cli", base)
	m.fb = homeCLI(t, m.home)
	t.Cleanup(func() {
		if t.Failed() {
			dumpLog(t, m.home)
		}
	})
	m.prov = strings.TrimSpace(m.fb("keys", "show", "provider"))
	m.bob = strings.TrimSpace(m.fb("keys", "show", "bob"))
	var err error
	if m.params, err = m.c.Params(m.ctx); err != nil {
		t.Fatal(err)
	}
	return m
}

// fails runs the CLI and requires it to fail with the stable error code.
func (m *marketCLI) fails(code string, args ...string) {
	m.t.Helper()
	out, err := runErr(append(args, "--home", m.home)...)
	if err == nil || !strings.Contains(out, code) {
		m.t.Fatalf("flashback %s: want %s, got err %v\n%s", strings.Join(args, " "), code, err, out)
	}
}

func (m *marketCLI) res(id string) *types.ReservationView {
	m.t.Helper()
	r, err := m.c.Reservation(m.ctx, id)
	if err != nil {
		m.t.Fatal(err)
	}
	return r
}

func (m *marketCLI) unitView(id string) *types.UnitView {
	m.t.Helper()
	u, err := m.c.Unit(m.ctx, id)
	if err != nil {
		m.t.Fatal(err)
	}
	return u
}

func (m *marketCLI) reservedID(out string) string {
	m.t.Helper()
	return jsonString(m.t, out, "reservation")
}

// publishUnit registers, updates and stakes the provider, then adds and
// updates a unit that is not auto-accepting; it returns the unit.
func (m *marketCLI) publishUnit() string {
	t, fb := m.t, m.fb
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	fb("tx", "provider", "register", "--name", "p", "--endpoint", "https://bridge.example", "--bridge-pubkey", base64.StdEncoding.EncodeToString(key), "--from", "provider")
	fb("tx", "provider", "update", "--description", "now with a description", "--from", "provider")
	fb("tx", "provider", "stake", "2000FLASH", "--from", "provider")
	if p, err := m.c.Provider(m.ctx, m.prov); err != nil || p.Description != "now with a description" || p.Name != "p" || p.Stake != 2_000_000_000 {
		t.Fatalf("provider: %+v, %v", p, err)
	}
	out := fb("tx", "unit", "add", "--kind", "s3", "--region", "us-east", "--country", "US", "--capacity", "10GiB",
		"--price", "1.5FLASH", "--sla-latency-ms", "100", "--from", "provider")
	unit := strings.Fields(out[strings.Index(out, "unit: ")+len("unit: "):])[0]
	fb("tx", "unit", "update", unit, "--price", "2FLASH", "--sla-uptime", "99.5", "--encryption", "--from", "provider")
	if u := m.unitView(unit); u.StoragePrice != 2_000_000 || u.SLA.MinUptimeBps != 9950 || u.SLA.MaxP95LatencyMs != 100 || !u.Features.EncryptionAtRest || u.AutoAccept {
		t.Fatalf("unit after update: %+v", u)
	}
	return unit
}

// rejectPending: the unit is not auto-accepting, so the reservation waits;
// a rejection refunds all.
func (m *marketCLI) rejectPending(unit string) {
	t, c := m.t, m.c
	bob0 := mustBalance(t, c, m.bob)
	rid := m.reservedID(m.fb("tx", "reserve", unit, "--size", "1GiB", "--term", "1h", "--from", "bob", "-o", "json"))
	if r := m.res(rid); r.Status != market.ResPending || r.StoragePrice != 2_000_000 {
		t.Fatalf("reservation: %+v", r)
	}
	m.fails("unauthorized", "tx", "reservation", "accept", rid, "--from", "bob")
	m.fb("tx", "reservation", "reject", rid, "--from", "provider")
	if r := m.res(rid); r.Status != market.ResRejected || r.Refunded != r.Escrowed {
		t.Fatalf("rejected reservation: %+v", r)
	}
	// The reserve's fee only: the unauthorized accept was refused by the
	// CLI's simulation before broadcast, so it cost nothing.
	if b := mustBalance(t, c, m.bob); b != bob0-m.params.TxFee {
		t.Fatalf("bob after reject: %d, want %d (the reserve's fee only)", b, bob0-m.params.TxFee)
	}
}

// acceptAndAdjust: a reservation the provider accepts, then tops up,
// extends and resizes (not past the unit's capacity); it returns it.
func (m *marketCLI) acceptAndAdjust(unit string) string {
	t, fb := m.t, m.fb
	rid := m.reservedID(fb("tx", "reserve", unit, "--size", "1GiB", "--term", "1h", "--egress", "1GiB", "--max-price", "2000000", "--from", "bob", "-o", "json"))
	fb("tx", "reservation", "accept", rid, "--from", "provider")
	fb("tx", "reservation", "topup", rid, "--egress", "1GiB", "--from", "bob")
	fb("tx", "reservation", "extend", rid, "--term", "1h", "--from", "bob")
	fb("tx", "reservation", "resize", rid, "--size", "2GiB", "--from", "bob")
	if r := m.res(rid); r.Status != market.ResActive || r.EgressBytes != 2<<30 || r.Term != 7200 || r.Bytes != 2<<30 || r.End != r.Start+7200 {
		t.Fatalf("reservation after topup, extend, resize: %+v", r)
	}
	m.fails("no_capacity", "tx", "reservation", "resize", rid, "--size", "11GiB", "--from", "bob")
	if out := fb("query", "reservations", "--unit", unit, "--status", "active"); !strings.Contains(out, rid) || !strings.Contains(out, "2 GiB") {
		t.Fatalf("query reservations:\n%s", out)
	}
	return rid
}

// maintainAndDelete: maintenance, decommission, delete (once rid closed).
func (m *marketCLI) maintainAndDelete(unit, rid string) {
	t, fb := m.t, m.fb
	fb("tx", "unit", "maintenance", unit, "start", "--until", "+1h", "--from", "provider")
	if u := m.unitView(unit); u.Status != market.UnitMaintenance || u.Maintenance == nil {
		t.Fatalf("unit in maintenance: %+v", u)
	}
	m.fails("wrong_state", "tx", "reserve", unit, "--size", "1GiB", "--term", "1h", "--from", "alice")
	fb("tx", "unit", "maintenance", unit, "end", "--from", "provider")
	fb("tx", "unit", "maintenance", unit, "announce", "--from-time", "+1h", "--until", "+2h", "--from", "provider")
	if u := m.unitView(unit); u.Status != market.UnitAvailable || u.Maintenance == nil || u.Maintenance.End-u.Maintenance.Start != 3600 {
		t.Fatalf("unit after announce: %+v", u)
	}
	fb("tx", "unit", "decommission", unit, "--from", "provider")
	m.fails("wrong_state", "tx", "unit", "delete", unit, "--from", "provider")
	fb("tx", "reservation", "close", rid, "--from", "bob")
	fb("tx", "unit", "delete", unit, "--from", "provider")
	if u := m.unitView(unit); u.Status != market.UnitDeleted {
		t.Fatalf("unit after delete: %+v", u)
	}
}

// retire: the provider stakes out and deregisters.
func (m *marketCLI) retire() {
	t, fb, prov := m.t, m.fb, m.prov
	fb("tx", "provider", "unstake", "500FLASH", "--from", "provider")
	fb("tx", "provider", "deregister", "--from", "provider")
	p, err := m.c.Provider(m.ctx, prov)
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
