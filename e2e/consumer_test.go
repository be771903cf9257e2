package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flashback-network/flashback/client"
)

// TestConsumerCLI drives the consumer commands with the real binary against
// a real node and bridge: store (quote, reserve, key, upload), ls, cp both
// ways and through stdin/stdout, rm, keys created on demand, clear errors;
// and the SDK's multipart and streaming uploads through the same bridge.
func TestConsumerCLI(t *testing.T) {
	s := startConsumerScenario(t)
	s.store()
	s.checkReceipts()
	s.checkStoredKey()
	s.listStored()
	s.copyDown()
	s.copyUp()
	s.remove()
	s.copyErrors()
	s.keysOnDemand()
	s.listReservations()
	s.sdkUploads()
}

// consumerScenario is TestConsumerCLI's node and bridge, the local files it
// stores and what the store command answered.
type consumerScenario struct {
	fb                  func(args ...string) string // the CLI on home
	t                   *testing.T
	home, apiURL        string
	c                   *client.Client
	s3Addr              string
	dir                 string // local files
	small, big          []byte
	smallPath, bigPath  string
	res                 string // the reservation store made
	accessKeyID, bigTag string // store's key and b.bin's ETag
}

// startConsumerScenario starts a node and a provider with one
// auto-accepting local unit behind a bridge.
func startConsumerScenario(t *testing.T) *consumerScenario {
	base := freeBase(t, 2)
	s := &consumerScenario{t: t}
	s.home, s.apiURL, s.c = startDevNode(t, "e2e-consumer", base)
	s.fb = homeCLI(t, s.home)
	fb := s.fb
	s.s3Addr = fmt.Sprintf("127.0.0.1:%d", base+10)
	pub := jsonString(t, fb("bridge", "init", "--unit", "unit-1=local:"+filepath.Join(t.TempDir(), "unit-data"), "--listen", s.s3Addr,
		"--metrics-listen", fmt.Sprintf("127.0.0.1:%d", base+11), "-o", "json"), "bridge_pub_key")
	fb("tx", "provider", "register", "--name", "consumer e2e", "--endpoint", "http://"+s.s3Addr, "--bridge-pubkey", pub, "--from", "provider")
	fb("tx", "provider", "stake", "1000FLASH", "--from", "provider")
	fb("tx", "unit", "add", "--kind", "local", "--region", "eu-central", "--country", "DE", "--capacity", "10GiB",
		"--price", "1FLASH", "--egress-price", "0.01FLASH", "--auto-accept", "--from", "provider")
	startBridge(t, s.home, s.apiURL)
	return s
}

func (s *consumerScenario) fbErr(args ...string) (string, error) {
	return runErr(append(args, "--home", s.home)...)
}

// url is the fb:// URL of key in the reservation.
func (s *consumerScenario) url(key string) string { return "fb://" + s.res + "/" + key }

// store: two files in one reservation.
func (s *consumerScenario) store() {
	t := s.t
	s.dir = t.TempDir()
	s.small = []byte("hello, flashback\n")
	s.big = make([]byte, 1_500_000)
	_, _ = rand.Read(s.big)
	s.smallPath, s.bigPath = filepath.Join(s.dir, "a.txt"), filepath.Join(s.dir, "b.bin")
	if err := os.WriteFile(s.smallPath, s.small, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.bigPath, s.big, 0o644); err != nil {
		t.Fatal(err)
	}
	var st struct {
		Reservation string `json:"reservation"`
		Unit        string `json:"unit"`
		Bytes       uint64 `json:"bytes"`
		EgressBytes uint64 `json:"egress_bytes"`
		AccessKeyID string `json:"access_key_id"`
		Files       []struct {
			URL   string `json:"url"`
			Bytes int64  `json:"bytes"`
			ETag  string `json:"etag"`
		} `json:"files"`
	}
	mustJSON(t, s.fb("store", s.smallPath, s.bigPath, "--term", "1d", "--max-price", "2FLASH", "--from", "alice", "-o", "json"), &st)
	res := st.Reservation
	if res == "" || st.Unit != "unit-1" || st.Bytes != 1<<30 || st.EgressBytes != 1<<30 || len(st.Files) != 2 ||
		st.Files[0].URL != "fb://"+res+"/a.txt" || st.Files[1].URL != "fb://"+res+"/b.bin" ||
		st.Files[0].Bytes != int64(len(s.small)) || st.Files[1].Bytes != int64(len(s.big)) || st.Files[1].ETag == "" {
		t.Fatalf("store output: %+v", st)
	}
	s.res, s.accessKeyID, s.bigTag = res, st.AccessKeyID, st.Files[1].ETag
	r, err := s.c.Reservation(context.Background(), res)
	if err != nil || r.Status != "active" || r.Bytes != 1<<30 {
		t.Fatalf("reservation %s: %+v %v", res, r, err)
	}
}

