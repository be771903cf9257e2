package e2e

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flashback-network/flashback/client"
)

// TestCLIResumeAndQuota: an upload SIGKILLed half way resumes with the
// same cp and sends only the parts the bridge lacks (counted by the CLI,
// checked against the bridge's ListParts before the resume and its
// ingress meter), and the object has the file's bytes; an upload bigger
// than the reservation's free room is refused before the first byte.
func TestCLIResumeAndQuota(t *testing.T) {
	s := startConsumerScenario(t)
	s.store()
	s.resumeKilledUpload()
	s.changedFileStartsOver()
	s.interruptKeepsUpload()
	s.quotaRefused()
}

const partSize = 5 << 20

func (s *consumerScenario) bucket() *client.Bucket {
	k := readKeys(s.t, s.home)[s.res]
	return client.NewBucket(k.Endpoint, s.res, k.AccessKeyID, k.Secret)
}

type cpMultipart struct {
	URL       string `json:"url"`
	Bytes     int64  `json:"bytes"`
	Multipart *struct {
		Parts   int  `json:"parts"`
		Sent    int  `json:"parts_sent"`
		Resumed int  `json:"parts_resumed"`
		Resume  bool `json:"resumed"`
	} `json:"multipart"`
}

func (s *consumerScenario) resumeKilledUpload() {
	t := s.t
	data := make([]byte, 8*partSize)
	_, _ = rand.Read(data)
	big := filepath.Join(t.TempDir(), "big.bin")
	if err := os.WriteFile(big, data, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"cp", big, s.url("big.bin"), "--home", s.home, "--part-size", fmt.Sprint(partSize),
		"--multipart-threshold", fmt.Sprint(partSize), "--concurrency", "2", "-o", "json"}
	recorded := killHalfWay(t, s.home, args)
	b := s.bucket()
	ctx := context.Background()
	ups, err := b.S3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(s.res)})
	if err != nil || len(ups.Uploads) != 1 {
		t.Fatalf("uploads after the kill: %+v %v", ups, err)
	}
	lp, err := b.S3.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(s.res), Key: aws.String("big.bin"), UploadId: ups.Uploads[0].UploadId})
	if err != nil {
		t.Fatal(err)
	}
	atBridge := len(lp.Parts)
	if atBridge < recorded || atBridge >= 8 {
		t.Fatalf("%d parts at the bridge, %d recorded", atBridge, recorded)
	}
	before := s.ingress()
	var out cpMultipart
	mustJSON(t, run(t, args...), &out)
	m := out.Multipart
	if m == nil || !m.Resume || m.Parts != 8 || m.Resumed != atBridge || m.Sent != 8-atBridge || out.Bytes != int64(len(data)) {
		t.Fatalf("resumed cp: %+v %+v (bridge had %d parts)", out, m, atBridge)
	}
	if got := s.ingress() - before; got != int64(m.Sent)*partSize {
		t.Fatalf("the bridge took %d bytes for the resume, want %d (%d parts)", got, int64(m.Sent)*partSize, m.Sent)
	}
	if n := statePartCount(t, s.home); n != -1 {
		t.Fatalf("the upload state is still there (%d parts)", n)
	}
	got := filepath.Join(t.TempDir(), "got.bin")
	s.fb("cp", s.url("big.bin"), got)
	gb, _ := os.ReadFile(got)
	if sha256.Sum256(gb) != sha256.Sum256(data) {
		t.Fatalf("downloaded %d bytes that differ from the %d uploaded", len(gb), len(data))
	}
	if ups, err := b.S3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(s.res)}); err != nil || len(ups.Uploads) != 0 {
		t.Fatalf("uploads left: %+v %v", ups, err)
	}
}

// killHalfWay runs the cp in args throttled to ~4 s and SIGKILLs it once
// half its 8 parts are recorded; it returns how many were.
func killHalfWay(t *testing.T, home string, args []string) int {
	t.Helper()
	cmd := exec.Command(binary, append(args, "--bwlimit", "10MiB")...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, func() error {
		if n := statePartCount(t, home); n < 4 {
			return fmt.Errorf("%d parts recorded", n)
		}
		return nil
	})
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	recorded := statePartCount(t, home)
	if recorded < 4 || recorded == 8 {
		t.Fatalf("%d of 8 parts recorded at the kill", recorded)
	}
	return recorded
}

// changedFileStartsOver: a file rewritten after its upload was killed is
// uploaded from scratch, and the stale upload is aborted at the bridge.
func (s *consumerScenario) changedFileStartsOver() {
	t := s.t
	data := make([]byte, 8*partSize)
	_, _ = rand.Read(data)
	p := filepath.Join(t.TempDir(), "edit.bin")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"cp", p, s.url("edit.bin"), "--home", s.home, "--part-size", fmt.Sprint(partSize),
		"--multipart-threshold", fmt.Sprint(partSize), "--concurrency", "2", "-o", "json"}
	killHalfWay(t, s.home, args)
	data[0] ^= 1
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, time.Now(), time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	var out cpMultipart
	mustJSON(t, run(t, args...), &out)
	if m := out.Multipart; m == nil || m.Resume || m.Resumed != 0 || m.Sent != 8 {
		t.Fatalf("cp of the changed file: %+v", m)
	}
	ups, err := s.bucket().S3.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(s.res)})
	if err != nil || len(ups.Uploads) != 0 {
		t.Fatalf("uploads left: %+v %v", ups, err)
	}
	got := filepath.Join(t.TempDir(), "got.bin")
	s.fb("cp", s.url("edit.bin"), got)
	if gb, _ := os.ReadFile(got); sha256.Sum256(gb) != sha256.Sum256(data) {
		t.Fatal("the changed file's object has other bytes")
	}
}

