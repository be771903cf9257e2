package dashboard

import (
	"fmt"
	"sort"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/core"
)

// scoreMove is an epoch in which a unit's score changed or it breached:
// why the provider's score moved.
type scoreMove struct {
	Epoch    int64 // -1: the score now, after the last reported epoch
	Unit     string
	From, To uint32
	Status   string
	Terms    []string
	Slashed  core.Amount
	Reason   string
}

// maxMoves is how many score moves the provider page lists.
const maxMoves = 20

// scoreHistory charts each unit's score per epoch, and now, with the
// provider's (the mean over units reported that epoch) and lists the
// epochs where a score changed or a term was breached, newest first.
func scoreHistory(units []types.UnitView, qos map[string]*types.UnitQoSView) ([]chart, []scoreMove) {
	epochs, idx := historyEpochs(qos)
	sum, cnt := make([]float64, len(epochs)), make([]float64, len(epochs))
	var sets []dataset
	var moves []scoreMove
	for i, u := range units {
		q := qos[u.ID]
		if q == nil {
			continue
		}
		data, m := unitScores(u.ID, q, epochs, idx)
		for k, v := range data {
			if v >= 0 {
				sum[k] += v
				cnt[k]++
			}
		}
		moves = append(moves, m...)
		fillGaps(data)
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
	// Newest first, "now" (-1) above every epoch.
	sort.SliceStable(moves, func(i, j int) bool {
		a, b := moves[i].Epoch, moves[j].Epoch
		return a == -1 && b != -1 || a > b && b != -1
	})
	if len(moves) > maxMoves {
		moves = moves[:maxMoves]
	}
	labels := epochLabels(epochs)
	if len(labels) > 0 {
		labels[len(labels)-1] = "now"
	}
	c := chart{ID: "chart-score", Type: "line", Title: "Score per epoch", XLabel: "epoch", YLabel: "score", YMax: ptr(100),
		Labels: labels, Datasets: sets}
	return []chart{c}, moves
}

// historyEpochs are the epochs any unit was reported in, ascending, then
// -1 for the score now; idx maps an epoch to its position.
func historyEpochs(qos map[string]*types.UnitQoSView) ([]int64, map[int64]int) {
	set := map[int64]bool{}
	for _, q := range qos {
		for _, e := range q.History {
			set[e.Epoch] = true
		}
	}
	epochs := make([]int64, 0, len(set)+1)
	for e := range set {
		epochs = append(epochs, e)
	}
	sort.Slice(epochs, func(i, j int) bool { return epochs[i] < epochs[j] })
	if len(epochs) > 0 {
		epochs = append(epochs, -1)
	}
	idx := map[int64]int{}
	for i, e := range epochs {
		idx[e] = i
	}
	return epochs, idx
}

// unitScores is one unit's score at each epoch (-1 where it was not
// reported) and the moves of its score.
func unitScores(unit string, q *types.UnitQoSView, epochs []int64, idx map[int64]int) ([]float64, []scoreMove) {
	h := append([]types.UnitEpochQoS(nil), q.History...)
	sort.Slice(h, func(a, b int) bool { return h[a].Epoch < h[b].Epoch })
	var moves []scoreMove
	if len(h) > 0 {
		// The score moves when a scoring period closes, which can be after
		// the last reported epoch: "now" shows where it stands.
		last := h[len(h)-1].Score
		h = append(h, types.UnitEpochQoS{Epoch: -1, Score: q.Score, Status: "now"})
		if q.Score != last {
			moves = append(moves, scoreMove{Epoch: -1, Unit: unit, From: last, To: q.Score, Status: "scored",
				Reason: fmt.Sprintf("scoring period %d closed: %+d", q.LastScored, q.LastDelta)})
		}
	}
	data := make([]float64, len(epochs))
	for j := range data {
		data[j] = -1
	}
	for j, e := range h {
		data[idx[e.Epoch]] = float64(e.Score)
		prev := e.Score
		if j > 0 {
			prev = h[j-1].Score
		}
		if e.Epoch >= 0 && (prev != e.Score || len(e.Terms) > 0 || e.Status == "breached") {
			moves = append(moves, scoreMove{Epoch: e.Epoch, Unit: unit, From: prev, To: e.Score, Status: e.Status, Terms: e.Terms,
				Slashed: e.Slashed, Reason: moveReason(prev, e.Score)})
		}
	}
	return data, moves
}

// fillGaps carries a unit's score over epochs it was not reported in
// (marked -1), so its line does not drop to zero; before its first report
// the first known score is used.
func fillGaps(data []float64) {
	first := 0.0
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

// moveReason says why a score moved in an epoch with no breached term: a
// scoring period closed (see the rule under the table).
func moveReason(from, to uint32) string {
	switch {
	case to > from:
		return fmt.Sprintf("scoring period closed: +%d, reachable and within its terms", to-from)
	case to < from:
		return fmt.Sprintf("scoring period closed: −%d, unreachable or below its terms", from-to)
	}
	return ""
}
