package dashboard

import (
	"context"
	"net/http"

	"github.com/flashback-network/flashback/api/types"
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
	return view{Name: "reservation", Title: "Reservation " + res.ID, Data: p}, nil
}

// reservationCharts break the escrow down into where the money went and
// show how much of the reserved space and egress allowance is used.
func reservationCharts(r *types.ReservationView) []chart {
	money := chart{ID: "chart-escrow", Type: "bar", Title: "Escrow: where the money went", YLabel: "FLASH",
		Labels: []string{"escrowed", "paid", "refunded", "comp. paid", "comp. owed", "remaining"},
		Datasets: []dataset{{Label: "FLASH", Color: colBlue, Data: []float64{
			flashFloat(r.Escrowed), flashFloat(r.Paid), flashFloat(r.Refunded), flashFloat(r.Compensation),
			flashFloat(r.CompensationOwed), flashFloat(r.RemainingEscrow)}}}}
	// Usage as a share of what was reserved: bytes would put a few MiB
	// stored next to a 10 GiB reservation at an invisible height.
	usage := chart{ID: "chart-usage", Type: "bar", Title: "Used of the reservation", YLabel: "%", YMax: ptr(100),
		Labels: []string{"storage", "egress allowance"},
		Datasets: []dataset{{Label: "used %", Color: colGreen, Data: []float64{
			usedPct(r.StoredBytes, r.Bytes), usedPct(r.EgressUsed, r.EgressBytes)}}}}
	return []chart{money, usage}
}
