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
	usage := chart{ID: "chart-usage", Type: "bar", Title: "Usage against the reservation", YLabel: "GiB",
		Labels: []string{"storage", "egress", "ingress"},
		Datasets: []dataset{
			{Label: "used", Color: colGreen, Data: []float64{gibFloat(r.StoredBytes), gibFloat(r.EgressUsed), gibFloat(r.IngressBytes)}},
			{Label: "reserved / allowance", Color: "#cbd5e1", Data: []float64{gibFloat(r.Bytes), gibFloat(r.EgressBytes), 0}},
		}}
	return []chart{money, usage}
}
