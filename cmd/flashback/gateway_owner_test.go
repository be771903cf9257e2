package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flashback-network/flashback/gateway"
)

// TestGatewayInitOwnerSecret: `gateway init` creates the owner secret (32
// bytes, 0600) once, never prints it, and keeps it on later runs; a
// secret file others can read is refused, not replaced.
func TestGatewayInitOwnerSecret(t *testing.T) {
	home := t.TempDir()
	out, err := runCLI(t, home, "gateway", "init", "-o", "json")
	var init struct {
		File    string `json:"owner_secret_file"`
		Created bool   `json:"owner_secret_created"`
	}
	if err != nil || json.Unmarshal([]byte(out), &init) != nil || !init.Created || init.File != defaultOwnerSecretFile(home) {
		t.Fatalf("gateway init: %+v %v\n%s", init, err, out)
	}
	sec, err := os.ReadFile(init.File)
	st, _ := os.Stat(init.File)
	if err != nil || len(sec) != ownerSecretSize || st.Mode().Perm() != 0o600 {
		t.Fatalf("owner secret: %d bytes, %v, %v", len(sec), st, err)
	}
	text, err := runCLI(t, home, "gateway", "init")
	again, _ := os.ReadFile(init.File)
	if err != nil || !strings.Contains(text, "kept the existing owner secret") || !bytes.Equal(again, sec) {
		t.Fatalf("second init must keep the secret: %v\n%s", err, text)
	}
	for _, printed := range []string{out, text} {
		if bytes.Contains([]byte(printed), sec) || strings.Contains(printed, string(sec)) {
			t.Fatal("init printed the owner secret")
		}
	}
	if err := os.Chmod(init.File, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, home, "gateway", "init"); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("init over a readable secret: %v\n%s", err, out)
	}
	if again, _ := os.ReadFile(init.File); !bytes.Equal(again, sec) {
		t.Fatal("init replaced an existing secret")
	}
}

// TestGatewayOwnerSecretFlags: the default owner secret is used when it
// exists; a gateway with an encrypted repository and no secret does not
// start, and says what to give.
func TestGatewayOwnerSecretFlags(t *testing.T) {
	home := t.TempDir()
	g := &globals{home: home, node: "http://127.0.0.1:1317"}
	if fc, err := (&gatewayFlags{}).fileConfig(g); err != nil || fc.OwnerSecretFile != "" {
		t.Fatalf("no secret file yet: %q %v", fc.OwnerSecretFile, err)
	}
	if _, err := ensureOwnerSecret(defaultOwnerSecretFile(home)); err != nil {
		t.Fatal(err)
	}
	fc, err := (&gatewayFlags{adminListen: "127.0.0.1:0"}).fileConfig(g)
	if err != nil || fc.OwnerSecretFile != defaultOwnerSecretFile(home) || fc.AdminListen != "127.0.0.1:0" {
		t.Fatalf("default secret file, admin listen: %+v %v", fc, err)
	}
	if _, err := (&gatewayFlags{config: writeJSON(t, mirrorConfig(t, "photos", nil, nil)), from: "alice"}).fileConfig(g); err == nil || !strings.Contains(err.Error(), "needs chain mode") {
		t.Fatal("--from in static mode must be refused")
	}

	fc = mirrorConfig(t, "photos", []gateway.FileMember{repairMember(t, "res-enc1")}, nil)
	fc.Repos[0].Encrypted, fc.Repos[0].Owner = true, "fb1owner"
	err = runGateway(context.Background(), fc, gatewayRun{ready: func(string, string, int) { t.Error("served without a secret") }})
	if err == nil || !strings.Contains(err.Error(), "photos is end-to-end encrypted") || !strings.Contains(err.Error(), "--owner-secret-file") {
		t.Fatalf("encrypted repository without a secret: %v", err)
	}
}

func writeJSON(t *testing.T, v any) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "gw.json")
	b, _ := json.Marshal(v)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
