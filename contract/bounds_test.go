package contract

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
)

// A claim without a unit settles every unit of the provider, so it is
// bounded: up to MaxClaimAllUnits it runs, beyond it fails naming the limit
// and writes nothing but the fee.
func TestClaimAllBounded(t *testing.T) {
	p := testParams()
	p.MinUnitStake = 1
	h := newMkt(t, p, richBal, "prov")
	h.ok("prov", regProvider("prov"), &market.MsgStake{Amount: 1_000})
	for added := 0; added < market.MaxClaimAllUnits; added += 25 {
		var msgs []core.Msg
		for i := 0; i < 25; i++ {
			msgs = append(msgs, addUnit(unitP, unitE, gib, true))
		}
		h.ok("prov", msgs...)
	}
	h.next(5)
	h.ok("prov", &market.MsgClaim{})
	h.ok("prov", addUnit(unitP, unitE, gib, true))
	before := stateDump(h.blk, mktRaw("prov"))
	r := h.exec("prov", &market.MsgClaim{})
	if r.Code != core.CodeTooManyUnits || !strings.Contains(r.Log, "at most 100 units") {
		t.Fatalf("claim-all over %d units: code %s, log %q", market.MaxClaimAllUnits, r.Code.Name(), r.Log)
	}
	if !reflect.DeepEqual(before, stateDump(h.blk, mktRaw("prov"))) {
		t.Fatal("a failed claim-all changed state beyond the signer's fee")
	}
	h.ok("prov", &market.MsgClaim{Unit: "unit-101"})
}

// A quote reads at most the first 1,000 units of the price index: a unit
// past them is not quoted even when its total would be the cheapest (here
// the dearest storage price but free egress, quoted with much egress).
func TestQuoteBounded(t *testing.T) {
	s, _ := newBenchState(t, 1_001, 0)
	// Units 1..1000 cost 1000+i storage and 10 egress; make unit-1001 the
	// dearest by storage and free in egress.
	ctx := &core.Context{KV: s.kv, Block: core.Block{ChainID: mktChain, Height: 1, Time: time.Unix(s.now, 0)}}
	owner := mktRaw("bp0")
	if err := handle(ctx, owner, addUnit(1_000_000, 0, 1<<50, true)); err != nil {
		t.Fatal(err)
	}
	out, err := Query(s.kv, "quote?bytes=1GiB&term=30d&egress=100TiB&limit=100")
	if err != nil {
		t.Fatal(err)
	}
	var page types.QuotePage
	mustUnmarshal(t, out, &page)
	if len(page.Quotes) != 100 {
		t.Fatalf("%d quotes, want 100", len(page.Quotes))
	}
	for _, q := range page.Quotes {
		if q.Unit == "unit-1002" {
			t.Fatal("quote read past its first 1,000 units")
		}
	}
	if page.Quotes[0].Cost.Total > page.Quotes[99].Cost.Total {
		t.Fatal("quotes are not ranked by total cost")
	}
}
