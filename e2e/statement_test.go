package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/core"
)

// TestReservationStatementCLI: a reservation on a real dev node lives a few
// 2-second epochs and is closed early; the CSV statement the CLI prints
// (while active and after the close) has epoch lines that sum to its totals
// line, and the totals equal paid + refunded + compensation + escrow left
// of `query reservation -o json`.
func TestReservationStatementCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	home, _, c := startDevNodeParams(t, "e2e-statement", freeBase(t, 1), map[string]any{"epoch_seconds": 2})
	fb := homeCLI(t, home)
	t.Cleanup(func() {
		if t.Failed() {
			dumpLog(t, home)
		}
	})
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	fb("tx", "provider", "register", "--name", "p", "--endpoint", "https://bridge.example", "--bridge-pubkey", base64.StdEncoding.EncodeToString(key), "--from", "provider")
	fb("tx", "provider", "stake", "1000FLASH", "--from", "provider")
	unit := jsonString(t, fb("tx", "unit", "add", "--kind", "s3", "--region", "us-east", "--country", "US", "--capacity", "10GiB",
		"--price", "10000FLASH", "--egress-price", "0.01FLASH", "--auto-accept", "--from", "provider", "-o", "json"), "unit")
	res := jsonString(t, fb("tx", "reserve", unit, "--size", "1GiB", "--term", "1h", "--egress", "1GiB", "--from", "bob", "-o", "json"), "reservation")

	r0, err := c.Reservation(context.Background(), res)
	if err != nil {
		t.Fatal(err)
	}
	awaitBlockTime(t, c, r0.Start.Unix()+4*2+1) // four whole epochs and a bit
	checkStatementCSV(t, fb, res, false)

	fb("tx", "reservation", "close", res, "--from", "bob")
	lines := checkStatementCSV(t, fb, res, true)
	if lines < 4 {
		t.Fatalf("closed statement has %d epoch lines, want at least 4", lines)
	}
	// The REST API's ?format=csv is the same CSV (a closed statement no
	// longer moves), served as text/csv.
	raw, err := c.StatementCSV(context.Background(), res, client.StatementPage{})
	if err != nil || string(raw) != fb("query", "statement", res, "--csv") {
		t.Fatalf("GET statement?format=csv (%v):\n%s", err, raw)
	}
	if _, err := c.StatementCSV(context.Background(), "res-999", client.StatementPage{}); !client.IsCode(err, core.CodeNotFound) {
		t.Fatalf("statement of a missing reservation: %v", err)
	}
	// The provider's statement has this one reservation: its epoch lines
	// sum to a total that is the reservation's storage charge.
	checkProviderStatementCSV(t, fb, strings.TrimSpace(fb("keys", "show", "provider")), res)
	// -o json carries the same totals.
	var st types.Statement
	if err := json.Unmarshal([]byte(fb("query", "statement", res, "-o", "json")), &st); err != nil || len(st.Lines) != lines || st.Status != "cancelled" {
		t.Fatalf("statement -o json: %v %+v", err, st)
	}
}

// awaitBlockTime polls until the node's latest block is at or after unix t.
func awaitBlockTime(t *testing.T, c *client.Client, unix int64) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		st, err := c.Status(context.Background())
		if err == nil && st.LatestBlockTime.Unix() >= unix {
			return
		}
	}
	t.Fatalf("no block at or after %d within 60s", unix)
}

// checkStatementCSV checks the CLI's CSV statement of res against itself
// and against `query reservation -o json`; it returns the epoch lines.
func checkStatementCSV(t *testing.T, fb func(...string) string, res string, closed bool) int {
	t.Helper()
	out := fb("query", "statement", res, "--csv")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) < 3 || rows[0][0] != "kind" {
		t.Fatalf("CSV (%v):\n%s", err, out)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	num := func(row []string, name string) uint64 {
		v, err := strconv.ParseUint(row[col[name]], 10, 64)
		if err != nil {
			t.Fatalf("column %s of %v: %v\n%s", name, row, err, out)
		}
		return v
	}
	var storage, fee, refund uint64
	var total []string
	lines := 0
	for _, row := range rows[1:] {
		switch row[0] {
		case "epoch":
			lines++
			storage, fee, refund = storage+num(row, "storage_paid"), fee+num(row, "fee"), refund+num(row, "refund")
		case "total":
			total = row
		}
	}
	if total == nil || !strings.Contains(out, "egress is known only as running totals") {
		t.Fatalf("no totals line or egress note:\n%s", out)
	}
	if storage != num(total, "storage_paid") || fee != num(total, "fee") || refund != num(total, "refund") || storage == 0 {
		t.Fatalf("epoch lines sum to storage %d fee %d refund %d, totals %v\n%s", storage, fee, refund, total, out)
	}
	var rv types.ReservationView
	if err := json.Unmarshal([]byte(fb("query", "reservation", res, "-o", "json")), &rv); err != nil {
		t.Fatal(err)
	}
	want := uint64(rv.Paid + rv.Refunded + rv.Compensation + rv.RemainingEscrow)
	if num(total, "total") != want || num(total, "paid") != uint64(rv.Paid) || num(total, "refunded") != uint64(rv.Refunded) ||
		num(total, "escrow_left") != uint64(rv.RemainingEscrow) || num(total, "compensation") != uint64(rv.Compensation) {
		// An active reservation's figures move with each block: the two
		// queries may be a block apart, so only the closed one must match
		// to the uflash; the active one must still reconcile with itself.
		if closed || num(total, "paid")+num(total, "refunded")+num(total, "escrow_left") != num(total, "escrowed") {
			t.Fatalf("totals %v, reservation paid %d refunded %d compensation %d left %d (sum %d)\n%s",
				total, rv.Paid, rv.Refunded, rv.Compensation, rv.RemainingEscrow, want, out)
		}
	}
	if closed && (uint64(rv.StoragePaid) != storage || rv.RemainingEscrow != 0) {
		t.Fatalf("closed: storage_paid %d, lines %d, left %d", rv.StoragePaid, storage, rv.RemainingEscrow)
	}
	return lines
}

// checkProviderStatementCSV checks `query provider-statement --csv` of a
// provider whose only reservation is res (closed).
func checkProviderStatementCSV(t *testing.T, fb func(...string) string, prov, res string) {
	t.Helper()
	out := fb("query", "provider-statement", prov, "--csv")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) < 3 || rows[0][2] != "storage_paid" {
		t.Fatalf("provider CSV (%v):\n%s", err, out)
	}
	var sum, total uint64
	for _, row := range rows[1:] {
		v, _ := strconv.ParseUint(row[2], 10, 64)
		switch row[0] {
		case "epoch":
			sum += v
		case "total":
			total = v
		}
	}
	var rv types.ReservationView
	if err := json.Unmarshal([]byte(fb("query", "reservation", res, "-o", "json")), &rv); err != nil {
		t.Fatal(err)
	}
	if sum != total || total != uint64(rv.StoragePaid) || total == 0 {
		t.Fatalf("provider CSV: epochs sum to %d, total %d, reservation storage_paid %d\n%s", sum, total, rv.StoragePaid, out)
	}
}
