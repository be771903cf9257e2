package qos

import (
	"math"
	"testing"

	"github.com/flashback-network/flashback/contract/core"
)

// TestSaturatingCounters: the stats counters stop at their maximum and
// at zero instead of wrapping.
func TestSaturatingCounters(t *testing.T) {
	if got := satAdd(uint64(math.MaxUint64-1), 5); got != math.MaxUint64 {
		t.Fatalf("satAdd wrapped: %d", got)
	}
	if got := satAdd(core.Amount(2), 3); got != 5 {
		t.Fatalf("satAdd(2, 3) = %d", got)
	}
	if got := satSub(uint64(3), 5); got != 0 {
		t.Fatalf("satSub wrapped: %d", got)
	}
	for _, c := range []struct{ total, old, nw, want uint64 }{
		{10, 4, 7, 13}, {10, 7, 4, 7}, {2, 9, 0, 0}, {math.MaxUint64, 0, 9, math.MaxUint64},
	} {
		if got := satDelta(c.total, c.old, c.nw); got != c.want {
			t.Fatalf("satDelta(%d, %d, %d) = %d, want %d", c.total, c.old, c.nw, got, c.want)
		}
	}
	var s NetworkStats
	s.Paid = core.Amount(math.MaxUint64 - 1)
	s.Paid = satAdd(s.Paid, 10)
	if s.Paid != core.Amount(math.MaxUint64) {
		t.Fatalf("paid wrapped: %d", s.Paid)
	}
}
