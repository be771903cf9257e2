package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/oracle"
)

// TestOracleOnChain: a provider runs `flashback bridge` for unit-1 (a local
// disk) and also lists unit-2, which its bridge does not serve. The dev
// `oracle` key runs `flashback oracle --once --register`: it registers,
// finds the probe endpoint from the registered endpoint (its S3 port's
// /_flashback/probe/ path), probes
// both units through the real bridge (the bridge checks the oracle's
// registration on chain), and reports the epoch: unit-1 healthy, unit-2
// failed. The report is on chain.
func TestOracleOnChain(t *testing.T) {
	base := freeBase(t, 12) // S3 on base+10, ops on base+110
	home, apiURL, c := startDevNode(t, "e2e-oracle", base)
	fb := homeCLI(t, home)
	// The oracles REST route belongs to the QoS API; without it the bridge
	// cannot check registrations.
	if resp, err := http.Get(apiURL + "/v1/oracles"); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound && strings.Contains(string(b), "no route") {
			t.Skip("the node does not serve GET /v1/oracles yet")
		}
	}

	startOracleBridge(t, base, home, apiURL)

	// Not an oracle yet: the bridge refuses its probes.
	out, err := runErr("oracle", "--once", "--home", home, "--node", apiURL)
	if err == nil || !strings.Contains(out, "not an active oracle") {
		t.Fatalf("unregistered oracle ran: %v\n%s", err, out)
	}

	var res oracle.RoundResult
	if err := json.Unmarshal([]byte(fb("oracle", "--once", "--register", "1000FLASH", "--node", apiURL, "--pings", "5", "-o", "json")), &res); err != nil {
		t.Fatal(err)
	}
	if res.TxHash == "" || len(res.Measurements) != 2 {
		t.Fatalf("round: %+v", res)
	}
	m1, m2 := res.Measurements[0], res.Measurements[1]
	t.Logf("epoch %d report tx %s: %+v; %+v", res.Epoch, res.TxHash, m1, m2)
	if m1.Unit != "unit-1" || m1.Probes != 6 || m1.Successes != 6 || m1.IntegrityPassed != 1 || m1.P95Ms == 0 || m1.DownMbps == 0 {
		t.Errorf("healthy unit: %+v", m1)
	}
	if m2.Unit != "unit-2" || m2.Probes != 6 || m2.Successes != 0 || m2.IntegrityPassed != 0 {
		t.Errorf("unit the bridge does not serve: %+v", m2)
	}

	checkReportOnChain(t, c, apiURL, &res)
}

// startOracleBridge registers a provider with two units, unit-1 served by
// a local-disk bridge it starts (S3 on base+10, probes on the ops port) and
// unit-2 served by none, and waits for the bridge to be up.
func startOracleBridge(t *testing.T, base int, home, apiURL string) {
	fb := homeCLI(t, home)
	s3Addr := fmt.Sprintf("127.0.0.1:%d", base+10)
	opsAddr := fmt.Sprintf("127.0.0.1:%d", base+10+oracle.PortOffset)
	pub := jsonString(t, fb("bridge", "init", "--unit", "unit-1=local:"+filepath.Join(t.TempDir(), "unit-1"), "--listen", s3Addr,
		"--metrics-listen", opsAddr, "-o", "json"), "bridge_pub_key")
	fb("tx", "provider", "register", "--name", "oracle e2e", "--endpoint", "http://"+s3Addr, "--bridge-pubkey", pub, "--from", "provider")
	fb("tx", "provider", "stake", "2000FLASH", "--from", "provider")
	for range 2 {
		fb("tx", "unit", "add", "--kind", "local", "--region", "eu-central", "--country", "DE", "--capacity", "10GiB",
			"--price", "1FLASH", "--egress-price", "0.01FLASH", "--auto-accept", "--from", "provider")
	}

	startBridge(t, home, apiURL)
	waitHealthz(t, opsAddr)
}

// checkReportOnChain: the round's report tx is committed with its epoch,
// and the oracle's record counts it.
func checkReportOnChain(t *testing.T, c *client.Client, apiURL string, res *oracle.RoundResult) {
	ctx := context.Background()
	tx, err := c.Tx(ctx, res.TxHash)
	if err != nil || tx.Code != 0 {
		t.Fatalf("report tx: %+v %v", tx, err)
	}
	if got := client.EventAttr(tx, "qos_report", "epoch"); got != fmt.Sprint(res.Epoch) {
		t.Fatalf("qos_report event epoch %q, want %d", got, res.Epoch)
	}
	resp, err := http.Get(apiURL + "/v1/oracles/" + res.Oracle)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var o struct {
		Active    bool  `json:"active"`
		Reports   int   `json:"reports"`
		LastEpoch int64 `json:"last_epoch"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&o); err != nil || !o.Active || o.Reports != 1 || o.LastEpoch != res.Epoch {
		t.Fatalf("oracle on chain: %+v %v", o, err)
	}
}
