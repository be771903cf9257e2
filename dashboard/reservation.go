package dashboard

import (
	"context"
	"net/http"
	"sort"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/client"
)

// reservationPage is the data of reservation.html.
type reservationPage struct {
	Res    *types.ReservationView
	Unit   *types.UnitView // nil if the unit is gone
	Charts []chart
}

func (h *Handler) reservation(ctx context.Context, r *http.Request) (view, error) {
	res, err := h.api.Reservation(ctx, r.PathValue("id"))
	if err != nil {
		return view{}, err
	}
	p := reservationPage{Res: res}
	if u, err := h.api.Unit(ctx, res.Unit); err == nil {
		p.Unit = u
	}
	p.Charts = reservationCharts(res)
	q, err := h.api.UnitQoS(ctx, res.Unit, client.EpochRange{})
	if err != nil {
		return view{}, err
	}
	p.Charts = append(p.Charts, serviceChart(res, q.History))
	return view{Name: "reservation", Title: "Reservation " + res.ID, Data: p}, nil
}

// reservationCharts break the escrow down into where the money went.
func reservationCharts(r *types.ReservationView) []chart {
	money := chart{ID: "chart-escrow", Type: "bar", Title: "Escrow: where the money went", YLabel: "FLASH",
		Labels: []string{"escrowed", "paid", "refunded", "comp. paid", "comp. owed", "remaining"},
		Datasets: []dataset{{Label: "FLASH", Color: colBlue, Data: []float64{
			flashFloat(r.Escrowed), flashFloat(r.Paid), flashFloat(r.Refunded), flashFloat(r.Compensation),
			flashFloat(r.CompensationOwed), flashFloat(r.RemainingEscrow)}}}}
	return []chart{money}
}

// serviceChart is the unit's p95 latency in the epochs since the
// reservation started, against the SLA the reservation copied: what its
// compensation is judged on.
func serviceChart(r *types.ReservationView, hist []types.UnitEpochQoS) chart {
	var epochs []int64
	var p95 []float64
	h := append([]types.UnitEpochQoS(nil), hist...)
	sort.Slice(h, func(i, j int) bool { return h[i].Epoch < h[j].Epoch })
	for _, e := range h {
		if e.Epoch < r.CompStart {
			continue
		}
		epochs = append(epochs, e.Epoch)
		p95 = append(p95, float64(e.P95Ms))
	}
	n := len(epochs)
	return chart{ID: "chart-service", Type: "line", Title: "p95 latency on " + r.Unit + " since the reservation started", XLabel: "epoch",
		YLabel: "ms", Labels: epochLabels(epochs), Datasets: []dataset{
			{Label: "p95 latency (ms)", Data: p95, Color: colBlue, Fill: true},
			{Label: "SLA max p95 (ms)", Data: constant(float64(r.SLA.MaxP95LatencyMs), n), Color: colRed, Dashed: true},
		}}
}
