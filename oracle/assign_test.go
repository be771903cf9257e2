package oracle

import (
	"reflect"
	"testing"
)

// TestKeepAssigned: with an assignment the daemon probes only its units;
// without one (fixed false) every target stays.
func TestKeepAssigned(t *testing.T) {
	targets := []Target{{Unit: "unit-1"}, {Unit: "unit-2"}, {Unit: "unit-3"}}
	if got := keepAssigned(targets, []string{"unit-3", "unit-1", "unit-9"}, true); !reflect.DeepEqual(got, []Target{{Unit: "unit-1"}, {Unit: "unit-3"}}) {
		t.Fatalf("assigned unit-1, unit-3: kept %v", got)
	}
	if got := keepAssigned(targets, nil, true); len(got) != 0 {
		t.Fatalf("nothing assigned: kept %v", got)
	}
	if got := keepAssigned(targets, nil, false); !reflect.DeepEqual(got, targets) {
		t.Fatalf("no assignment in the epoch: kept %v", got)
	}
}
