package gateway

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// startGatewayProcess runs `flashback gateway --config cfg` and returns
// the process and its S3 URL (read from its first output line).
func startGatewayProcess(t *testing.T, bin, cfg string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, "gateway", "--config", cfg)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("gateway process: %v", err)
	}
	m := regexp.MustCompile(`http://\S+`).FindString(line)
	if m == "" {
		t.Fatalf("gateway process said %q", line)
	}
	go io.Copy(io.Discard, out)
	return cmd, m
}

// slowBody yields n bytes, signalling after the first mark bytes and then
// blocking until the test is done with it.
type slowBody struct {
	g      *genReader
	sent   atomic.Int64
	mark   int64
	marked chan struct{}
	hold   chan struct{}
}

func (s *slowBody) Read(p []byte) (int, error) {
	if s.sent.Load() >= s.mark {
		select {
		case <-s.marked:
		default:
			close(s.marked)
		}
		<-s.hold
		return 0, io.ErrUnexpectedEOF
	}
	n, err := s.g.Read(p[:min(len(p), int(s.mark-s.sent.Load()))])
	s.sent.Add(int64(n))
	return n, err
}

// TestKillMidPut kills a real gateway process with SIGKILL while a PUT
// streams through it, restarts it on the same state directory, and checks
// that nothing of the write is visible on any member and no intent is left.
func TestKillMidPut(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the flashback binary")
	}
	bin := filepath.Join(t.TempDir(), "flashback")
	build := exec.Command("go", "build", "-o", bin, "../cmd/flashback")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	var members []*memberBridge
	var fms []FileMember
	for _, id := range []string{"res-1", "res-2", "res-3"} {
		m := startBridge(t, id)
		members = append(members, m)
		fms = append(fms, FileMember{ID: m.id, Endpoint: m.url, AccessKeyID: m.key.AccessKeyID, SecretAccessKey: m.key.Secret})
	}
	state := t.TempDir()
	cfg := writeConfig(t, FileConfig{Listen: "127.0.0.1:0", StateDir: state,
		Repos: []FileRepo{{Name: "photos", Mode: ModeMirror, Members: fms}},
		Keys:  []FileKey{{AccessKeyID: "FBKILL", SecretAccessKey: "kill-secret-kill", Repo: "photos", Perm: PermWrite}}})
	proc, url := startGatewayProcess(t, bin, cfg)
	c := streamClient(url, "FBKILL", "kill-secret-kill")
	body := &slowBody{g: newGen(64 << 20), mark: 20 << 20, marked: make(chan struct{}), hold: make(chan struct{})}
	var release sync.Once
	unblock := func() { release.Do(func() { close(body.hold) }) }
	defer unblock()
	errc := make(chan error, 1)
	go func() {
		_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String("cut"),
			Body: body, ContentLength: aws.Int64(64 << 20)})
		errc <- err
	}()
	<-body.marked
	waitIntent(t, state)
	if err := proc.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	proc.Wait()
	// The client may retry the write; let the body fail from now on so
	// the retry cannot block on it.
	unblock()
	if err := <-errc; err == nil {
		t.Fatal("the PUT succeeded through a killed gateway")
	}
	_, url = startGatewayProcess(t, bin, cfg)
	for _, m := range members {
		if has, _ := memberHas(t, m, "cut"); has {
			t.Fatalf("a partial write is visible on %s", m.id)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(state, "intents")); len(ents) != 0 {
		t.Fatalf("intents left after restart: %v", ents)
	}
	c = streamClient(url, "FBKILL", "kill-secret-kill")
	data := randBytes(1 << 20)
	mustPut(t, c, "photos", "after", data)
	mustGetExact(t, c, "photos", "after", data)
}

// waitIntent waits until a write intent is on disk.
func waitIntent(t *testing.T, state string) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ents, _ := os.ReadDir(filepath.Join(state, "intents"))
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".json") {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no write intent appeared")
}
