package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// readmeBlocks returns the README's ```sh blocks, each keyed by the
// heading it stands under.
func readmeBlocks(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := map[string][]string{}
	heading := ""
	re := regexp.MustCompile("(?s)```sh\n(.*?)```")
	lines := strings.Split(string(b), "\n")
	text := ""
	for _, l := range lines {
		if strings.HasPrefix(l, "#") {
			for _, m := range re.FindAllStringSubmatch(text, -1) {
				blocks[heading] = append(blocks[heading], m[1])
			}
			heading, text = strings.TrimSpace(strings.TrimLeft(l, "#")), ""
			continue
		}
		text += l + "\n"
	}
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		blocks[heading] = append(blocks[heading], m[1])
	}
	return blocks
}

// TestReadmeWalkthrough runs the README's quickstart and "Using it" blocks,
// as written, against a real `flashback dev` platform (the README's run
// command, on free ports and a temp home instead of ~/.flashback-dev), so
// the README cannot drift from what the binary does.
func TestReadmeWalkthrough(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the README's walkthrough uses the aws CLI")
	}
	blocks := readmeBlocks(t)
	quick, using := blocks["Quickstart"], blocks["Using it"]
	if len(quick) < 2 || len(using) < 1 {
		t.Fatalf("README blocks not found: quickstart %d, using %d", len(quick), len(using))
	}
	if !strings.Contains(quick[0], "make dev") || !strings.Contains(quick[0], "go run ./cmd/flashback dev") {
		t.Fatalf("quickstart run command changed:\n%s", quick[0])
	}
	w := startReadmeWalk(t)
	w.quickstartAndUsing(quick[1], using[0])
	w.market(blocks)
	w.checkEndState()
}

// readmeWalk is a `flashback dev` platform and the work directory the
// README's blocks run in, as a reader's shell would.
type readmeWalk struct {
	t    *testing.T
	home string // the platform's, standing in for ~/.flashback-dev
	base int    // its base port; the API is on base+2
	work string // the shell's directory, with bin/flashback and hello.txt
}

// startReadmeWalk starts `flashback dev` (output printed if the test
// fails), waits until it is up and prepares the work directory.
func startReadmeWalk(t *testing.T) *readmeWalk {
	w := &readmeWalk{t: t, home: filepath.Join(t.TempDir(), "devhome"), base: freeBase(t, 12)}
	s3 := w.base + 10
	dev := exec.Command(binary, "dev", "--home", w.home, "--base-port", fmt.Sprint(w.base),
		"--s3-addr", fmt.Sprintf("127.0.0.1:%d", s3), "--bridge-metrics-addr", fmt.Sprintf("127.0.0.1:%d", s3+100))
	logf, err := os.Create(filepath.Join(t.TempDir(), "dev.log"))
	if err != nil {
		t.Fatal(err)
	}
	dev.Stdout, dev.Stderr = logf, logf
	if err := dev.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("flashback dev output:\n%s", b)
		}
	})
	t.Cleanup(func() { _ = dev.Process.Kill(); _ = dev.Wait(); logf.Close() })
	envFile := filepath.Join(w.home, "dev.env")
	eventually(t, 90*time.Second, func() error {
		b, err := os.ReadFile(logf.Name())
		if err != nil || !strings.Contains(string(b), "Flashback dev platform is up") {
			return fmt.Errorf("dev platform not up yet")
		}
		_, err = os.Stat(envFile)
		return err
	})

	// The binary stands in for `go build -o bin/flashback`.
	w.work = t.TempDir()
	if err := os.MkdirAll(filepath.Join(w.work, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(binary, filepath.Join(w.work, "bin", "flashback")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(w.work, "hello.txt"), []byte("hello from the README\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return w
}

// script is a README block as the test runs it: without the build line and
// with ~/.flashback-dev pointing at the platform's home.
func (w *readmeWalk) script(block string) string {
	var out []string
	for _, l := range strings.Split(block, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "go build -o bin/flashback") {
			continue // built once by the test harness
		}
		out = append(out, strings.ReplaceAll(l, "~/.flashback-dev", w.home))
	}
	return strings.Join(out, "\n")
}

// runBlock runs a README block with bash -euo pipefail in the work
// directory and returns its output, failing the test if it fails.
func (w *readmeWalk) runBlock(name, block string) string {
	t := w.t
	t.Helper()
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", w.script(block))
	cmd.Dir = w.work
	cmd.Env = append(os.Environ(), "PATH="+filepath.Join(w.work, "bin")+":"+os.Getenv("PATH"),
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("README %s block failed: %v\n--- script\n%s\n--- output\n%s", name, err, w.script(block), out)
	}
	return string(out)
}

// quickstartAndUsing runs the quickstart's upload block and "Using it".
func (w *readmeWalk) quickstartAndUsing(quick, using string) {
	t := w.t
	out := w.runBlock("quickstart", quick)
	if !strings.Contains(out, "hello.txt") || !strings.Contains(out, "s3://dev-mirror/hello.txt") {
		t.Fatalf("quickstart output lacks the uploads to the bucket and the repository:\n%s", out)
	}
	// "Using it" talks to the API on 127.0.0.1:1317 in the README (curl);
	// point that one line at this platform's API.
	using0 := strings.ReplaceAll(using, "localhost:1317", fmt.Sprintf("127.0.0.1:%d", w.base+2))
	out = w.runBlock("using it", using0)
	for _, want := range []string{"chain_id:", "alice", "committed at height", `"balance"`, `"chain_id"`} {
		if !strings.Contains(out, want) {
			t.Fatalf("README walkthrough output lacks %q:\n%s", want, out)
		}
	}
}

// market runs "The market", in order, with H (and F) as the reader's shell
// has them after the blocks above.
func (w *readmeWalk) market(blocks map[string][]string) {
	t := w.t
	setVars := fmt.Sprintf("H=%s\nF=\"bin/flashback --home $H\"\n", w.home)
	for _, step := range []struct {
		heading string
		want    []string // in the block's output
	}{
		// Ids as on a fresh dev platform: units 1-3 are the dev providers',
		// res-1 is the dev bucket and res-2..4 the dev repository's members.
		{"As a provider", []string{"unit: unit-4", "My disks"}},
		{"As a consumer", []string{"reservation: res-5", "unit-4", "FB"}}, // the access key id
		{"Files from the command line", []string{"res-6", "notes.txt", "my notes"}},
		{"Leaving the market", []string{"committed at height"}},
		{"QoS, scores and stats", []string{"unit-1", "committed at height"}},
	} {
		bs := blocks[step.heading]
		if len(bs) != 1 {
			t.Fatalf("README has %d sh blocks under %q, want 1", len(bs), step.heading)
		}
		out := w.runBlock(step.heading, setVars+bs[0])
		for _, want := range step.want {
			if !strings.Contains(out, want) {
				t.Fatalf("README %q output lacks %q:\n%s", step.heading, want, out)
			}
		}
	}
}

// checkEndState reads the walkthrough's end state back through the API.
func (w *readmeWalk) checkEndState() {
	var unit4 struct {
		Status string `json:"status"`
	}
	getJSON(w.t, fmt.Sprintf("http://127.0.0.1:%d/v1/units/unit-4", w.base+2), &unit4)
	if unit4.Status != "deleted" {
		w.t.Fatalf("unit-4 after the walkthrough: status %q, want deleted", unit4.Status)
	}
}

// getJSON GETs url and decodes its JSON body into v.
func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s %s", url, resp.Status, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}
