package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flashback-network/flashback/client"
)

// moneyCLI is a dev node with the CLI on its home, for the money tests.
type moneyCLI struct {
	t                 *testing.T
	home              string
	fb                func(args ...string) string
	c                 *client.Client
	alice, bob, prov  string
	unit, reservation string
}

func startMoneyCLI(t *testing.T) *moneyCLI {
	m := &moneyCLI{t: t}
	m.home, _, m.c = startDevNode(t, "e2e-money-cli", freeBase(t, 1))
	m.fb = homeCLI(t, m.home)
	t.Cleanup(func() {
		if t.Failed() {
			dumpLog(t, m.home)
		}
	})
	m.alice = strings.TrimSpace(m.fb("keys", "show", "alice"))
	m.bob = strings.TrimSpace(m.fb("keys", "show", "bob"))
	m.prov = strings.TrimSpace(m.fb("keys", "show", "provider"))
	return m
}

var balanceChangeLine = regexp.MustCompile(`balance change: ([+-])([0-9]+) uflash`)

// moved runs a money-moving command (text output) as the key of addr and
// checks it printed each of the moves named in want and a balance change
// equal to what `query account` shows before and after.
func (m *moneyCLI) moved(addr string, want []string, args ...string) string {
	m.t.Helper()
	before := m.balance(addr)
	out := m.fb(args...)
	after := m.balance(addr)
	for _, w := range want {
		if !strings.Contains(out, "  "+w+":") {
			m.t.Fatalf("flashback %s printed no %q move:\n%s", strings.Join(args, " "), w, out)
		}
	}
	if !strings.Contains(out, "  fee:") {
		m.t.Fatalf("flashback %s printed no fee:\n%s", strings.Join(args, " "), out)
	}
	g := balanceChangeLine.FindStringSubmatch(out)
	if g == nil {
		m.t.Fatalf("flashback %s printed no balance change:\n%s", strings.Join(args, " "), out)
	}
	n, _ := strconv.ParseInt(g[2], 10, 64)
	if g[1] == "-" {
		n = -n
	}
	if got := after - before; got != n {
		m.t.Fatalf("flashback %s printed a balance change of %d uflash; the account changed by %d\n%s", strings.Join(args, " "), n, got, out)
	}
	return out
}

// refused runs a command that must be refused before broadcast: it fails
// with code, says no fee was charged, prints its reason once, and leaves
// addr's balance and sequence as they were. It returns the output.
func (m *moneyCLI) refused(addr, code string, args ...string) string {
	m.t.Helper()
	before, err := m.c.Account(context.Background(), addr)
	if err != nil {
		m.t.Fatal(err)
	}
	out, err := runErr(append(args, "--home", m.home)...)
	if err == nil || !strings.Contains(out, code) || !strings.Contains(out, "no fee charged") {
		m.t.Fatalf("flashback %s: want a local refusal with %s, got err %v\n%s", strings.Join(args, " "), code, err, out)
	}
	if n := strings.Count(out, "Error:") + strings.Count(out, `"error":`); n != 1 {
		m.t.Fatalf("flashback %s printed %d errors:\n%s", strings.Join(args, " "), n, out)
	}
	after, err := m.c.Account(context.Background(), addr)
	if err != nil {
		m.t.Fatal(err)
	}
	if after.Balance != before.Balance || after.Sequence != before.Sequence {
		m.t.Fatalf("flashback %s was refused yet the account changed: %+v -> %+v", strings.Join(args, " "), before, after)
	}
	return out
}

func (m *moneyCLI) balance(addr string) int64 {
	m.t.Helper()
	return int64(mustBalance(m.t, m.c, addr))
}

