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

func providerStatementOf(t *testing.T, h *mkt, addr string, q url.Values) types.ProviderStatement {
	t.Helper()
	out, ok, err := testApp.Market.Query(h.blk, []string{"providers", addr, "statement"}, q)
	if !ok || err != nil {
		t.Fatalf("provider statement: ok=%v err=%v", ok, err)
	}
	var st types.ProviderStatement
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestProviderStatement: two reservations of two consumers on two units
// of a provider, one with a breached epoch and closed early; the
// provider's epoch lines (over all pages) sum exactly to its totals, which
// are the sums of the reservations' own statements, and what the units
// paid out and can pay is not more than the revenue.
func TestProviderStatement(t *testing.T) {
	h := newMkt(t, testParams(), 100_000_000, "prov", "alice", "bob")
	h.ok("prov", regProvider("prov"), &market.MsgStake{Amount: 2_000}, addUnit(1_000_003, 500, 10*gib, true), addUnit(700_001, 500, 10*gib, true))
	h.next(11)
	h.ok("alice", &market.MsgReserve{Unit: "unit-1", Bytes: gib + 5, Term: monthS, EgressBytes: gib, MaxPrice: 1_000_003})
	h.next(97)
	h.ok("bob", &market.MsgReserve{Unit: "unit-2", Bytes: 2*gib + 1, Term: monthS, MaxPrice: 700_001})
	for i := 0; i < 5; i++ {
		h.next(43)
	}
	if err := testApp.Market.MarkEpochBreached(h.blk, "unit-1", h.now/60-1, h.now); err != nil {
		t.Fatal(err)
	}
	h.ok("prov", &market.MsgReportUsage{Reservation: "res-1", Epoch: h.now / 60, EgressBytes: gib / 2})
	h.next(61)
	h.ok("alice", &market.MsgCloseReservation{ResRef: market.ResRef{Reservation: "res-1"}})
	for i := 0; i < 6; i++ {
		h.next(60)
	}
	h.ok("prov", &market.MsgClaim{})
	h.next(30)

	prov := mktAddr("prov")
	var lines []types.ProviderStatementLine
	var st types.ProviderStatement
	for from := int64(0); ; {
		st = providerStatementOf(t, h, prov, url.Values{"from": {strconv.FormatInt(from, 10)}, "limit": {"3"}})
		lines = append(lines, st.Lines...)
		if st.NextFrom == 0 {
			break
		}
		from = st.NextFrom
	}
	var sp, fee, rev core.Amount
	for _, l := range lines {
		sp, fee, rev = sp+l.StoragePaid, fee+l.Fee, rev+l.Revenue
	}
	tot := st.Totals
	if sp != tot.StoragePaid || fee != tot.Fee || rev != tot.Revenue || int64(len(lines)) != st.LastEpoch-st.FirstEpoch+1 || st.Reservations != 2 {
		t.Fatalf("lines sum to %d/%d/%d over %d epochs; statement %+v", sp, fee, rev, len(lines), st)
	}
	var wantSP, wantFee, wantEgress core.Amount
	for _, id := range []string{"res-1", "res-2"} {
		rs := statementOf(t, h, id, nil)
		wantSP, wantFee, wantEgress = wantSP+rs.Totals.StoragePaid, wantFee+rs.Totals.Fee, wantEgress+rs.Totals.EgressPaid
	}
	if tot.StoragePaid != wantSP || tot.Fee != wantFee || tot.EgressPaid != wantEgress || wantEgress == 0 {
		t.Fatalf("provider totals %+v, reservations storage %d fee %d egress %d", tot, wantSP, wantFee, wantEgress)
	}
	if tot.Claimed == 0 || tot.Claimed+tot.Claimable > tot.Revenue {
		t.Fatalf("claimed %d + claimable %d vs revenue %d", tot.Claimed, tot.Claimable, tot.Revenue)
	}
	if _, _, err := testApp.Market.Query(h.blk, []string{"providers", mktAddr("alice"), "statement"}, nil); err == nil {
		t.Fatal("statement of a non-provider answered")
	}
}