// checkStoredKey: the key is kept in HOME/s3keys.json, readable by the
// owner only; with no unit that cheap, store fails clearly.
func (s *consumerScenario) checkStoredKey() {
	t := s.t
	fi, err := os.Stat(filepath.Join(s.home, "s3keys.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("s3keys.json: %v %v", fi, err)
	}
	keys := readKeys(t, s.home)
	if k := keys[s.res]; k.AccessKeyID != s.accessKeyID || k.Secret == "" || k.Endpoint != "http://"+s.s3Addr {
		t.Fatalf("stored key: %+v", keys)
	}
	// No unit that cheap: a clear error, nothing reserved.
	if out, err := s.fbErr("store", s.smallPath, "--max-price", "0.5FLASH", "--from", "alice"); err == nil || !strings.Contains(out, "no available unit") {
		t.Fatalf("store under the market price: %v\n%s", err, out)
	}
}

// ls runs `ls url -o json` and returns the objects' sizes by key, checking
// each object's URL.
func (s *consumerScenario) ls(url string, extra ...string) map[string]int64 {
	t := s.t
	t.Helper()
	var out struct {
		Objects []struct {
			URL   string `json:"url"`
			Key   string `json:"key"`
			Bytes int64  `json:"bytes"`
		} `json:"objects"`
	}
	mustJSON(t, s.fb(append([]string{"ls", url, "-o", "json"}, extra...)...), &out)
	m := map[string]int64{}
	for _, o := range out.Objects {
		if o.URL != s.url(o.Key) {
			t.Fatalf("ls url %q for key %q", o.URL, o.Key)
		}
		m[o.Key] = o.Bytes
	}
	return m
}

// listStored: ls shows both files, as JSON and as text.
func (s *consumerScenario) listStored() {
	t, res := s.t, s.res
	if got := s.ls("fb://" + res); len(got) != 2 || got["a.txt"] != int64(len(s.small)) || got["b.bin"] != int64(len(s.big)) {
		t.Fatalf("ls: %v", got)
	}
	if txt := s.fb("ls", "fb://"+res); !strings.Contains(txt, "fb://"+res+"/b.bin") || !strings.Contains(txt, "2 objects") {
		t.Fatalf("ls text:\n%s", txt)
	}
}

// copyDown: cp down to a file and into a directory, and to stdout.
func (s *consumerScenario) copyDown() {
	t, fb := s.t, s.fb
	outPath := filepath.Join(s.dir, "b.copy")
	var cpOut struct {
		URL   string `json:"url"`
		Bytes int64  `json:"bytes"`
		ETag  string `json:"etag"`
	}
	mustJSON(t, fb("cp", s.url("b.bin"), outPath, "-o", "json"), &cpOut)
	if got, _ := os.ReadFile(outPath); !bytes.Equal(got, s.big) || cpOut.Bytes != int64(len(s.big)) || cpOut.ETag != s.bigTag {
		t.Fatalf("cp down: %d bytes, out %+v", len(got), cpOut)
	}
	sub := filepath.Join(s.dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	fb("cp", s.url("a.txt"), sub)
	if got, _ := os.ReadFile(filepath.Join(sub, "a.txt")); !bytes.Equal(got, s.small) {
		t.Fatalf("cp into a directory: %q", got)
	}
	if got := fb("cp", s.url("a.txt"), "-"); got != string(s.small) {
		t.Fatalf("cp to stdout: %q", got)
	}
}

// copyUp: cp from stdin, and a local file to a "directory" key.
func (s *consumerScenario) copyUp() {
	t, fb := s.t, s.fb
	piped := bytes.Repeat([]byte("piped "), 50_000)
	if out, err := runStdin(piped, "cp", "-", s.url("in/piped.txt"), "--home", s.home); err != nil {
		t.Fatalf("cp from stdin: %v\n%s", err, out)
	}
	fb("cp", s.smallPath, s.url("in/"))
	if got := s.ls(s.url("in/")); len(got) != 2 || got["in/piped.txt"] != int64(len(piped)) || got["in/a.txt"] != int64(len(s.small)) {
		t.Fatalf("ls prefix: %v", got)
	}
	if got := fb("cp", s.url("in/piped.txt"), "-"); got != string(piped) {
		t.Fatalf("piped object read back: %d bytes", len(got))
	}
}

// remove: rm; a second rm is a clear error.
func (s *consumerScenario) remove() {
	t := s.t
	var rmOut struct {
		Deleted []struct {
			URL string `json:"url"`
		} `json:"deleted"`
	}
	mustJSON(t, s.fb("rm", s.url("a.txt"), s.url("in/a.txt"), "-o", "json"), &rmOut)
	if len(rmOut.Deleted) != 2 {
		t.Fatalf("rm: %+v", rmOut)
	}
	if got := s.ls("fb://" + s.res); len(got) != 2 || got["b.bin"] == 0 || got["in/piped.txt"] == 0 {
		t.Fatalf("ls after rm: %v", got)
	}
	if out, err := s.fbErr("rm", s.url("a.txt")); err == nil || !strings.Contains(out, "no such object") {
		t.Fatalf("rm of a missing object: %v\n%s", err, out)
	}
}

// copyErrors: an unknown reservation, with and without a key to sign with;
// a missing object, which leaves no file behind.
func (s *consumerScenario) copyErrors() {
	t, dir := s.t, s.dir
	if out, err := s.fbErr("cp", "fb://res-99/x", filepath.Join(dir, "x")); err == nil || !strings.Contains(out, "no access key for reservation res-99") {
		t.Fatalf("cp from an unknown reservation: %v\n%s", err, out)
	}
	if out, err := s.fbErr("cp", "fb://res-99/x", filepath.Join(dir, "x"), "--from", "alice"); err == nil || !strings.Contains(out, "res-99") || !strings.Contains(out, "not_found") {
		t.Fatalf("cp from an unknown reservation with --from: %v\n%s", err, out)
	}
	if out, err := s.fbErr("cp", s.url("nope"), filepath.Join(dir, "nope")); err == nil || !strings.Contains(out, "no such object") {
		t.Fatalf("cp of a missing object: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "nope")); !os.IsNotExist(err) {
		t.Fatalf("failed download left a file: %v", err)
	}
}

// keysOnDemand: with no stored key, --from creates one of the needed
// permission: a read key for ls, which then cannot upload; an upload with
// --from upgrades it to a write key.
func (s *consumerScenario) keysOnDemand() {
	t, home, res := s.t, s.home, s.res
	if err := os.Rename(filepath.Join(home, "s3keys.json"), filepath.Join(s.dir, "s3keys.json")); err != nil {
		t.Fatal(err)
	}
	if got := s.ls("fb://"+res, "--from", "alice"); len(got) != 2 {
		t.Fatalf("ls with a new read key: %v", got)
	}
	if k := readKeys(t, home)[res]; k.Perm != "read" || k.AccessKeyID == s.accessKeyID {
		t.Fatalf("key created by ls: %+v", k)
	}
	if out, err := s.fbErr("cp", s.smallPath, s.url("c.txt")); err == nil || !strings.Contains(out, "read-only") {
		t.Fatalf("upload with a read key: %v\n%s", err, out)
	}
	s.fb("cp", s.smallPath, s.url("c.txt"), "--from", "alice") // upgrades to a write key
	if k := readKeys(t, home)[res]; k.Perm != "write" {
		t.Fatalf("key after upload with --from: %+v", k)
	}
}

// listReservations: ls with no URL lists alice's reservations and their
// local keys.
func (s *consumerScenario) listReservations() {
	var lr struct {
		Reservations []struct {
			Reservation string `json:"reservation"`
			Status      string `json:"status"`
			AccessKeyID string `json:"access_key_id"`
		} `json:"reservations"`
	}
	mustJSON(s.t, s.fb("ls", "--from", "alice", "-o", "json"), &lr)
	if len(lr.Reservations) != 1 || lr.Reservations[0].Reservation != s.res || lr.Reservations[0].Status != "active" || lr.Reservations[0].AccessKeyID == "" {
		s.t.Fatalf("ls reservations: %+v", lr)
	}
}

// sdkUploads: the SDK's multipart from a file-like reader and from a
// stream, with progress, through the same bridge.
func (s *consumerScenario) sdkUploads() {
	t := s.t
	k := readKeys(t, s.home)[s.res]
	b := client.NewBucket(k.Endpoint, s.res, k.AccessKeyID, k.Secret)
	ctx := context.Background()
	data := make([]byte, 12<<20+123)
	_, _ = rand.Read(data)
	var last, lastTotal int64
	opts := client.UploadOptions{PartSize: 5 << 20, Threshold: 5 << 20, Concurrency: 2,
		Progress: func(done, total int64) { last, lastTotal = done, total }}
	o, err := b.Upload(ctx, "mp/at", bytes.NewReader(data), int64(len(data)), opts)
	if err != nil || o.Size != int64(len(data)) || o.ETag == "" {
		t.Fatalf("multipart upload: %+v %v", o, err)
	}
	if last != int64(len(data)) || lastTotal != int64(len(data)) {
		t.Fatalf("progress ended at %d/%d", last, lastTotal)
	}
	if _, err := b.Upload(ctx, "mp/stream", io.MultiReader(bytes.NewReader(data)), -1, opts); err != nil {
		t.Fatalf("stream upload: %v", err)
	}
	for _, key := range []string{"mp/at", "mp/stream"} {
		var got bytes.Buffer
		if _, err := b.Download(ctx, key, &got, nil); err != nil || !bytes.Equal(got.Bytes(), data) {
			t.Fatalf("read back %s: %d bytes, %v", key, got.Len(), err)
		}
	}
	objs, err := b.List(ctx, "mp/")
	if err != nil || len(objs) != 2 {
		t.Fatalf("list mp/: %+v %v", objs, err)
	}
	// No multipart leftovers are visible.
	if all, err := b.List(ctx, ""); err != nil || len(all) != 5 {
		t.Fatalf("list: %+v %v", all, err)
	}
}

type storedS3Key struct {
	AccessKeyID string `json:"access_key_id"`
	Secret      string `json:"secret"`
	Endpoint    string `json:"endpoint"`
	Perm        string `json:"perm"`
}

func readKeys(t *testing.T, home string) map[string]storedS3Key {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(home, "s3keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]storedS3Key{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func mustJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
}

// runStdin runs the binary with stdin fed from in.
func runStdin(in []byte, args ...string) (string, error) {
	cmd := exec.Command(binary, args...)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
