// Package testservers starts the real storage servers the tests run
// against: MinIO, fake-gcs-server and Azurite, installed (and cached) by
// scripts/test-servers.sh install. Each server is started on a free
// 127.0.0.1 port in a temporary directory and stopped when the test ends.
//
// A missing server skips its test, or fails it when FLASHBACK_REQUIRE_SERVERS=1
// (CI sets it).
package testservers

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const installHint = "scripts/test-servers.sh install"

// repoRoot is the module root: the nearest directory above the working
// directory (a test's package directory) holding go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// serverPaths are the binaries scripts/test-servers.sh installs, per the
// versions file and cache layout it uses.
type serverPaths struct{ minio, fakeGCS, azurite string }

func testServerPaths(t testing.TB) serverPaths {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot(t), "scripts", "test-servers.versions"))
	if err != nil {
		t.Fatalf("reading pinned server versions: %v", err)
	}
	defer f.Close()
	v := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, val, ok := strings.Cut(line, "="); ok {
			v[k] = val
		}
	}
	cache := os.Getenv("FLASHBACK_CACHE")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			t.Fatal(err)
		}
		cache = filepath.Join(home, ".cache", "flashback")
	}
	return serverPaths{
		minio:   filepath.Join(cache, "bin", "minio-"+v["MINIO_VERSION"]),
		fakeGCS: filepath.Join(cache, "bin", "fake-gcs-server-"+v["FAKE_GCS_VERSION"]),
		azurite: filepath.Join(cache, "azurite-"+v["AZURITE_VERSION"], "node_modules", ".bin", "azurite-blob"),
	}
}

// requireBinary skips (or, with FLASHBACK_REQUIRE_SERVERS=1, fails) the test
// when a server binary is missing.
func requireBinary(t testing.TB, name, path string) {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		return
	}
	msg := fmt.Sprintf("%s is not installed (%s missing): run %s", name, path, installHint)
	if os.Getenv("FLASHBACK_REQUIRE_SERVERS") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// FreePort is a 127.0.0.1 port free at the time of the call.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// server is a running test server process.
type server struct {
	name string
	cmd  *exec.Cmd
	log  *bytes.Buffer
	done chan struct{}
}

// startServer runs bin with args (and extra env), waits until ready(url)
// succeeds, and registers its stop with t.Cleanup.
func startServer(t testing.TB, name, bin string, args, env []string, ready func() error) *server {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &syncWriter{w: &log}, &syncWriter{w: &log}
	// Own process group (stop kills the whole tree: Azurite is node under a
	// shell shim), and die with the test binary.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	s := &server{name: name, cmd: cmd, log: &log, done: make(chan struct{})}
	go func() { cmd.Wait(); close(s.done) }()
	t.Cleanup(s.stop)
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := ready()
		if err == nil {
			break
		}
		select {
		case <-s.done:
			t.Fatalf("%s exited before being ready: %v\n%s", name, cmd.ProcessState, s.logTail())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after 60s: %v\n%s", name, err, s.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("%s ready in %v (pid %d)", name, time.Since(start).Round(time.Millisecond), cmd.Process.Pid)
	return s
}

func (s *server) stop() {
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
}

func (s *server) logTail() string {
	logMu.Lock()
	defer logMu.Unlock()
	b := s.log.Bytes()
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// syncWriter serializes the stdout and stderr copies into one buffer.
type syncWriter struct{ w *bytes.Buffer }

var logMu sync.Mutex

func (s *syncWriter) Write(p []byte) (int, error) {
	logMu.Lock()
	defer logMu.Unlock()
	return s.w.Write(p)
}

func httpReady(url string, ok func(status int) bool) func() error {
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if !ok(resp.StatusCode) {
			return fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		return nil
	}
}

// Credentials of the servers started here.
const (
	MinIOUser     = "flashbackadmin"
	MinIOPassword = "flashback-secret-key"
	// Azurite's well-known development account.
	AzuriteAccount = "devstoreaccount1"
	azuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// StartMinIO runs MinIO and returns its endpoint URL.
func StartMinIO(t testing.TB) string {
	t.Helper()
	bin := testServerPaths(t).minio
	requireBinary(t, "MinIO", bin)
	port, cport := FreePort(t), FreePort(t)
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	startServer(t, "minio", bin,
		[]string{"server", t.TempDir(), "--address", fmt.Sprintf("127.0.0.1:%d", port),
			"--console-address", fmt.Sprintf("127.0.0.1:%d", cport), "--quiet"},
		[]string{"MINIO_ROOT_USER=" + MinIOUser, "MINIO_ROOT_PASSWORD=" + MinIOPassword,
			"MINIO_BROWSER=off", "MINIO_UPDATE=off", "MINIO_CI_CD=1"},
		httpReady(endpoint+"/minio/health/ready", func(s int) bool { return s == 200 }))
	return endpoint
}

// StartFakeGCS runs fake-gcs-server and returns its JSON API endpoint.
func StartFakeGCS(t testing.TB) string {
	t.Helper()
	bin := testServerPaths(t).fakeGCS
	requireBinary(t, "fake-gcs-server", bin)
	port := FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	startServer(t, "fake-gcs-server", bin,
		[]string{"-scheme", "http", "-host", "127.0.0.1", "-port", fmt.Sprint(port),
			"-backend", "memory",
			"-public-host", fmt.Sprintf("127.0.0.1:%d", port), "-external-url", base, "-log-level", "error"},
		nil,
		httpReady(base+"/storage/v1/b", func(s int) bool { return s == 200 }))
	return base + "/storage/v1/"
}

// StartAzurite runs Azurite's blob service and returns a connection string.
func StartAzurite(t testing.TB) string {
	t.Helper()
	bin := testServerPaths(t).azurite
	requireBinary(t, "Azurite", bin)
	if _, err := exec.LookPath("node"); err != nil {
		requireBinary(t, "node (for Azurite)", "node")
	}
	port := FreePort(t)
	dir := t.TempDir()
	base := fmt.Sprintf("http://127.0.0.1:%d/%s", port, AzuriteAccount)
	startServer(t, "azurite", bin,
		[]string{"--blobHost", "127.0.0.1", "--blobPort", fmt.Sprint(port), "--location", dir,
			"--skipApiVersionCheck", "--loose", "--silent", "--disableTelemetry"},
		nil,
		// Any HTTP answer (an unauthenticated request gets an error) means up.
		httpReady(base+"?comp=list", func(int) bool { return true }))
	return fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s;",
		AzuriteAccount, azuriteKey, base)
}
