package contract

import (
	"testing"

	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/qos"
)

// TestMissWorkBounded: the miss accounting is epoch-end work like the
// rest: at one item per block it spreads over blocks (qos_backlog in the
// misses phase) and ends with the same oracle records and balances as a
// block doing it all.
func TestMissWorkBounded(t *testing.T) {
	p := qosTestParams()
	p.OraclesPerUnit = 8
	h := newAssignQoS(t, p, "bound")
	e := h.epoch()
	toEpoch(h, e+1) // epochs e..e+2 pass without a report, each with a block (an assignment)
	toEpoch(h, e+2)
	EndBlock(h.blk, h.block())
	h.blk.Write()
	bounded, unbounded := forkChain(t, h, 1), forkChain(t, h, 0)
	jump := (e+4)*qEpoch + 1 - h.now // epochs e+1 and e+2 become final
	if ev := unbounded.block(jump, nil); hasEvent(ev, "qos_backlog") {
		t.Fatal("the unbounded app left a backlog")
	}
	missPhase := 0
	for dt, blocks := jump, 0; ; dt, blocks = 1, blocks+1 {
		if blocks > 50 {
			t.Fatal("the bounded app never finished")
		}
		ev := bounded.block(dt, nil)
		for _, x := range ev {
			if x.Type == "qos_backlog" && attr(x, "phase") == "misses" {
				missPhase++
			}
		}
		if err := bank.CheckSupply(bounded.kv); err != nil {
			t.Fatal(err)
		}
		if _, _, pending := qos.EpochBacklog(bounded.kv); !pending {
			break
		}
	}
	if missPhase < 2 {
		t.Fatalf("%d blocks left miss work at one item per block, want at least 2 (2 units x 2 epochs)", missPhase)
	}
	for _, o := range six {
		b, _ := qos.GetOracle(bounded.kv, mktRaw(o))
		u, _ := qos.GetOracle(unbounded.kv, mktRaw(o))
		if b.Missed != u.Missed || b.Stake != u.Stake || b.Jailed != u.Jailed || b.Missed == 0 {
			t.Fatalf("%s: bounded %+v, unbounded %+v", o, b, u)
		}
	}
	if a, b := bank.PoolBalance(bounded.kv, bank.PoolTreasury), bank.PoolBalance(unbounded.kv, bank.PoolTreasury); a != b {
		t.Fatalf("treasury bounded %d, unbounded %d", a, b)
	}
}
