package e2e

import (
	"encoding/json"
	"slices"
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
		Repo     *demoRepoReport   `json:"repo"`
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
	checkDemoRepo(t, rep.Repo)
}

// demoRepoReport is the repository part of the demo's report.
type demoRepoReport struct {
	Name            string   `json:"name"`
	Mode            string   `json:"mode"`
	Quorum          uint32   `json:"quorum"`
	Members         []string `json:"members"`
	Objects         int      `json:"objects"`
	Bytes           int64    `json:"bytes"`
	Killed          string   `json:"killed"`
	ReadsAfterKill  int      `json:"reads_after_kill"`
	ReadsExact      int      `json:"reads_exact"`
	PutAfterKill    bool     `json:"put_after_kill"`
	Level           bool     `json:"level"`
	LevelSeconds    float64  `json:"level_seconds"`
	RepairedObjects int64    `json:"repaired_objects"`
}

// checkDemoRepo: a member of the mirror was killed, every object read back
// exact without it, a PUT went through, and after its restart the repair
// loop made it level (copying at least the object it missed).
func checkDemoRepo(t *testing.T, r *demoRepoReport) {
	t.Helper()
	if r == nil {
		t.Fatal("report has no repo section")
	}
	t.Logf("repo: %+v", *r)
	if r.Mode != "mirror" || len(r.Members) != 2 || r.Objects == 0 || r.Bytes == 0 {
		t.Errorf("repository not a 2-member mirror with objects: %+v", *r)
	}
	if !slices.Contains(r.Members, r.Killed) {
		t.Errorf("killed member %q is not one of %v", r.Killed, r.Members)
	}
	if r.ReadsAfterKill < r.Objects || r.ReadsExact != r.ReadsAfterKill {
		t.Errorf("after the kill %d of %d GETs exact, want all %d objects", r.ReadsExact, r.ReadsAfterKill, r.Objects)
	}
	if !r.PutAfterKill {
		t.Error("no PUT succeeded with the member down")
	}
	if !r.Level || r.RepairedObjects < 1 {
		t.Errorf("killed member not level again by repair: level %v, %d objects repaired", r.Level, r.RepairedObjects)
	}
	if r.LevelSeconds > 20 {
		t.Errorf("member took %.1f s to be level, want < 20 s", r.LevelSeconds)
	}
}
