package gateway

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeConfig(t *testing.T, fc any) string {
	t.Helper()
	data, err := json.Marshal(fc)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "gateway.json")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigFile(t *testing.T) {
	m := startBridge(t, "res-7")
	good := FileConfig{
		Listen: "127.0.0.1:0", StateDir: t.TempDir(), StallTimeout: "3s",
		Repos: []FileRepo{{Name: "backup", Mode: ModeMirror, Members: []FileMember{{
			ID: m.id, Endpoint: m.url, AccessKeyID: m.key.AccessKeyID, SecretAccessKey: m.key.Secret,
		}}}},
		Keys: []FileKey{{AccessKeyID: "FBK1", SecretAccessKey: "s3cr3t-s3cr3t", Repo: "backup", Perm: PermWrite}},
	}
	fc, err := LoadConfig(writeConfig(t, good))
	if err != nil {
		t.Fatal(err)
	}
	// The file's gateway serves its repository.
	gw, err := New(context.Background(), fc.GatewayConfig())
	if err != nil {
		t.Fatal(err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go gw.Serve(ln)
	defer gw.Shutdown(context.Background())
	c := sdkClient("http://"+ln.Addr().String(), "FBK1", "s3cr3t-s3cr3t")
	data := randBytes(5000)
	mustPut(t, c, "backup", "x", data)
	mustGetExact(t, c, "backup", "x", data)

	bad := map[string]func(*FileConfig){
		"mode must be normal or mirror": func(c *FileConfig) { c.Repos[0].Mode = "raid" },
		"not a valid S3 bucket name":    func(c *FileConfig) { c.Repos[0].Name = "Bad_Name" },
		"write_quorum 2":                func(c *FileConfig) { c.Repos[0].WriteQuorum = 2 },
		"unknown repo":                  func(c *FileConfig) { c.Keys[0].Repo = "nope" },
		"perm must be":                  func(c *FileConfig) { c.Keys[0].Perm = "root" },
		"listed twice":                  func(c *FileConfig) { c.Repos[0].Members = append(c.Repos[0].Members, c.Repos[0].Members[0]) },
		"go together":                   func(c *FileConfig) { c.NodeURL = "http://127.0.0.1:1317" },
		"come from the chain":           func(c *FileConfig) { c.NodeURL, c.GatewayKeyFile = "http://127.0.0.1:1317", "gw.json" },
		"bad duration":                  func(c *FileConfig) { c.StallTimeout = "soon" },
	}
	for want, mutate := range bad {
		c := good
		c.Repos = []FileRepo{good.Repos[0]}
		c.Repos[0].Members = append([]FileMember(nil), good.Repos[0].Members...)
		c.Keys = append([]FileKey(nil), good.Keys...)
		mutate(&c)
		if _, err := LoadConfig(writeConfig(t, c)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v", want, err)
		}
	}
	if _, err := LoadConfig(writeConfig(t, map[string]any{"listen": "x", "state_dir": "y", "surprise": 1})); err == nil {
		t.Error("unknown field accepted")
	}
}
