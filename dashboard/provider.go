package dashboard

import (
	"context"
	"errors"
	"net/http"
	"sort"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/core"
)

// changesWindow is how many recent blocks the provider page asks
// /v1/providers/{addr}/changes about.
const changesWindow = 500

// providerPage is the data of provider.html.
type providerPage struct {
	Provider     *types.ProviderView
	Score        *types.ProviderScoreView
	Units        []types.UnitView
	Reservations []types.ReservationView
	Revenue      revenue
	Moves        []scoreMove
	Charts       []chart
	Changes      *client.ProviderChanges
	ChangesSince int64
}

// revenue is what the provider's units earned: storage already claimed,
// storage claimable now, and egress (paid as usage is reported).
type revenue struct {
	Claimed, Claimable, Egress, Total core.Amount
	Overflow                          bool
}

func (h *Handler) provider(ctx context.Context, r *http.Request) (view, error) {
	addr := r.PathValue("address")
	pv, err := h.api.Provider(ctx, addr)
	if err != nil {
		return view{}, err
	}
	sc, err := h.api.ProviderScore(ctx, addr)
	if err != nil {
		return view{}, err
	}
	units, _, err := h.allUnits(ctx, client.UnitFilter{Provider: addr})
	if err != nil {
		return view{}, err
	}
	rs, err := h.api.Reservations(ctx, client.ReservationFilter{Provider: addr, Page: client.Page{Limit: 100}})
	if err != nil {
		return view{}, err
	}
	p := providerPage{Provider: pv, Score: sc, Units: units, Reservations: rs.Reservations, Revenue: sumRevenue(units)}
	hists := map[string][]types.UnitEpochQoS{}
	for _, u := range units {
		q, err := h.api.UnitQoS(ctx, u.ID, client.EpochRange{})
		if err != nil {
			return view{}, err
		}
		hists[u.ID] = q.History
	}
	p.Charts, p.Moves = scoreHistory(units, hists)
	if err := h.recentChanges(ctx, &p); err != nil {
		return view{}, err
	}
	return view{Name: "provider", Title: "Provider " + nameOr(pv.Name, pv.Address), Data: p}, nil
}

// recentChanges asks which reservations and access keys of the provider
// changed in the last changesWindow blocks.
func (h *Handler) recentChanges(ctx context.Context, p *providerPage) error {
	st, err := h.api.Status(ctx)
	if err != nil {
		return err
	}
	p.ChangesSince = max(1, st.Height-changesWindow)
	ch, err := h.api.ProviderChanges(ctx, p.Provider.Address, p.ChangesSince)
	var ae *client.Error
	if errors.As(err, &ae) && ae.Status == http.StatusBadRequest {
		return nil // an older node without the window: the section is left out
	}
	p.Changes = ch
	return err
}

func nameOr(name, addr string) string {
	if name != "" {
		return name
	}
	return short(addr)
}

func sumRevenue(units []types.UnitView) revenue {
	var rv revenue
	add := func(to *core.Amount, a core.Amount) {
		s, err := core.Add(*to, a)
		if err != nil {
			rv.Overflow = true
			s = core.MaxAmount
		}
		*to = s
	}
	for _, u := range units {
		add(&rv.Claimed, u.Settlement.ClaimedNet)
		add(&rv.Claimable, u.Claimable)
		add(&rv.Egress, u.Settlement.EgressEarned)
	}
	add(&rv.Total, rv.Claimed)
	add(&rv.Total, rv.Claimable)
	add(&rv.Total, rv.Egress)
	return rv
}

// scoreMove is an epoch in which a unit's score changed or it breached:
// why the provider's score moved.
type scoreMove struct {
	Epoch      int64
	Unit       string
	From, To   uint32
	Status     string
	Terms      []string
	Slashed    core.Amount
	Compliance string
}

// maxMoves is how many score moves the provider page lists.
const maxMoves = 20

// scoreHistory charts each unit's score per epoch with the provider's
// (the mean over units reported that epoch) and lists the epochs where a
// score changed or a term was breached, newest first.
func scoreHistory(units []types.UnitView, hists map[string][]types.UnitEpochQoS) ([]chart, []scoreMove) {
	epochSet := map[int64]bool{}
	for _, h := range hists {
		for _, e := range h {
			epochSet[e.Epoch] = true
		}
	}
	epochs := make([]int64, 0, len(epochSet))
	for e := range epochSet {
		epochs = append(epochs, e)
	}
	sort.Slice(epochs, func(i, j int) bool { return epochs[i] < epochs[j] })
	idx := map[int64]int{}
	for i, e := range epochs {
		idx[e] = i
	}
	sum, cnt := make([]float64, len(epochs)), make([]float64, len(epochs))
	var sets []dataset
	var moves []scoreMove
	for i, u := range units {
		h := append([]types.UnitEpochQoS(nil), hists[u.ID]...)
		sort.Slice(h, func(a, b int) bool { return h[a].Epoch < h[b].Epoch })
		data := make([]float64, len(epochs))
		last := -1.0
		for j := range data {
			data[j] = -1
		}
		for j, e := range h {
			k := idx[e.Epoch]
			data[k], last = float64(e.Score), float64(e.Score)
			sum[k] += float64(e.Score)
			cnt[k]++
			prev := e.Score
			if j > 0 {
				prev = h[j-1].Score
			}
			if prev != e.Score || len(e.Terms) > 0 || e.Status == "breached" {
				moves = append(moves, scoreMove{Epoch: e.Epoch, Unit: u.ID, From: prev, To: e.Score, Status: e.Status, Terms: e.Terms, Slashed: e.Slashed})
			}
		}
		fillGaps(data, last)
		sets = append(sets, dataset{Label: u.ID, Data: data, Color: seriesColors[(i+1)%len(seriesColors)], Step: true})
	}
	mean := make([]float64, len(epochs))
	for k := range mean {
		if cnt[k] > 0 {
			mean[k] = sum[k] / cnt[k]
		}
	}
	if len(units) == 1 {
		// One unit: its line is the provider's.
		sets = []dataset{{Label: "score of " + units[0].ID + " (the provider's only unit)", Data: mean, Color: colBlue, Step: true, Fill: true}}
	} else {
		sets = append([]dataset{{Label: "provider (mean of units)", Data: mean, Color: colBlue, Step: true, Fill: true}}, sets...)
	}
	sort.SliceStable(moves, func(i, j int) bool { return moves[i].Epoch > moves[j].Epoch })
	if len(moves) > maxMoves {
		moves = moves[:maxMoves]
	}
	c := chart{ID: "chart-score", Type: "line", Title: "Score per epoch", XLabel: "epoch", YLabel: "score", YMax: ptr(100),
		Labels: epochLabels(epochs), Datasets: sets}
	return []chart{c}, moves
}

// fillGaps carries a unit's score over epochs it was not reported in
// (marked -1), so its line does not drop to zero; before its first report
// the first known score is used.
func fillGaps(data []float64, fallback float64) {
	first := fallback
	for _, v := range data {
		if v >= 0 {
			first = v
			break
		}
	}
	prev := first
	for i, v := range data {
		if v < 0 {
			data[i] = prev
		} else {
			prev = v
		}
	}
}
