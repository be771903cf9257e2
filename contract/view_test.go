package contract

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/flashback-network/flashback/contract/market"
)

// The REST views are separate types from the state records, but carry the
// records' JSON field for field (the API's responses did not change when
// they split), except the settlement's internal ring and last-breach mark.
func TestViewsCarryRecordJSON(t *testing.T) {
	h := fixture(t)
	// A breach puts an entry in unit-1's settlement ring.
	if err := testApp.Market.MarkEpochBreached(h.blk, "unit-1", h.now/60-1, h.now); err != nil {
		t.Fatal(err)
	}
	if len(h.unit("unit-1").Settlement.Ring) == 0 {
		t.Fatal("unit-1 has no settlement ring to hide")
	}
	cases := []struct {
		path   string
		record any
		drop   []string
	}{
		{"units/unit-1", h.unit("unit-1"), []string{"settlement.ring", "settlement.last_breach"}},
		{"reservations/res-1", h.res("res-1"), nil},
		{"providers/" + mktAddr("prov"), mustProvider(t, h), nil},
	}
	for _, c := range cases {
		out, err := Query(h.blk, c.path)
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		var view, rec map[string]any
		mustUnmarshal(t, out, &view)
		b, _ := json.Marshal(c.record)
		mustUnmarshal(t, b, &rec)
		for _, d := range c.drop {
			dropPath(rec, d)
		}
		for k, want := range rec {
			if k == "unbonding" && want == nil {
				want = []any{} // views list no entries as [], as they always have
			}
			if got, ok := view[k]; !ok || !reflect.DeepEqual(got, want) {
				t.Errorf("%s: field %s = %v in the view, %v in the record", c.path, k, got, want)
			}
		}
		if s, ok := view["settlement"].(map[string]any); ok {
			if _, leaked := s["ring"]; leaked {
				t.Errorf("%s: settlement ring is in the view", c.path)
			}
		}
	}
}

func mustProvider(t *testing.T, h *mkt) *market.Provider {
	p, ok := market.GetProvider(h.blk, mktRaw("prov"))
	if !ok {
		t.Fatal("provider missing")
	}
	return p
}

func dropPath(m map[string]any, path string) {
	for i := 0; i < len(path); i++ {
		if path[i] == '.' {
			if sub, ok := m[path[:i]].(map[string]any); ok {
				dropPath(sub, path[i+1:])
			}
			return
		}
	}
	delete(m, path)
}
