package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flashback-network/flashback/gateway"
)

// TestGatewayKeyCLI: `gateway init` creates the key file (0600) once and
// prints its public key, `gateway pubkey` prints the same, and `repo
// create --gateway-key-file` reads both what pubkey prints and the key
// file itself (its public half).
func TestGatewayKeyCLI(t *testing.T) {
	home := t.TempDir()
	out, err := runCLI(t, home, "gateway", "init", "-o", "json")
	if err != nil {
		t.Fatalf("gateway init: %v\n%s", err, out)
	}
	var init struct {
		File    string `json:"gateway_key_file"`
		Pub     string `json:"gateway_pub_key"`
		Created bool   `json:"created"`
	}
	if err := json.Unmarshal([]byte(out), &init); err != nil || !init.Created || init.File != defaultGatewayKeyFile(home) {
		t.Fatalf("gateway init: %+v %v\n%s", init, err, out)
	}
	if st, err := os.Stat(init.File); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	again, err := runCLI(t, home, "gateway", "init", "-o", "json")
	if err != nil || !strings.Contains(again, `"created": false`) || !strings.Contains(again, init.Pub) {
		t.Fatalf("second init must keep the key: %v\n%s", err, again)
	}
	printed, err := runCLI(t, home, "gateway", "pubkey")
	if err != nil || strings.TrimSpace(printed) != init.Pub {
		t.Fatalf("gateway pubkey: %q %v, want %q", printed, err, init.Pub)
	}
	pubFile := filepath.Join(t.TempDir(), "gw.pub")
	if err := os.WriteFile(pubFile, []byte(printed), 0o644); err != nil {
		t.Fatal(err)
	}
	want, _ := base64.StdEncoding.DecodeString(init.Pub)
	for _, f := range []string{pubFile, init.File} {
		if got, err := gatewayKey("", f); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("gatewayKey(%s): %x %v", f, got, err)
		}
	}
	if out, err := runCLI(t, home, "gateway", "pubkey", "--gateway-key-file", filepath.Join(home, "nope.json")); err == nil || !strings.Contains(out+err.Error(), "gateway init") {
		t.Fatalf("pubkey of a missing file: %v\n%s", err, out)
	}
}

// TestGatewayFlags: without --config the gateway is in chain mode with
// defaults under the home; a config file's chain settings are completed and
// overridden by flags; static and chain settings do not mix.
func TestGatewayFlags(t *testing.T) {
	home := t.TempDir()
	g := &globals{home: home, node: "http://127.0.0.1:1317"}
	fc, err := (&gatewayFlags{}).fileConfig(g)
	if err != nil || !fc.ChainMode() || fc.NodeURL != g.node || fc.GatewayKeyFile != defaultGatewayKeyFile(home) ||
		fc.Listen != defaultGatewayListen || fc.StateDir != defaultGatewayState(home) {
		t.Fatalf("defaults: %+v %v", fc, err)
	}
	write := func(v any) string {
		p := filepath.Join(t.TempDir(), "gw.json")
		b, _ := json.Marshal(v)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg := write(map[string]any{"node_url": "http://node.example", "gateway_key_file": "/k.json", "listen": "127.0.0.1:1", "state_dir": "/s", "owners": []string{"fb1a"}})
	fc, err = (&gatewayFlags{config: cfg, listen: "127.0.0.1:2", owners: []string{"fb1b"}}).fileConfig(&globals{home: home})
	if err != nil || fc.NodeURL != "http://node.example" || fc.Listen != "127.0.0.1:2" || fc.StateDir != "/s" || strings.Join(fc.Owners, ",") != "fb1a,fb1b" {
		t.Fatalf("config + flags: %+v %v", fc, err)
	}
	if fc, err = (&gatewayFlags{config: cfg}).fileConfig(g); err != nil || fc.NodeURL != g.node {
		t.Fatalf("--node must win over node_url: %+v %v", fc, err)
	}
	static := write(gateway.FileConfig{Listen: "127.0.0.1:1", StateDir: "/s", Repos: []gateway.FileRepo{{Name: "backup", Mode: gateway.ModeNormal,
		Members: []gateway.FileMember{{ID: "res-1", Endpoint: "http://b", AccessKeyID: "a", SecretAccessKey: "s"}}}}})
	if fc, err = (&gatewayFlags{config: static}).fileConfig(g); err != nil || fc.ChainMode() {
		t.Fatalf("static config: %+v %v", fc, err)
	}
	if _, err = (&gatewayFlags{config: static, keyFile: "/k.json"}).fileConfig(g); err == nil || !strings.Contains(err.Error(), "come from the chain") {
		t.Fatalf("static repos with a gateway key: %v", err)
	}
}
