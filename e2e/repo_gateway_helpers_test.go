package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/client"
)

// repoMarker is written in clear into every object stored through the
// gateway; it must never appear on a member's disk (the repository is
// end-to-end encrypted).
var repoMarker = []byte("FLASHBACK-E2E-PLAINTEXT-MARKER-7d1f")

// withMarker is b with repoMarker at its start (and middle, if it fits twice).
func withMarker(b []byte) []byte {
	copy(b, repoMarker)
	if len(b) >= 2*len(repoMarker) {
		copy(b[len(b)/2:], repoMarker)
	}
	return b
}

// repoBridge is one provider's bridge process of the repository tests.
type repoBridge struct {
	home, addr, metrics, dir string
	stop                     func() // SIGKILL
}

// startRepoBridges registers three providers (the dev home's `provider`,
// and a `provider` key in each of two more homes, funded by alice), each
// with an auto-accepting local unit (unit-1..3) behind its own bridge
// process on base+10, +20, +30.
func startRepoBridges(t *testing.T, fb func(...string) string, home, apiURL string, base int) []*repoBridge {
	t.Helper()
	var out []*repoBridge
	for i, h := range []string{home, filepath.Join(t.TempDir(), "prov2"), filepath.Join(t.TempDir(), "prov3")} {
		out = append(out, addRepoProvider(t, fb, h, apiURL, base+10*(i+1), i+1, i > 0))
	}
	for _, b := range out {
		waitHealthz(t, b.metrics)
	}
	return out
}

// addRepoProvider registers the provider of home (creating and funding its
// key when fresh), its local unit unit-N (checked) and starts its bridge
// on port (metrics on port+1).
func addRepoProvider(t *testing.T, fb func(...string) string, home, apiURL string, port, n int, fresh bool) *repoBridge {
	t.Helper()
	f := func(args ...string) string {
		t.Helper()
		return run(t, append(args, "--home", home, "--node", apiURL)...)
	}
	if fresh {
		f("keys", "add", "provider", "--unencrypted")
		fb("tx", "bank", "send", strings.TrimSpace(f("keys", "show", "provider")), "2000FLASH", "--from", "alice")
	}
	b := &repoBridge{home: home, addr: fmt.Sprintf("127.0.0.1:%d", port), metrics: fmt.Sprintf("127.0.0.1:%d", port+1)}
	unit := fmt.Sprintf("unit-%d", n)
	b.dir = filepath.Join(t.TempDir(), unit)
	pub := jsonString(t, f("bridge", "init", "--unit", unit+"=local:"+b.dir, "--listen", b.addr, "--metrics-listen", b.metrics, "-o", "json"), "bridge_pub_key")
	f("tx", "provider", "register", "--name", fmt.Sprintf("repo provider %d", n), "--endpoint", "http://"+b.addr, "--bridge-pubkey", pub, "--from", "provider")
	f("tx", "provider", "stake", "1000FLASH", "--from", "provider")
	if got := jsonString(t, f("tx", "unit", "add", "--kind", "local", "--region", "local", "--country", "DE", "--capacity", "10GiB",
		"--price", "1FLASH", "--egress-price", "0.01FLASH", "--auto-accept", "--from", "provider", "-o", "json"), "unit"); got != unit {
		t.Fatalf("unit %q, want %q (the bridge was configured for it)", got, unit)
	}
	b.stop = startBridgeProc(t, home, apiURL)
	return b
}

