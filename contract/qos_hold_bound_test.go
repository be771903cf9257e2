package contract

import (
	"slices"
	"testing"

	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/qos"
)

// TestHoldSweepBoundedMatchesUnbounded: the held unit-epochs of many
// units expire in one epoch's work; with a limit of 3 items per block the
// resolution queue is worked off over several blocks (the holds phase in
// the backlog events), and the state ends byte for byte as one unbounded
// block's.
func TestHoldSweepBoundedMatchesUnbounded(t *testing.T) {
	h := newQoS(t, qosTestParams(), 1_000_000)
	var msgs []core.Msg
	for range backlogUnits - 2 {
		msgs = append(msgs, addUnit(unitP, unitE, 100*gib, true))
	}
	h.ok("prov", msgs...)
	msgs = nil
	for i := 3; i <= backlogUnits; i++ {
		msgs = append(msgs, &market.MsgReserve{Unit: market.UnitIDString(uint64(i)), Bytes: gib, Term: monthS, MaxPrice: unitP})
	}
	h.ok("carol", msgs...)
	e := h.epoch() + 1 // the first epoch with a fixed set
	toEpoch(h, e)
	toEpoch(h, e+1)
	toEpoch(h, e+2) // holds epoch e of every unit, due at e+2+hold_epochs
	if held := qos.HeldUnitEpochs(h.blk, 100); len(held) != backlogUnits {
		t.Fatalf("%d held unit-epochs, want %d", len(held), backlogUnits)
	}
	toEpoch(h, e+3)
	toEpoch(h, e+4)
	EndBlock(h.blk, h.block())
	h.blk.Write()
	bounded, unbounded := forkChain(t, h, 3), forkChain(t, h, 0)
	jump := (e+5)*qEpoch + 1 - bounded.now
	expired := func(ev []core.Event) (n int) {
		for _, x := range ev {
			if x.Type == "qos_hold_expired" {
				n++
			}
		}
		return n
	}
	if n := expired(unbounded.block(jump, nil)); n != backlogUnits {
		t.Fatalf("unbounded: %d holds expired, want %d", n, backlogUnits)
	}
	sawHolds, n, blocks := false, 0, 0
	for dt := jump; ; dt = 1 {
		ev := bounded.block(dt, nil)
		n += expired(ev)
		blocks++
		for _, x := range ev {
			sawHolds = sawHolds || (x.Type == "qos_backlog" && attr(x, "phase") == "holds")
		}
		checkMarketInvariants(t, bounded.kv, bounded.now)
		if _, _, pending := qos.EpochBacklog(bounded.kv); !pending {
			break
		}
		if blocks > 40 {
			t.Fatal("the backlog is not shrinking")
		}
	}
	if !sawHolds || n != backlogUnits {
		t.Fatalf("bounded: holds phase in the backlog %v, %d expired over %d blocks", sawHolds, n, blocks)
	}
	for unbounded.now < bounded.now {
		unbounded.block(1, nil)
	}
	if got, want := stateOf(bounded.kv), stateOf(unbounded.kv); !slices.Equal(got, want) {
		diffStates(t, got, want)
	}
	for i := uint64(1); i <= backlogUnits; i++ {
		if !market.IsBreached(bounded.kv, i, e) {
			t.Fatalf("unit-%d epoch %d expired but not refunded", i, e)
		}
	}
}
