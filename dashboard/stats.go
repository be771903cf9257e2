package dashboard

import (
	"context"
	"net/http"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/client"
)

// statsPage is the data of stats.html.
type statsPage struct {
	Stats  *types.StatsView
	Epochs []types.EpochStats
	Charts []chart
}

func (h *Handler) stats(ctx context.Context, _ *http.Request) (view, error) {
	st, err := h.api.Stats(ctx)
	if err != nil {
		return view{}, err
	}
	ep, err := h.api.EpochStats(ctx, client.EpochRange{})
	if err != nil {
		return view{}, err
	}
	var epochs []types.EpochStats
	for _, e := range ep.Epochs {
		// Epochs without a block have no snapshot; charting them as zeros
		// would draw false dips.
		if e.Time.IsZero() && e.QoS.Reported == 0 {
			continue
		}
		epochs = append(epochs, e)
	}
	p := statsPage{Stats: st, Epochs: epochs, Charts: statsCharts(epochs)}
	return view{Name: "stats", Title: "Network", Data: p}, nil
}

func statsCharts(eps []types.EpochStats) []chart {
	n := len(eps)
	nums := make([]int64, n)
	series := func(f func(e types.EpochStats) float64) []float64 {
		out := make([]float64, n)
		for i, e := range eps {
			out[i] = f(e)
		}
		return out
	}
	for i, e := range eps {
		nums[i] = e.Epoch
	}
	labels := epochLabels(nums)
	return []chart{
		{ID: "chart-capacity", Type: "line", Title: "Capacity", XLabel: "epoch", YLabel: "GiB", Labels: labels, Datasets: []dataset{
			{Label: "offered", Data: series(func(e types.EpochStats) float64 { return gibFloat(e.CapacityOffered) }), Color: colBlue},
			{Label: "reserved", Data: series(func(e types.EpochStats) float64 { return gibFloat(e.CapacityReserved) }), Color: colPurple, Fill: true},
			{Label: "used", Data: series(func(e types.EpochStats) float64 { return gibFloat(e.CapacityUsed) }), Color: colGreen, Fill: true},
		}},
		{ID: "chart-money", Type: "line", Title: "Paid to providers and fees (cumulative)", XLabel: "epoch", YLabel: "FLASH", Labels: labels, Datasets: []dataset{
			{Label: "paid", Data: series(func(e types.EpochStats) float64 { return flashFloat(e.Paid) }), Color: colGreen},
			{Label: "fees", Data: series(func(e types.EpochStats) float64 { return flashFloat(e.Fees) }), Color: colAmber},
			{Label: "slashed", Data: series(func(e types.EpochStats) float64 { return flashFloat(e.Slashed) }), Color: colRed},
			{Label: "compensation", Data: series(func(e types.EpochStats) float64 { return flashFloat(e.Compensation) }), Color: colTeal},
		}},
		// Escrow and stake differ by orders of magnitude: one chart each.
		{ID: "chart-escrowed", Type: "line", Title: "Escrowed by consumers", XLabel: "epoch", YLabel: "FLASH", Labels: labels, Datasets: []dataset{
			{Label: "escrowed", Data: series(func(e types.EpochStats) float64 { return flashFloat(e.Escrowed) }), Color: colBlue, Fill: true},
		}},
		{ID: "chart-staked", Type: "line", Title: "Staked by providers and oracles", XLabel: "epoch", YLabel: "FLASH", Labels: labels, Datasets: []dataset{
			{Label: "staked", Data: series(func(e types.EpochStats) float64 { return flashFloat(e.Staked) }), Color: colPurple, Fill: true},
		}},
		{ID: "chart-qos", Type: "bar", Title: "Unit QoS outcomes", XLabel: "epoch", YLabel: "units", Stacked: true, Labels: labels, Datasets: []dataset{
			{Label: "compliant", Data: series(func(e types.EpochStats) float64 { return float64(e.QoS.Compliant) }), Color: colGreen},
			{Label: "breached", Data: series(func(e types.EpochStats) float64 { return float64(e.QoS.Breached) }), Color: colRed},
			{Label: "no quorum", Data: series(func(e types.EpochStats) float64 { return float64(e.QoS.NoQuorum) }), Color: colAmber},
			{Label: "maintenance", Data: series(func(e types.EpochStats) float64 { return float64(e.QoS.Maintenance) }), Color: colGrey},
		}},
		{ID: "chart-counts", Type: "line", Title: "Providers, units and live reservations", XLabel: "epoch", YLabel: "count", Labels: labels, Datasets: []dataset{
			{Label: "providers", Data: series(func(e types.EpochStats) float64 { return float64(e.Providers) }), Color: colBlue, Step: true},
			{Label: "units", Data: series(func(e types.EpochStats) float64 { return float64(e.Units) }), Color: colGreen, Step: true},
			{Label: "live reservations", Data: series(func(e types.EpochStats) float64 { return float64(e.LiveReservations) }), Color: colPurple, Step: true},
			{Label: "oracles", Data: series(func(e types.EpochStats) float64 { return float64(e.Oracles) }), Color: colAmber, Step: true},
		}},
	}
}
