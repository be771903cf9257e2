package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flashback-network/flashback/keyring"
)

// runCLIArgs runs the command line with exactly args (no --home added).
func runCLIArgs(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out strings.Builder
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func homeWithKey(t *testing.T, name string) string {
	t.Helper()
	home := t.TempDir()
	kr, err := keyring.Open(filepath.Join(home, "keyring"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kr.Add(name, nil); err != nil {
		t.Fatal(err)
	}
	return home
}

// TestProfiles: a profile gives the home and the signing key when no flag
// or environment variable does; a flag and FLASHBACK_HOME win over it.
func TestProfiles(t *testing.T) {
	t.Setenv("FLASHBACK_CONFIG", filepath.Join(t.TempDir(), "config.json"))
	t.Setenv("FLASHBACK_HOME", "")
	t.Setenv("FLASHBACK_PROFILE", "")
	work, other := homeWithKey(t, "carol"), homeWithKey(t, "dave")

	if out, err := runCLIArgs(t, "profile", "set", "work", "--profile-home", work, "--profile-from", "carol"); err != nil || !strings.Contains(out, "current: work") {
		t.Fatalf("profile set: %v\n%s", err, out)
	}
	if out, err := runCLIArgs(t, "keys", "list"); err != nil || !strings.Contains(out, "carol") {
		t.Fatalf("keys list with profile work: %v\n%s", err, out)
	}
	if out, err := runCLIArgs(t, "keys", "list", "--home", other); err != nil || strings.Contains(out, "carol") || !strings.Contains(out, "dave") {
		t.Fatalf("--home must win over the profile: %v\n%s", err, out)
	}
	t.Setenv("FLASHBACK_HOME", other)
	if out, err := runCLIArgs(t, "keys", "list"); err != nil || !strings.Contains(out, "dave") {
		t.Fatalf("FLASHBACK_HOME must win over the profile: %v\n%s", err, out)
	}
	t.Setenv("FLASHBACK_HOME", "")
	// The profile's from satisfies a required --from.
	out, err := runCLIArgs(t, "tx", "bank", "send", "fb1nobody", "1FLASH", "--node", "http://127.0.0.1:1")
	if err == nil || strings.Contains(err.Error(), `"from"`) {
		t.Fatalf("send with the profile's from: want a node or address error, not a missing --from: %v\n%s", err, out)
	}
	if _, err := runCLIArgs(t, "keys", "list", "--profile", "nope"); err == nil || !strings.Contains(err.Error(), `no profile "nope"`) {
		t.Fatalf("unknown --profile: %v", err)
	}
	if out, err := runCLIArgs(t, "profile", "rm", "work"); err != nil {
		t.Fatalf("profile rm: %v\n%s", err, out)
	}
	if out, err := runCLIArgs(t, "keys", "list", "--home", other); err != nil || strings.Contains(out, "carol") {
		t.Fatalf("after rm: %v\n%s", err, out)
	}
	if out, _ := runCLIArgs(t, "profile", "ls", "-o", "json"); strings.Contains(out, "work") {
		t.Fatalf("removed profile still listed:\n%s", out)
	}
}

// TestDevProfileBecomesDefault: the dev platform's profile is made current
// only when the user has neither a profile nor a node home of their own.
func TestDevProfileBecomesDefault(t *testing.T) {
	t.Setenv("FLASHBACK_CONFIG", filepath.Join(t.TempDir(), "config.json"))
	t.Setenv("FLASHBACK_HOME", filepath.Join(t.TempDir(), "nohome"))
	cur, err := saveDevProfile("/tmp/devhome", "http://127.0.0.1:1317")
	if err != nil || !cur {
		t.Fatalf("first dev profile: current=%v err=%v", cur, err)
	}
	pf, err := loadProfiles()
	if err != nil || pf.Current != "dev" || pf.Profiles["dev"].From != "alice" {
		t.Fatalf("config after dev: %+v %v", pf, err)
	}
	// A user with their own node home keeps the default home.
	t.Setenv("FLASHBACK_CONFIG", filepath.Join(t.TempDir(), "config.json"))
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, "config"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "config", "genesis.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FLASHBACK_HOME", home)
	if cur, err := saveDevProfile("/tmp/devhome", "http://127.0.0.1:1317"); err != nil || cur {
		t.Fatalf("with a node home of its own: current=%v err=%v", cur, err)
	}
}

// TestCompleteKeyNames: `keys show <TAB>` offers the keyring's names.
func TestCompleteKeyNames(t *testing.T) {
	t.Setenv("FLASHBACK_CONFIG", filepath.Join(t.TempDir(), "config.json"))
	home := homeWithKey(t, "carol")
	out, err := runCLIArgs(t, "__complete", "keys", "show", "--home", home, "ca")
	if err != nil || !strings.Contains(out, "carol") {
		t.Fatalf("completion: %v\n%s", err, out)
	}
	out, _ = runCLIArgs(t, "__complete", "keys", "show", "--home", home, "zz")
	if strings.Contains(out, "carol") {
		t.Fatalf("completion ignores the prefix:\n%s", out)
	}
}