// TestMoneyCommandsCLI: every money-moving command prints what it moved,
// and the printed balance change is the change `query account` shows;
// commands that could only pay a fee for nothing are refused locally.
func TestMoneyCommandsCLI(t *testing.T) {
	m := startMoneyCLI(t)
	fb := m.fb
	m.moved(m.alice, []string{"sent"}, "tx", "bank", "send", m.bob, "5FLASH", "--from", "alice")
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	fb("tx", "provider", "register", "--name", "p", "--endpoint", "https://bridge.example", "--bridge-pubkey", base64.StdEncoding.EncodeToString(key), "--from", "provider")
	m.moved(m.prov, []string{"staked"}, "tx", "provider", "stake", "1000FLASH", "--from", "provider")
	out := fb("tx", "unit", "add", "--kind", "s3", "--region", "us-east", "--country", "US", "--capacity", "10GiB",
		"--price", "10000FLASH", "--egress-price", "0.01FLASH", "--auto-accept", "--from", "provider", "-o", "json")
	m.unit = jsonString(t, out, "unit")
	m.refused(m.prov, "nothing to claim", "tx", "provider", "claim", "--from", "provider")

	out = m.moved(m.bob, []string{"escrowed"}, "tx", "reserve", m.unit, "--size", "1GiB", "--term", "1h", "--egress", "1GiB", "--from", "bob")
	m.reservation = regexp.MustCompile(`reservation: (res-[0-9]+)`).FindStringSubmatch(out)[1]
	m.moved(m.bob, []string{"escrowed"}, "tx", "reservation", "topup", m.reservation, "--egress", "1GiB", "--from", "bob")
	m.moved(m.bob, []string{"escrowed"}, "tx", "reservation", "extend", m.reservation, "--term", "1h", "--from", "bob")
	m.moved(m.bob, []string{"escrowed"}, "tx", "reservation", "resize", m.reservation, "--size", "2GiB", "--from", "bob")
	m.refused(m.bob, "not_found", "tx", "reservation", "claim-compensation", m.reservation, "--from", "bob")
	m.awaitPaid()
	bob0 := m.balance(m.bob)
	out = fb("tx", "reservation", "close", m.reservation, "--from", "bob", "--dry-run")
	if !strings.Contains(out, "dry run") || !strings.Contains(out, "refunded:") || !strings.Contains(out, "would change balance by: +") {
		t.Fatalf("close --dry-run:\n%s", out)
	}
	if r, err := m.c.Reservation(context.Background(), m.reservation); err != nil || r.Status != "active" || m.balance(m.bob) != bob0 {
		t.Fatalf("close --dry-run closed or charged: %+v %v", r, err)
	}
	m.moved(m.bob, []string{"refunded"}, "tx", "reservation", "close", m.reservation, "--from", "bob")
	m.awaitClaimable()
	m.moved(m.prov, []string{"claimed"}, "tx", "provider", "claim", "--unit", m.unit, "--from", "provider")
	m.refused(m.prov, "nothing to claim", "tx", "provider", "claim", "--unit", m.unit, "--from", "provider")
}

// awaitPaid waits until a few seconds of the reservation's term accrued
// (at its price, thousands of uflash), so the close refunds less than the
// escrow and the provider has revenue to claim.
func (m *moneyCLI) awaitPaid() {
	eventually(m.t, 30*time.Second, func() error {
		r, err := m.c.Reservation(context.Background(), m.reservation)
		if err != nil || r.AsOf < r.Start+3 || r.Paid == 0 {
			return fmt.Errorf("reservation %s has not accrued 3 s yet (%v)", m.reservation, err)
		}
		return nil
	})
}

func (m *moneyCLI) awaitClaimable() {
	eventually(m.t, 60*time.Second, func() error {
		u, err := m.c.Unit(context.Background(), m.unit)
		if err != nil || u.Claimable == 0 {
			return fmt.Errorf("unit %s has nothing claimable yet (%v): %+v", m.unit, err, u)
		}
		return nil
	})
}

