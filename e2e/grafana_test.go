package e2e

import (
	"encoding/json"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// grafanaMetrics are the metric names the shipped Grafana dashboard
// queries, those with the prefix (or, with not, without it).
func grafanaMetrics(t *testing.T, prefix string, not bool) []string {
	t.Helper()
	b, err := os.ReadFile("../ops/grafana/flashback-node-bridge.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("grafana dashboard: %v", err)
	}
	re := regexp.MustCompile(`\b(?:flashback|cometbft)_[a-z0-9_]+`)
	seen := map[string]bool{}
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Fatalf("panel %q queries nothing", p.Title)
		}
		for _, tg := range p.Targets {
			for _, m := range re.FindAllString(tg.Expr, -1) {
				if strings.HasPrefix(m, prefix) != not {
					seen[m] = true
				}
			}
		}
	}
	var out []string
	for m := range seen {
		out = append(out, m)
	}
	sort.Strings(out)
	if len(out) == 0 {
		t.Fatalf("the dashboard queries no metric of %q", prefix)
	}
	return out
}

// checkGrafanaServed fails for each dashboard metric a scrape lacks.
func checkGrafanaServed(t *testing.T, scrape string, names []string) {
	t.Helper()
	for _, n := range names {
		if !strings.Contains(scrape, "\n"+n+" ") && !strings.Contains(scrape, "\n"+n+"{") {
			t.Errorf("the Grafana dashboard queries %s, which /metrics does not serve", n)
		}
	}
}
