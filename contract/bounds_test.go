package contract

import (
	"reflect"
	"strings"
	"testing"

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