// TestReservePrecheckCLI: reserves that cannot succeed (no capacity, price
// above the ceiling, term above max_term, funds short of cost plus fee)
// are refused by the CLI with nothing broadcast and no fee charged, in
// human units in text and raw units with -o json; --dry-run shows what a
// good one would do without doing it.
func TestReservePrecheckCLI(t *testing.T) {
	m := startMoneyCLI(t)
	fb := m.fb
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	fb("tx", "provider", "register", "--name", "p", "--endpoint", "https://bridge.example", "--bridge-pubkey", base64.StdEncoding.EncodeToString(key), "--from", "provider")
	fb("tx", "provider", "stake", "1000FLASH", "--from", "provider")
	m.unit = jsonString(t, fb("tx", "unit", "add", "--kind", "s3", "--region", "us-east", "--country", "US", "--capacity", "48GiB",
		"--price", "1FLASH", "--auto-accept", "--from", "provider", "-o", "json"), "unit")

	out := m.refused(m.bob, "no_capacity", "tx", "reserve", m.unit, "--size", "100GiB", "--term", "1h", "--from", "bob")
	if !strings.Contains(out, "48 GiB free, 100 GiB requested") || strings.Contains(out, "51539607552") {
		t.Fatalf("no-capacity error not in human units:\n%s", out)
	}
	out = m.refused(m.bob, "no_capacity", "tx", "reserve", m.unit, "--size", "100GiB", "--term", "1h", "--from", "bob", "-o", "json")
	if !strings.Contains(out, `"code":"no_capacity"`) || !strings.Contains(out, "51539607552 bytes free, 107374182400 bytes requested") {
		t.Fatalf("-o json error lost its raw units:\n%s", out)
	}
	m.refused(m.bob, "price_too_high", "tx", "reserve", m.unit, "--size", "1GiB", "--term", "1h", "--max-price", "0.5FLASH", "--from", "bob")
	out = m.refused(m.bob, "invalid_message", "tx", "reserve", m.unit, "--size", "1GiB", "--term", "1200d", "--from", "bob")
	if !strings.Contains(out, "1200d") || !strings.Contains(out, "1095d") {
		t.Fatalf("max-term error not in human units:\n%s", out)
	}
	// carol has the fee but not the escrow.
	fb("keys", "add", "carol", "--unencrypted")
	carol := strings.TrimSpace(fb("keys", "show", "carol"))
	fb("tx", "bank", "send", carol, "0.01FLASH", "--from", "alice")
	out = m.refused(carol, "insufficient_funds", "tx", "reserve", m.unit, "--size", "10GiB", "--term", "30d", "--from", "carol")
	if !strings.Contains(out, "has 0.009 FLASH, needs 10.2 FLASH") || !strings.Contains(out, "after the 0.001 FLASH tx fee") { // 0.01 less the fee
		t.Fatalf("insufficient-funds error not in FLASH:\n%s", out)
	}

	before, _ := m.c.Account(context.Background(), m.bob)
	out = fb("tx", "reserve", m.unit, "--size", "1GiB", "--term", "1h", "--from", "bob", "--dry-run")
	if !strings.Contains(out, "dry run") || !strings.Contains(out, "escrowed:") || !strings.Contains(out, "would change balance by: -") {
		t.Fatalf("dry run output:\n%s", out)
	}
	after, _ := m.c.Account(context.Background(), m.bob)
	if after.Balance != before.Balance || after.Sequence != before.Sequence {
		t.Fatalf("dry run changed the account: %+v -> %+v", before, after)
	}
	if u, err := m.c.Unit(context.Background(), m.unit); err != nil || u.LiveReservations != 0 {
		t.Fatalf("dry run made a reservation: %+v %v", u, err)
	}
}

// TestCLIArgsAndKeys: ids given as bare numbers, bad ids and negative
// amounts get clear messages; query params lists every parameter; keys add
// prints a recovery phrase that keys add --recover turns back into the
// same address.
func TestCLIArgsAndKeys(t *testing.T) {
	m := startMoneyCLI(t)
	fb := m.fb
	if out, err := runErr("query", "unit", "3", "--home", m.home); err == nil || !strings.Contains(out, `unit "unit-3" not found`) {
		t.Fatalf("query unit 3: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"query", "unit", "u3"}, {"query", "reservation", "reservation-1"}, {"tx", "accesskey", "revoke", "no!", "--from", "bob"}} {
		out, err := runErr(append(args, "--home", m.home)...)
		if err == nil || !strings.Contains(out, "ids look like") || strings.Contains(out, "^") {
			t.Fatalf("flashback %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	fb("query", "reservations", "--unit", "1") // a bare number in an id flag too
	if out, err := runErr("query", "reservations", "--unit", "one", "--home", m.home); err == nil || !strings.Contains(out, "unit-3") {
		t.Fatalf("query reservations --unit one: %v\n%s", err, out)
	}
	out, err := runErr("tx", "bank", "send", m.bob, "-5FLASH", "--from", "alice", "--home", m.home)
	if err == nil || !strings.Contains(out, "amounts must be positive") || strings.Contains(out, "unknown shorthand") {
		t.Fatalf("send -5FLASH: %v\n%s", err, out)
	}
	params := fb("query", "params")
	for _, p := range []string{"tx_fee:", "max_term:", "min_unit_stake:", "min_oracle_stake:", "settle_lag_epochs:", "dispute_deposit:"} {
		if !strings.Contains(params, p) {
			t.Fatalf("query params has no %s:\n%s", p, params)
		}
	}
	if n := strings.Count(params, "\n"); n < 19 {
		t.Fatalf("query params shows %d parameters:\n%s", n, params)
	}

	out = fb("keys", "add", "dave", "--unencrypted")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	phrase := lines[len(lines)-1]
	if len(strings.Fields(phrase)) != 24 || !strings.Contains(out, "recovery phrase") {
		t.Fatalf("keys add printed no 24-word phrase:\n%s", out)
	}
	dave := strings.Fields(lines[0])[1]
	cmd := exec.Command(binary, "keys", "add", "dave2", "--recover", "--unencrypted", "--home", m.home)
	cmd.Stdin = strings.NewReader(phrase + "\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("keys add --recover: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	if got := strings.TrimSpace(fb("keys", "show", "dave2")); got != dave {
		t.Fatalf("recovered address %s, want %s", got, dave)
	}
	if strings.Contains(stdout.String(), phrase) {
		t.Fatalf("keys add --recover echoed the phrase:\n%s", stdout.String())
	}
}
