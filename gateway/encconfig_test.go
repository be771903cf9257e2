package gateway

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A config file's encrypted repository: the owner secret comes from
// owner_secret_file (mode 0600 only) and the owner is required.
func TestConfigEncrypted(t *testing.T) {
	m := startBridge(t, "res-7")
	sec := filepath.Join(t.TempDir(), "owner.secret")
	if err := os.WriteFile(sec, bytes.Repeat([]byte{5}, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	good := FileConfig{
		Listen: "127.0.0.1:0", StateDir: t.TempDir(), OwnerSecretFile: sec,
		Repos: []FileRepo{{Name: "backup", Mode: ModeMirror, Encrypted: true, Owner: "fb1owner", Members: []FileMember{{
			ID: m.id, Endpoint: m.url, AccessKeyID: m.key.AccessKeyID, SecretAccessKey: m.key.Secret,
		}}}},
		Keys: []FileKey{{AccessKeyID: "FBK1", SecretAccessKey: "s3cr3t-s3cr3t", Repo: "backup", Perm: PermWrite}},
	}
	fc, err := LoadConfig(writeConfig(t, good))
	if err != nil {
		t.Fatal(err)
	}
	gw, err := New(context.Background(), fc.GatewayConfig())
	if err != nil {
		t.Fatal(err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go gw.Serve(ln)
	defer gw.Shutdown(context.Background())
	c := sdkClient("http://"+ln.Addr().String(), "FBK1", "s3cr3t-s3cr3t")
	data := markedBytes(200 << 10)
	mustPut(t, c, "backup", "x", data)
	mustGetExact(t, c, "backup", "x", data)
	if b, _ := os.ReadFile(objectFile(t, m, "x")); len(b) == 0 || bytes.Contains(b, []byte(marker)) {
		t.Fatalf("stored copy: %d bytes, plaintext %v", len(b), bytes.Contains(b, []byte(marker)))
	}

	noOwner := good
	noOwner.Repos = []FileRepo{good.Repos[0]}
	noOwner.Repos[0].Owner = ""
	if _, err := LoadConfig(writeConfig(t, noOwner)); err == nil || !strings.Contains(err.Error(), "needs its owner") {
		t.Errorf("encrypted repo without owner: %v", err)
	}
	os.Chmod(sec, 0o644)
	if _, err := LoadConfig(writeConfig(t, good)); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable secret file: %v", err)
	}
}
