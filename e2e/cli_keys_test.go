package e2e

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/flashback-network/flashback/client"
)

// TestCLIKeysAndEndpoint: a key made with `tx accesskey create` is stored
// where cp finds it; `accesskey import` takes a key made elsewhere (and
// refuses a wrong secret or an unknown id); --from reuses a stored key
// instead of making another on chain; `credentials` prints values other S3
// tools can use; and the bridge endpoint follows `tx provider update
// --endpoint` without touching the stored key.
func TestCLIKeysAndEndpoint(t *testing.T) {
	s := startConsumerScenario(t)
	s.store()
	s.createdKeyIsStored()
	s.fromReusesStoredKey()
	s.importKey()
	s.credentials()
	s.endpointFollowsChain()
	s.fromSaysWhichKeysExist()
}

// fromSaysWhichKeysExist: with no stored key, --from makes one and first
// names the reservation's keys already on chain (which could be imported).
func (s *consumerScenario) fromSaysWhichKeysExist() {
	t := s.t
	if err := os.Remove(filepath.Join(s.home, "s3keys.json")); err != nil {
		t.Fatal(err)
	}
	before := s.chainKeyCount()
	_, stderr := s.fbStderr("ls", s.url(""), "--from", "alice")
	if !strings.Contains(stderr, "on chain whose secret is not stored here") || !strings.Contains(stderr, s.accessKeyID+" (write)") || !strings.Contains(stderr, "created read access key") {
		t.Fatalf("ls --from with no stored key says:\n%s", stderr)
	}
	if after := s.chainKeyCount(); after != before+1 {
		t.Fatalf("keys on chain: %d → %d", before, after)
	}
}

func (s *consumerScenario) chainKeyCount() int {
	var page struct {
		AccessKeys []struct {
			ID string `json:"access_key_id"`
		} `json:"access_keys"`
	}
	mustJSON(s.t, s.fb("query", "accesskeys", "--reservation", s.res, "-o", "json"), &page)
	return len(page.AccessKeys)
}

// fbStderr runs the CLI on the home and returns stdout and stderr.
func (s *consumerScenario) fbStderr(args ...string) (string, string) {
	s.t.Helper()
	cmd := exec.Command(binary, append(args, "--home", s.home)...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		s.t.Fatalf("flashback %v: %v\n%s%s", args, err, o.String(), e.String())
	}
	return o.String(), e.String()
}

func (s *consumerScenario) createdKeyIsStored() {
	t := s.t
	aside := filepath.Join(s.dir, "s3keys.aside")
	if err := os.Rename(filepath.Join(s.home, "s3keys.json"), aside); err != nil {
		t.Fatal(err)
	}
	out := s.fb("tx", "accesskey", "create", s.res, "--from", "alice", "-o", "json")
	id := jsonString(t, out, "access_key_id")
	if jsonString(t, out, "stored_in") != filepath.Join(s.home, "s3keys.json") || readKeys(t, s.home)[s.res].AccessKeyID != id {
		t.Fatalf("created key not stored:\n%s", out)
	}
	s.fb("cp", s.smallPath, s.url("via-created.txt")) // no --from: the stored key serves
	// A read key does not replace the stored write key.
	out = s.fb("tx", "accesskey", "create", s.res, "--perm", "read", "--from", "alice", "-o", "json")
	if !strings.Contains(jsonString(t, out, "not_stored"), "can do more") || readKeys(t, s.home)[s.res].AccessKeyID != id {
		t.Fatalf("read key replaced the write key:\n%s", out)
	}
	s.accessKeyID = id
}

func (s *consumerScenario) fromReusesStoredKey() {
	t := s.t
	before := s.chainKeyCount()
	_, stderr := s.fbStderr("cp", s.smallPath, s.url("reuse.txt"), "--from", "alice")
	if !strings.Contains(stderr, "using the stored write access key "+s.accessKeyID) {
		t.Fatalf("cp --from with a stored key says:\n%s", stderr)
	}
	if after := s.chainKeyCount(); after != before {
		t.Fatalf("cp --from made a key on chain: %d → %d", before, after)
	}
}