// interruptKeepsUpload: Ctrl-C (SIGINT) stops a multipart cp with a line
// saying how to resume, and keeps the upload at the bridge and its state.
func (s *consumerScenario) interruptKeepsUpload() {
	t := s.t
	data := make([]byte, 8*partSize)
	_, _ = rand.Read(data)
	p := filepath.Join(t.TempDir(), "int.bin")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"cp", p, s.url("int.bin"), "--home", s.home, "--part-size", fmt.Sprint(partSize),
		"--multipart-threshold", fmt.Sprint(partSize), "--concurrency", "2"}
	cmd := exec.Command(binary, append(args, "--bwlimit", "10MiB")...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, func() error {
		if n := statePartCount(t, s.home); n < 2 {
			return fmt.Errorf("%d parts recorded", n)
		}
		return nil
	})
	_ = cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err == nil || !strings.Contains(out.String(), "run the same command again to resume") {
		t.Fatalf("interrupted cp: %v\n%s", err, out.String())
	}
	if n := statePartCount(t, s.home); n < 2 {
		t.Fatalf("state after the interrupt: %d parts", n)
	}
	ups, err := s.bucket().S3.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(s.res)})
	if err != nil || len(ups.Uploads) != 1 {
		t.Fatalf("uploads after the interrupt: %+v %v", ups, err)
	}
	s.pendingCountsAgainstQuota(ups.Uploads[0].UploadId)
	if txt := run(t, args...); !strings.Contains(txt, "resumed:") {
		t.Fatalf("resumed cp says:\n%s", txt)
	}
	if n := statePartCount(t, s.home); n != -1 {
		t.Fatalf("state left after the resume: %d parts", n)
	}
}

// pendingCountsAgainstQuota: a file that would fit but for the parts an
// unfinished upload holds is refused, and the error names that upload.
func (s *consumerScenario) pendingCountsAgainstQuota(id *string) {
	t := s.t
	var used int64
	for _, n := range s.ls(s.url("")) {
		used += n
	}
	lp, err := s.bucket().S3.ListParts(context.Background(), &s3.ListPartsInput{Bucket: aws.String(s.res), Key: aws.String("int.bin"), UploadId: id})
	if err != nil {
		t.Fatal(err)
	}
	var pending int64
	for _, p := range lp.Parts {
		pending += aws.ToInt64(p.Size)
	}
	p := filepath.Join(t.TempDir(), "fits-but.bin")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1<<30 - used - pending/2); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if out, err := s.fbErr("cp", p, s.url("fits-but.bin")); err == nil || !strings.Contains(out, "held by 1 unfinished upload") {
		t.Fatalf("cp with an unfinished upload holding room: %v\n%s", err, out)
	}
}

// statePartCount is the number of parts recorded in the one upload state
// file of home, -1 if there is none.
func statePartCount(t *testing.T, home string) int {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(home, "uploads", "*.json"))
	if len(paths) == 0 {
		return -1
	}
	if len(paths) > 1 {
		t.Fatalf("upload states: %v", paths)
	}
	b, err := os.ReadFile(paths[0])
	if err != nil {
		return 0 // renamed meanwhile
	}
	var st struct {
		Parts []json.RawMessage `json:"parts"`
	}
	if json.Unmarshal(b, &st) != nil {
		return 0
	}
	return len(st.Parts)
}

// ingress is the bridge's meter of bytes written to the reservation.
func (s *consumerScenario) ingress() int64 {
	host, port, _ := net.SplitHostPort(s.s3Addr)
	p, _ := strconv.Atoi(port)
	resp, err := http.Get(fmt.Sprintf("http://%s:%d/metrics", host, p+1))
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "flashback_bridge_reservation_ingress_bytes_total{") && strings.Contains(line, `reservation="`+s.res+`"`) {
			f := strings.Fields(line)
			v, err := strconv.ParseFloat(f[len(f)-1], 64)
			if err != nil {
				s.t.Fatal(err)
			}
			return int64(v)
		}
	}
	s.t.Fatalf("no ingress metric for %s:\n%s", s.res, body)
	return 0
}

// quotaRefused: a sparse file larger than the reservation is refused with
// sizes in human units before anything is sent.
func (s *consumerScenario) quotaRefused() {
	t := s.t
	huge := filepath.Join(t.TempDir(), "huge.bin")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1200 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	before := s.ingress()
	out, err := s.fbErr("cp", huge, s.url("huge.bin"))
	if err == nil || !strings.Contains(out, "needs 1.17 GiB") || !strings.Contains(out, "free of 1 GiB reserved in "+s.res) || !strings.Contains(out, "nothing sent") {
		t.Fatalf("cp over the quota: %v\n%s", err, out)
	}
	ups, err := s.bucket().S3.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(s.res)})
	if err != nil || len(ups.Uploads) != 0 {
		t.Fatalf("uploads after the refusal: %+v %v", ups, err)
	}
	if got := s.ingress(); got != before {
		t.Fatalf("the bridge took %d bytes of a refused upload", got-before)
	}
	if _, ok := s.ls(s.url(""))["huge.bin"]; ok {
		t.Fatal("huge.bin was stored")
	}
	// The same through sync: a directory holding the file.
	if out, err := s.fbErr("sync", filepath.Dir(huge), s.url("dir/")); err == nil || !strings.Contains(out, "needs 1.17 GiB") {
		t.Fatalf("sync over the quota: %v\n%s", err, out)
	}
	if got := s.ingress(); got != before {
		t.Fatalf("the bridge took %d bytes of a refused sync", got-before)
	}
}
