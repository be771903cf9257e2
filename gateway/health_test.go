package gateway

import (
	"testing"
	"time"
)

func TestHealthOrder(t *testing.T) {
	h := newHealth()
	ms := []Member{{ID: "a", Score: 10}, {ID: "b", Score: 90}, {ID: "c", Score: 50}}
	order := func() string {
		s := ""
		for _, m := range h.order(ms, "r", "k") {
			s += m.ID
		}
		return s
	}
	if got := order(); got != "bca" {
		t.Fatalf("unmeasured members by score: %s", got)
	}
	h.observe("b", 0, true) // a failure: slowest
	h.observe("a", 2*time.Millisecond, false)
	h.observe("c", 30*time.Millisecond, false)
	if got := order(); got != "acb" {
		t.Fatalf("by latency: %s", got)
	}
	h.setBad("a", "r", "k", true)
	if got := order(); got != "cba" {
		t.Fatalf("bad copy last: %s", got)
	}
	// A failed member's figure ages out: it is tried again.
	h.mu.Lock()
	e := h.ewma["b"]
	e.at = e.at.Add(-2 * ewmaMaxAge)
	h.ewma["b"] = e
	h.mu.Unlock()
	if got := order(); got != "bca" {
		t.Fatalf("after the failure aged out: %s", got)
	}
}
