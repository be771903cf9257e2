package contract

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The modules depend one way: core and store below everything, params and
// bank next, then market, with qos and accesskey on top of the market. The
// market reaches QoS and access keys only through its hooks, so it must not
// import them; nothing below the app imports the app.
func TestModuleDependenciesRunOneWay(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not on PATH")
	}
	const base = "github.com/flashback-network/flashback/contract"
	forbidden := map[string][]string{
		"core":      {"store/recordgen", "params", "bank", "market", "qos", "accesskey"},
		"store":     {"core", "params", "bank", "market", "qos", "accesskey"},
		"params":    {"bank", "market", "qos", "accesskey"},
		"bank":      {"params", "market", "qos", "accesskey"},
		"market":    {"qos", "accesskey", "repo", "dispute"},
		"repo":      {"qos", "dispute"},
		"accesskey": {"qos", "dispute", "repo"},
		"qos":       {"accesskey", "dispute", "repo"},
		"dispute":   {"qos", "accesskey", "repo"},
	}
	for pkg, banned := range forbidden {
		out, err := exec.Command(goBin, "list", "-deps", base+"/"+pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		deps := strings.Fields(string(out))
		if !slices.Contains(deps, base+"/"+pkg) {
			t.Fatalf("go list -deps %s: implausible output %v", pkg, deps)
		}
		for _, d := range deps {
			if d == base {
				t.Errorf("%s imports the app package", pkg)
			}
			for _, b := range banned {
				if d == base+"/"+b {
					t.Errorf("%s imports %s", pkg, b)
				}
			}
		}
	}
}
