package e2e

import (
	"encoding/json"
	"testing"
	"time"
)

// TestDemo runs `flashback demo -o json` (a whole fresh dev network in one
// process) and checks its report: every step passed, the healthy provider
// was paid, the failing unit was breached, its consumer compensated, and the
// scores moved apart.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a whole network for ~20 s")
	}
	t0 := time.Now()
	out := run(t, "demo", "-o", "json")
	t.Logf("flashback demo took %s", time.Since(t0).Round(100*time.Millisecond))
	var rep struct {
		OK    bool `json:"ok"`
		Steps []struct {
			N      int    `json:"n"`
			Name   string `json:"name"`
			OK     bool   `json:"ok"`
			Detail string `json:"detail"`
			Error  string `json:"error"`
		} `json:"steps"`
		Payment struct {
			Unit    string `json:"unit"`
			Claimed string `json:"claimed"`
		} `json:"payment"`
		Breach struct {
			Unit   string   `json:"unit"`
			Epochs []int64  `json:"epochs"`
			Terms  []string `json:"terms"`
		} `json:"breach"`
		Compensation struct {
			Reservation string `json:"reservation"`
			Amount      string `json:"amount"`
		} `json:"compensation"`
		RawScores struct {
			ABefore uint32 `json:"a_before"`
			AAfter  uint32 `json:"a_after"`
			BBefore uint32 `json:"b_before"`
			BAfter  uint32 `json:"b_after"`
		} `json:"scores"`
		Balances map[string]string `json:"balances"`
		Stats    map[string]any    `json:"stats"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out)
	}
	for _, s := range rep.Steps {
		if !s.OK {
			t.Errorf("step %d %q failed: %s", s.N, s.Name, s.Error)
		}
	}
	if !rep.OK || len(rep.Steps) == 0 {
		t.Fatalf("report not ok:\n%s", out)
	}
	if rep.Payment.Claimed == "" || rep.Payment.Claimed == "0" {
		t.Errorf("no payment to the provider: %+v", rep.Payment)
	}
	if rep.Breach.Unit == "" || len(rep.Breach.Epochs) == 0 {
		t.Errorf("no breach: %+v", rep.Breach)
	}
	if rep.Breach.Unit == rep.Payment.Unit {
		t.Errorf("breached unit %s is the one paid", rep.Breach.Unit)
	}
	if rep.Compensation.Amount == "" || rep.Compensation.Amount == "0" {
		t.Errorf("no compensation: %+v", rep.Compensation)
	}
	sc := rep.RawScores
	if sc.BAfter >= sc.BBefore || sc.BAfter >= 50 || sc.BAfter >= sc.AAfter {
		t.Errorf("scores did not move as expected: %+v", sc)
	}
	if len(rep.Balances) == 0 || rep.Stats == nil {
		t.Errorf("no final balances or stats: %v %v", rep.Balances, rep.Stats)
	}
}
