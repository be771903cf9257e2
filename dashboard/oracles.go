package dashboard

import (
	"context"
	"net/http"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/core"
)

// oraclesPage is the data of oracles.html.
type oraclesPage struct {
	Oracles   []types.OracleView
	Active    int
	Truncated bool
	Totals    oracleTotals
}

// oracleTotals sum the listed oracles, saturating instead of wrapping.
type oracleTotals struct {
	Stake, Rewards, Penalized core.Amount
	UnitReports, InMedian     uint64
}

func satAdd(a, b core.Amount) core.Amount {
	s, err := core.Add(a, b)
	if err != nil {
		return core.MaxAmount
	}
	return s
}

func satAddU64(a, b uint64) uint64 {
	s, err := core.AddU64(a, b)
	if err != nil {
		return ^uint64(0)
	}
	return s
}

func (h *Handler) oracles(ctx context.Context, _ *http.Request) (view, error) {
	var p oraclesPage
	cursor := ""
	for i := 0; ; i++ {
		if i == maxListPages {
			p.Truncated = true
			break
		}
		pg, err := h.api.Oracles(ctx, true, cursor)
		if err != nil {
			return view{}, err
		}
		p.Oracles = append(p.Oracles, pg.Oracles...)
		if cursor = pg.NextCursor; cursor == "" {
			break
		}
	}
	for _, o := range p.Oracles {
		if o.Active {
			p.Active++
		}
		t := &p.Totals
		t.Stake, t.Rewards, t.Penalized = satAdd(t.Stake, o.Stake), satAdd(t.Rewards, o.Rewards), satAdd(t.Penalized, o.Penalized)
		t.UnitReports, t.InMedian = satAddU64(t.UnitReports, o.UnitsReported), satAddU64(t.InMedian, o.InMedian)
	}
	return view{Name: "oracles", Title: "Oracles", Data: p}, nil
}
