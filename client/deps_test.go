package client

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The SDK is what applications link: it must not pull in the node (CometBFT,
// IAVL), the server's request validation (kin-openapi) or the server
// package itself. The REST types it shares with the server live in
// api/types for that reason.
func TestClientDepsStayLight(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not on PATH")
	}
	out, err := exec.Command(goBin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/flashback-network/flashback/api/types") {
		t.Fatalf("go list -deps gave an implausible list: %v", deps)
	}
	banned := []string{"github.com/cometbft/", "github.com/cosmos/iavl", "github.com/getkin/kin-openapi"}
	for _, d := range deps {
		if d == "github.com/flashback-network/flashback/api" {
			t.Errorf("client depends on the server package %s", d)
		}
		for _, b := range banned {
			if strings.HasPrefix(d, b) {
				t.Errorf("client depends on %s", d)
			}
		}
	}
}