func (s *consumerScenario) importKey() {
	t := s.t
	k := readKeys(t, s.home)[s.res]
	home2 := t.TempDir()
	if out, err := runStdin([]byte("wrong-secret\n"), "accesskey", "import", s.res, k.AccessKeyID, "--secret-stdin", "--home", home2, "--node", s.apiURL); err == nil || !strings.Contains(out, "refuses the secret") {
		t.Fatalf("import with a wrong secret: %v\n%s", err, out)
	}
	if out, err := runErr("accesskey", "import", s.res, "FBNOSUCHKEY0000000000", "--secret", k.Secret, "--home", home2, "--node", s.apiURL); err == nil || !strings.Contains(out, "not an access key of "+s.res) {
		t.Fatalf("import of an unknown id: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(home2, "s3keys.json")); !os.IsNotExist(err) {
		t.Fatalf("a refused import stored something: %v", err)
	}
	if out, err := runStdin([]byte(k.Secret+"\n"), "accesskey", "import", s.res, k.AccessKeyID, "--secret-stdin", "--home", home2, "--node", s.apiURL); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	if got := readKeys(t, home2)[s.res]; got.AccessKeyID != k.AccessKeyID || got.Secret != k.Secret || got.Perm != "write" {
		t.Fatalf("imported key: %+v", got)
	}
	out := run(t, "ls", s.url(""), "--home", home2, "--node", s.apiURL)
	if !strings.Contains(out, s.url("reuse.txt")) {
		t.Fatalf("ls with the imported key:\n%s", out)
	}
}

func (s *consumerScenario) credentials() {
	t := s.t
	var c struct {
		Bucket string            `json:"bucket"`
		Env    map[string]string `json:"env"`
		Rclone string            `json:"rclone"`
		MC     string            `json:"mc"`
	}
	mustJSON(t, s.fb("credentials", s.res, "-o", "json"), &c)
	k := readKeys(t, s.home)[s.res]
	if c.Bucket != s.res || c.Env["AWS_ACCESS_KEY_ID"] != k.AccessKeyID || c.Env["AWS_SECRET_ACCESS_KEY"] != k.Secret || c.Env["AWS_ENDPOINT_URL"] != "http://"+s.s3Addr ||
		!strings.Contains(c.Rclone, "[fb-"+s.res+"]\ntype = s3\n") || !strings.Contains(c.Rclone, "force_path_style = true") ||
		c.MC != "mc alias set fb-"+s.res+" http://"+s.s3Addr+" "+k.AccessKeyID+" "+k.Secret+" --api S3v4 --path on" {
		t.Fatalf("credentials: %+v", c)
	}
	// The printed values work with a plain S3 client.
	b := client.NewBucket(c.Env["AWS_ENDPOINT_URL"], c.Bucket, c.Env["AWS_ACCESS_KEY_ID"], c.Env["AWS_SECRET_ACCESS_KEY"])
	if _, err := b.Stat(context.Background(), "reuse.txt"); err != nil {
		t.Fatalf("stat with the printed credentials: %v", err)
	}
	txt := s.fb("credentials", s.res)
	for _, want := range []string{"export AWS_ACCESS_KEY_ID='" + k.AccessKeyID + "'", "export AWS_ENDPOINT_URL='http://" + s.s3Addr + "'", "mc alias set", "secret_access_key = " + k.Secret} {
		if !strings.Contains(txt, want) {
			t.Fatalf("credentials text lacks %q:\n%s", want, txt)
		}
	}
}

// endpointFollowsChain moves the provider's endpoint to a TCP relay in
// front of the bridge: ls goes through the relay at once; the relay is
// closed and the endpoint moved back: ls works again.
func (s *consumerScenario) endpointFollowsChain() {
	t := s.t
	relay, conns := startRelay(t, s.s3Addr)
	s.fb("tx", "provider", "update", "--endpoint", "http://"+relay.Addr().String(), "--from", "provider")
	if got := s.ls(s.url("")); got["reuse.txt"] == 0 {
		t.Fatalf("ls after the move: %v", got)
	}
	if conns.Load() == 0 {
		t.Fatal("ls did not go to the endpoint now on chain")
	}
	if ep := readKeys(t, s.home)[s.res].Endpoint; ep != "http://"+relay.Addr().String() {
		t.Fatalf("stored endpoint %s", ep)
	}
	relay.Close()
	s.fb("tx", "provider", "update", "--endpoint", "http://"+s.s3Addr, "--from", "provider")
	if got := s.ls(s.url("")); got["reuse.txt"] == 0 {
		t.Fatalf("ls after the move back: %v", got)
	}
}

// startRelay forwards TCP connections to addr until closed, counting them.
func startRelay(t *testing.T, addr string) (net.Listener, *atomic.Int64) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var n atomic.Int64
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			go relayConn(c, addr)
		}
	}()
	return l, &n
}

func relayConn(c net.Conn, addr string) {
	defer c.Close()
	u, err := net.Dial("tcp", addr)
	if err != nil {
		return
	}
	defer u.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = copyConn(u, c); done <- struct{}{} }()
	go func() { _, _ = copyConn(c, u); done <- struct{}{} }()
	<-done
}

func copyConn(dst, src net.Conn) (int64, error) { return io.Copy(dst, src) }
