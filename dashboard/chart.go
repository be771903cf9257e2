package dashboard

import "strconv"

// chart is one chart.js chart as the page's charts.js draws it: the
// template writes it as JSON beside its canvas, so the numbers the page
// shows and the numbers it charts come from the same API answer.
type chart struct {
	ID       string    `json:"id"`
	Type     string    `json:"type"` // line or bar
	Title    string    `json:"title"`
	XLabel   string    `json:"x_label"`
	YLabel   string    `json:"y_label"`
	YMin     *float64  `json:"y_min,omitempty"`
	YMax     *float64  `json:"y_max,omitempty"`
	Stacked  bool      `json:"stacked,omitempty"`
	Labels   []string  `json:"labels"`
	Datasets []dataset `json:"datasets"`
}

// dataset is one series; Dashed draws a threshold such as an SLA line.
type dataset struct {
	Label  string    `json:"label"`
	Data   []float64 `json:"data"`
	Color  string    `json:"color"`
	Dashed bool      `json:"dashed,omitempty"`
	Fill   bool      `json:"fill,omitempty"`
	Step   bool      `json:"step,omitempty"`
}

// The palette, picked to stay apart for colour-blind readers.
const (
	colBlue   = "#2563eb"
	colGreen  = "#059669"
	colRed    = "#dc2626"
	colAmber  = "#d97706"
	colPurple = "#7c3aed"
	colGrey   = "#64748b"
	colTeal   = "#0891b2"
)

var seriesColors = []string{colBlue, colGreen, colPurple, colAmber, colTeal, colRed, colGrey}

func ptr(f float64) *float64 { return &f }

// epochLabels labels a chart's x axis with epoch numbers.
func epochLabels(epochs []int64) []string {
	out := make([]string, len(epochs))
	for i, e := range epochs {
		out[i] = strconv.FormatInt(e, 10)
	}
	return out
}

// constant is a flat series, for a threshold drawn across a chart.
func constant(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}
