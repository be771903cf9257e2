package contract

import (
	"encoding/json"
	"net/url"
	"strconv"
	"testing"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
)

func statementOf(t *testing.T, h *mkt, id string, q url.Values) types.Statement {
	t.Helper()
	out, ok, err := testApp.Market.Query(h.blk, []string{"reservations", id, "statement"}, q)
	if !ok || err != nil {
		t.Fatalf("statement query: ok=%v err=%v", ok, err)
	}
	var st types.Statement
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// checkStatement asserts the lines sum exactly to the totals and the totals
// reconcile with the reservation's own fields.
func checkStatement(t *testing.T, h *mkt, st types.Statement, breached int64) {
	t.Helper()
	var sp, fee, ref core.Amount
	for _, l := range st.Lines {
		sp, fee, ref = sp+l.StoragePaid, fee+l.Fee, ref+l.Refund
		if l.Breached != (l.Epoch == breached) {
			t.Fatalf("epoch %d breached=%v", l.Epoch, l.Breached)
		}
		if (l.Refund > 0) != l.Breached || (l.Breached && l.StoragePaid != 0) || l.Fee > l.StoragePaid {
			t.Fatalf("line %+v", l)
		}
	}
	tot := st.Totals
	if sp != tot.StoragePaid || fee != tot.Fee || ref != tot.Refund {
		t.Fatalf("lines sum to storage %d fee %d refund %d, totals %+v", sp, fee, ref, tot)
	}
	r := h.res(st.Reservation)
	if tot.Paid+tot.Refunded+tot.EscrowLeft != r.Escrowed || tot.Total != r.Escrowed+r.Compensation {
		t.Fatalf("totals %+v do not reconcile with escrowed %d", tot, r.Escrowed)
	}
	if tot.EgressPaid != r.EgressPaid || tot.EgressFee != r.EgressFee || tot.Refunded != r.Refunded {
		t.Fatalf("totals %+v vs reservation %+v", tot, r)
	}
	if !r.Live() && (tot.StoragePaid != r.StoragePaid || tot.EscrowLeft != 0) {
		t.Fatalf("closed: totals %+v, storage_paid %d", tot, r.StoragePaid)
	}
}

// TestReservationStatement: a reservation over several epochs with one
// breached epoch and an early close; checked while active and after.
func TestReservationStatement(t *testing.T) {
	h := newMkt(t, testParams(), 100_000_000, "prov", "alice")
	h.ok("prov", regProvider("prov"), &market.MsgStake{Amount: 1_000}, addUnit(1_000_003, 500, 10*gib, true))
	h.next(17) // start mid-epoch
	h.ok("alice", &market.MsgReserve{Unit: "unit-1", Bytes: gib + 7, Term: monthS, EgressBytes: 2 * gib, MaxPrice: 1_000_003})
	start := h.res("res-1").Start.Unix()
	ep := int64(60)
	for i := 0; i < 4; i++ {
		h.next(41)
	}
	breached := start/ep + 2
	for h.now/ep <= breached {
		h.next(41)
	}
	if err := testApp.Market.MarkEpochBreached(h.blk, "unit-1", breached, h.now); err != nil {
		t.Fatal(err)
	}
	h.ok("prov", &market.MsgReportUsage{Reservation: "res-1", Epoch: h.now / ep, EgressBytes: gib / 3})
	for i := 0; i < 3; i++ {
		h.next(53)
	}
	st := statementOf(t, h, "res-1", nil)
	if st.Status != market.ResActive || len(st.Lines) < 5 || st.Totals.EscrowLeft == 0 {
		t.Fatalf("active statement %+v", st)
	}
	checkStatement(t, h, st, breached)

	h.ok("alice", &market.MsgCloseReservation{ResRef: market.ResRef{Reservation: "res-1"}})
	h.next(100) // the statement stops at the close, not at now
	st = statementOf(t, h, "res-1", nil)
	checkStatement(t, h, st, breached)
	r := h.res("res-1")
	if st.Totals.Refund == 0 || st.Totals.Refund >= st.Totals.StoragePaid {
		t.Fatalf("breached epoch refund %d of storage %d", st.Totals.Refund, st.Totals.StoragePaid)
	}
	if st.Through != r.ClosedAt || st.LastEpoch != (r.ClosedAt.Unix()-1)/ep || st.Totals.Refunded == 0 || st.Totals.EgressPaid == 0 {
		t.Fatalf("closed statement %+v, reservation %+v", st, r)
	}

	// Pages of two epochs concatenate to the same lines.
	var paged []types.StatementLine
	for from := st.FirstEpoch; ; {
		p := statementOf(t, h, "res-1", url.Values{"from": {strconv.FormatInt(from, 10)}, "limit": {"2"}})
		paged = append(paged, p.Lines...)
		if p.NextFrom == 0 {
			break
		}
		from = p.NextFrom
	}
	if len(paged) != len(st.Lines) {
		t.Fatalf("paged %d lines, whole %d", len(paged), len(st.Lines))
	}
	for i := range paged {
		if paged[i] != st.Lines[i] {
			t.Fatalf("page line %d %+v != %+v", i, paged[i], st.Lines[i])
		}
	}
}

func TestReservationStatementErrors(t *testing.T) {
	h := newMkt(t, testParams(), 100_000_000, "prov", "alice")
	if _, _, err := testApp.Market.Query(h.blk, []string{"reservations", "res-9", "statement"}, nil); err == nil {
		t.Fatal("statement of a missing reservation answered")
	}
	h.ok("prov", regProvider("prov"), &market.MsgStake{Amount: 1_000}, addUnit(1_000_000, 500, 10*gib, true))
	h.ok("alice", &market.MsgReserve{Unit: "unit-1", Bytes: gib, Term: monthS, MaxPrice: 1_000_000})
	h.next(60)
	if _, _, err := testApp.Market.Query(h.blk, []string{"reservations", "res-1", "statement"}, url.Values{"from": {"-1"}}); err == nil {
		t.Fatal("from=-1 accepted")
	}
}

// TestReservationStatementResized: after a resize the epoch split is
// reconstructed (and says so), but the lines still sum exactly to totals
// that reconcile, before and after the close.
func TestReservationStatementResized(t *testing.T) {
	h := newMkt(t, testParams(), 100_000_000, "prov", "alice")
	h.ok("prov", regProvider("prov"), &market.MsgStake{Amount: 1_000}, addUnit(1_000_003, 500, 10*gib, true))
	h.next(23)
	h.ok("alice", &market.MsgReserve{Unit: "unit-1", Bytes: gib, Term: monthS, MaxPrice: 1_000_003})
	h.next(130)
	h.ok("alice", &market.MsgResize{Reservation: "res-1", Bytes: 3*gib + 11})
	h.next(170)
	st := statementOf(t, h, "res-1", nil)
	checkStatement(t, h, st, -1)
	reconstructed := false
	for _, n := range st.Notes {
		reconstructed = reconstructed || len(n) > 30 && n[:30] == "the reservation was resized or"
	}
	if !reconstructed {
		t.Fatalf("no reconstruction note: %v", st.Notes)
	}
	h.ok("alice", &market.MsgCloseReservation{ResRef: market.ResRef{Reservation: "res-1"}})
	checkStatement(t, h, statementOf(t, h, "res-1", nil), -1)
}