// createE2ERepo makes the gateway key and owner secret in gwDir (`gateway
// init`) and, with the CLI, alice's mirror repository e2e-repo over res
// (encrypted: the default) and a write repo key; `repo create` takes what
// `gateway pubkey` prints.
func createE2ERepo(t *testing.T, fb func(...string) string, gwDir string, res []string) (keyFile, secretFile string, key client.CreatedRepoKey) {
	t.Helper()
	keyFile, secretFile = filepath.Join(gwDir, "key.json"), filepath.Join(gwDir, "owner.secret")
	out := fb("gateway", "init", "--gateway-key-file", keyFile, "--owner-secret-file", secretFile, "-o", "json")
	pub := jsonString(t, out, "gateway_pub_key")
	if st, err := os.Stat(secretFile); err != nil || st.Mode().Perm() != 0o600 || st.Size() != 32 || !strings.Contains(out, `"owner_secret_created": true`) {
		t.Fatalf("gateway init: owner secret %v %v\n%s", st, err, out)
	}
	pubFile := filepath.Join(gwDir, "gw.pub")
	if printed := strings.TrimSpace(fb("gateway", "pubkey", "--gateway-key-file", keyFile)); printed != pub {
		t.Fatalf("gateway pubkey %q, init said %q", printed, pub)
	}
	if err := os.WriteFile(pubFile, []byte(fb("gateway", "pubkey", "--gateway-key-file", keyFile)), 0o644); err != nil {
		t.Fatal(err)
	}
	fb("repo", "create", "e2e-repo", "--mode", "mirror", "--member", res[0], "--member", res[1], "--member", res[2],
		"--gateway-key-file", pubFile, "--from", "alice")
	if err := json.Unmarshal([]byte(fb("repo", "keys", "create", "e2e-repo", "--perm", "write", "--from", "alice", "-o", "json")), &key); err != nil || key.ID == "" {
		t.Fatalf("repo key: %+v %v", key, err)
	}
	return keyFile, secretFile, key
}

// waitAllLevel polls `repo status --gateway-admin` until every one of want
// members had a full scan ending in a second after since (the figures
// are in seconds) and is behind by 0.
func waitAllLevel(t *testing.T, fb func(...string) string, admin string, want int, since time.Time, d time.Duration) *types.Repo {
	t.Helper()
	var r types.Repo
	eventually(t, d, func() error {
		if err := json.Unmarshal([]byte(fb("repo", "status", "e2e-repo", "--from", "alice", "--gateway-admin", admin, "-o", "json")), &r); err != nil {
			return err
		}
		if len(r.Members) != want {
			return fmt.Errorf("%d members, want %d", len(r.Members), want)
		}
		for _, m := range r.Members {
			if m.Live == nil || m.Live.BehindBy != 0 || int64(m.Live.LastFullScan) <= since.Unix() {
				return fmt.Errorf("member %s (%s) not level since %s: %+v", m.Reservation, m.State, since.Format(time.TimeOnly), m.Live)
			}
		}
		return nil
	})
	return &r
}

// checkMemberHolds lists the member reservation's bridge directly (with
// alice's reservation key, which `repo create` / `repo add` stored) and
// fails unless it holds every object.
func checkMemberHolds(t *testing.T, fb func(...string) string, res string, objects map[string][]byte) {
	t.Helper()
	top := fb("ls", "fb://"+res+"/", "--from", "alice")
	big := fb("ls", "fb://"+res+"/big/", "--from", "alice")
	for name := range objects {
		if after, ok := strings.CutPrefix(name, "big/"); ok {
			if !strings.Contains(big, after) {
				t.Fatalf("member %s lacks %s:\n%s", res, name, big)
			}
		} else if !strings.Contains(top, name) {
			t.Fatalf("member %s lacks %s:\n%s", res, name, top)
		}
	}
}

// checkNoPlaintext fails if any file under a member's disk directory holds
// repoMarker, and returns how many files it read.
func checkNoPlaintext(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		if bytes.Contains(b, repoMarker) {
			return fmt.Errorf("%s holds the plaintext marker", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// memberListing is what a member's bridge holds (through alice's key of
// that reservation): key -> stored size.
func memberListing(t *testing.T, fb func(...string) string, res string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, prefix := range []string{"", "big/"} {
		var ls struct {
			Objects []struct {
				Key   string `json:"key"`
				Bytes int64  `json:"bytes"`
			} `json:"objects"`
		}
		if err := json.Unmarshal([]byte(fb("ls", "fb://"+res+"/"+prefix, "--from", "alice", "-o", "json")), &ls); err != nil {
			t.Fatalf("ls %s/%s: %v", res, prefix, err)
		}
		for _, o := range ls.Objects {
			if !strings.HasSuffix(o.Key, "/") {
				out[o.Key] = o.Bytes
			}
		}
	}
	return out
}
