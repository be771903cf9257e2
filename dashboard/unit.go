package dashboard

import (
	"context"
	"net/http"
	"sort"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/client"
)

// unitPage is the data of unit.html.
type unitPage struct {
	Unit         *types.UnitView
	ProviderName string
	QoS          *types.UnitQoSView
	Charts       []chart
	Recent       []types.UnitEpochQoS // newest first, at most recentEpochs
	Reservations []types.ReservationView
}

// recentEpochs is how many epochs the unit page's table lists.
const recentEpochs = 15

func (h *Handler) unit(ctx context.Context, r *http.Request) (view, error) {
	id := r.PathValue("id")
	u, err := h.api.Unit(ctx, id)
	if err != nil {
		return view{}, err
	}
	q, err := h.api.UnitQoS(ctx, id, client.EpochRange{})
	if err != nil {
		return view{}, err
	}
	p := unitPage{Unit: u, QoS: q}
	if pv, err := h.api.Provider(ctx, u.Provider); err == nil {
		p.ProviderName = pv.Name
	}
	rs, err := h.api.Reservations(ctx, client.ReservationFilter{Unit: id, Page: client.Page{Limit: 100}})
	if err != nil {
		return view{}, err
	}
	p.Reservations = rs.Reservations
	hist := append([]types.UnitEpochQoS(nil), q.History...)
	sort.Slice(hist, func(i, j int) bool { return hist[i].Epoch < hist[j].Epoch })
	p.Charts = unitCharts(hist, q.SLA)
	for i := len(hist) - 1; i >= 0 && len(p.Recent) < recentEpochs; i-- {
		p.Recent = append(p.Recent, hist[i])
	}
	return view{Name: "unit", Title: "Unit " + u.ID, Data: p}, nil
}

// unitCharts are the per-epoch QoS charts, each against its SLA term.
func unitCharts(hist []types.UnitEpochQoS, sla types.SLAOffer) []chart {
	n := len(hist)
	epochs := make([]int64, n)
	p95, uptime, down, up, compliance, score := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	var ok, bad int
	for i, e := range hist {
		epochs[i] = e.Epoch
		p95[i] = float64(e.P95Ms)
		uptime[i] = float64(e.UptimeBps) / 100
		down[i], up[i] = float64(e.DownMbps), float64(e.UpMbps)
		switch e.Status {
		case "compliant":
			ok++
		case "breached":
			bad++
		}
		// Compliance so far: compliant / judged epochs, as the API's
		// compliance_bps counts it, drawn epoch by epoch.
		if ok+bad > 0 {
			compliance[i] = float64(ok) / float64(ok+bad) * 100
		} else {
			compliance[i] = 100
		}
		score[i] = float64(e.Score)
	}
	labels := epochLabels(epochs)
	return []chart{
		{ID: "chart-latency", Type: "line", Title: "p95 latency", XLabel: "epoch", YLabel: "ms", Labels: labels, Datasets: []dataset{
			{Label: "p95 latency", Data: p95, Color: colBlue, Fill: true},
			{Label: "SLA max", Data: constant(float64(sla.MaxP95LatencyMs), n), Color: colRed, Dashed: true},
		}},
		{ID: "chart-uptime", Type: "line", Title: "Uptime (rolling window)", XLabel: "epoch", YLabel: "%", YMax: ptr(100), Labels: labels, Datasets: []dataset{
			{Label: "uptime", Data: uptime, Color: colGreen, Fill: true},
			{Label: "SLA min", Data: constant(float64(sla.MinUptimeBps)/100, n), Color: colRed, Dashed: true},
		}},
		{ID: "chart-throughput", Type: "line", Title: "Throughput", XLabel: "epoch", YLabel: "Mbit/s", Labels: labels, Datasets: []dataset{
			{Label: "download", Data: down, Color: colPurple},
			{Label: "upload", Data: up, Color: colTeal},
			{Label: "SLA min download", Data: constant(float64(sla.MinDownloadMbps), n), Color: colRed, Dashed: true},
		}},
		{ID: "chart-compliance", Type: "line", Title: "Compliance and score", XLabel: "epoch", YLabel: "%", YMax: ptr(100), Labels: labels, Datasets: []dataset{
			{Label: "compliant epochs %", Data: compliance, Color: colGreen, Step: true},
			{Label: "score", Data: score, Color: colAmber, Step: true},
		}},
	}
}
