package api_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/core"
)

// TestAssignmentsOverSDK: on a real node, once an epoch begins with the
// oracle registered, the SDK's UnitOracles and AllOracleAssignments name it
// for the unit; after the provider declares it related, the next epochs
// assign it nothing; unjailing a free oracle is refused with wrong_state.
func TestAssignmentsOverSDK(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	ctx := context.Background()
	sn := startSpecNode(t)
	w := populateSpecNode(t, sn)
	epochNow := func() int64 {
		st, err := sn.c.Status(ctx)
		mustSpec(t, "status", err)
		return st.LatestBlockTime.Unix() / sn.params.EpochSeconds
	}
	waitEpoch := func(e int64) {
		for deadline := time.Now().Add(30 * time.Second); epochNow() < e; time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("epoch %d not reached in 30s", e)
			}
		}
	}
	e := epochNow() + 1 // the first epoch that began with the oracle registered
	waitEpoch(e)
	uo, err := sn.c.UnitOracles(ctx, w.unitA, e)
	mustSpec(t, "unit oracles", err)
	if !uo.Fixed || !slices.Equal(uo.Oracles, []string{w.orcAddr}) {
		t.Fatalf("epoch %d: %+v, want the one oracle", e, uo)
	}
	units, fixed, err := sn.c.AllOracleAssignments(ctx, w.orcAddr, e)
	mustSpec(t, "assignments", err)
	if !fixed || !slices.Contains(units, w.unitA) || !slices.Contains(units, w.unitB) {
		t.Fatalf("epoch %d: oracle assigned %v (fixed %v), want both units", e, units, fixed)
	}
	_, err = sn.signers["provider"].DeclareRelated(ctx, w.orcAddr)
	mustSpec(t, "declare related", err)
	later := epochNow() + 1
	waitEpoch(later)
	uo, err = sn.c.UnitOracles(ctx, w.unitA, later)
	mustSpec(t, "unit oracles", err)
	if len(uo.Oracles) != 0 {
		t.Fatalf("epoch %d after the declaration: %+v, want no oracle", later, uo)
	}
	if _, err := sn.signers["oracle"].UnjailOracle(ctx); !client.IsCode(err, core.CodeWrongState) {
		t.Fatalf("unjailing a free oracle: %v", err)
	}
}
