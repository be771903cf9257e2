package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"maps"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestRepoGatewayChainMode runs the repository data path with real
// processes: a node, three providers' bridges (each its own process and
// home, a local-disk unit each), and `flashback gateway` in chain mode
// serving alice's mirror repository of one reservation on each unit (made
// with `repo create`, encrypted by default, secrets sealed to the key of
// `gateway init`, which also made the owner secret). With the repo key and
// aws-sdk-go-v2: 199 objects and a 300 MiB multipart upload go in; one bridge
// is killed with SIGKILL; every GET still returns the exact bytes, PUTs
// still succeed (quorum 2 of 3), LIST is complete. The bridge comes back:
// the repair loop makes every member level (seen with `repo status
// --gateway-admin`), each member's bridge lists every object, no file on
// any member's disk holds the plaintext, range GETs decrypt right. One
// member's disk is wiped and the member replaced with a reservation on a
// fourth provider: the gateway fills it and sends `repo synced` (--from),
// leaving three full copies. The repo key is
// refused by a bridge, and stops working at the gateway once revoked.
func TestRepoGatewayChainMode(t *testing.T) {
	base := freeBase(t, 6)
	home, apiURL, c := startDevNode(t, "e2e-repo-gw", base)
	ctx := context.Background()
	fb := func(args ...string) string {
		t.Helper()
		return run(t, append(args, "--home", home, "--node", apiURL)...)
	}
	bridges := startRepoBridges(t, fb, home, apiURL, base)
	var res []string
	for i := 1; i <= 3; i++ {
		res = append(res, jsonString(t, fb("tx", "reserve", fmt.Sprintf("unit-%d", i), "--size", "1GiB", "--term", "1d", "--egress", "4GiB", "--from", "alice", "-o", "json"), "reservation"))
	}

	gwDir := filepath.Join(t.TempDir(), "gateway")
	keyFile, secretFile, key := createE2ERepo(t, fb, gwDir, res)
	gwAddr, admin := fmt.Sprintf("127.0.0.1:%d", base+40), fmt.Sprintf("http://127.0.0.1:%d", base+41)
	// Scans every 2 s (default 10 min) and a member back from an outage
	// waits at most 2 s (default 5 min), so that repair shows within the test.
	cfgFile := filepath.Join(gwDir, "gateway.json")
	if err := os.WriteFile(cfgFile, []byte(`{"gateway_key_file": "`+keyFile+`", "repair": {"scan_interval": "2s", "backoff_max": "2s"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	startProcess(t, gwDir, "gateway", "gateway", "--home", home, "--node", apiURL, "--config", cfgFile, "--owner-secret-file", secretFile,
		"--listen", gwAddr, "--admin-listen", strings.TrimPrefix(admin, "http://"), "--state-dir", filepath.Join(gwDir, "state"),
		"--owner", strings.TrimSpace(fb("keys", "show", "alice")), "--from", "alice")
	gw := s3Client("http://"+gwAddr, key.ID, key.Secret)
	eventually(t, 20*time.Second, func() error {
		_, err := gw.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("e2e-repo")})
		return err
	})

	start := time.Now()
	objects := uploadRepoObjects(t, gw)
	t.Logf("uploaded %d objects (%d MiB multipart among them) through the gateway in %s", len(objects), repoMultipartSize>>20, time.Since(start).Round(time.Millisecond))
	// Mirrored: every member's bridge has every object.
	for _, r := range res {
		checkMemberHolds(t, fb, r, objects)
	}

	// A repo key is the gateway's; a bridge does not know it.
	_, err := s3Client("http://"+bridges[0].addr, key.ID, key.Secret).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(res[0]), Key: aws.String("obj-000")})
	if code := apiCode(err); code != "InvalidAccessKeyId" {
		t.Fatalf("repo key on a bridge: %v (code %q), want InvalidAccessKeyId", err, code)
	}

	// SIGKILL the second provider's bridge: reads, writes and lists go on.
	bridges[1].stop()
	start = time.Now()
	for name, want := range objects {
		mustGetRepo(t, gw, name, want)
	}
	t.Logf("read back %d objects with a bridge down in %s", len(objects), time.Since(start).Round(time.Millisecond))
	for i := range 4 {
		name := fmt.Sprintf("while-down-%d", i)
		data := withMarker(randBytesE2E(100_000 + i))
		if _, err := gw.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("e2e-repo"), Key: aws.String(name), Body: bytes.NewReader(data)}); err != nil {
			t.Fatalf("PUT with one of three members down: %v", err)
		}
		objects[name] = data
		mustGetRepo(t, gw, name, data)
	}
	if got := listRepo(t, gw); strings.Join(got, ",") != strings.Join(sortedKeys(objects), ",") {
		t.Fatalf("LIST with a member down: %d keys, want %d:\n%v", len(got), len(objects), got)
	}

	// The bridge comes back: the repair loop copies what it missed.
	bridges[1].stop = startBridgeProc(t, bridges[1].home, apiURL)
	waitHealthz(t, bridges[1].metrics)
	back := time.Now()
	waitAllLevel(t, fb, admin, 3, back, 40*time.Second)
	t.Logf("all 3 members level %s after the bridge came back", time.Since(back).Round(time.Millisecond))
	files := 0
	for i, r := range res {
		checkMemberHolds(t, fb, r, objects)
		files += checkNoPlaintext(t, bridges[i].dir)
	}
	t.Logf("no plaintext marker in the %d files on the members' disks", files)
	checkRangeGets(t, gw, objects)

	// The first member's disk dies: its data directory is wiped entirely,
	// and it is replaced with a fresh reservation on a fourth provider
	// (`repo replace`). The gateway fills the new member from the other
	// two and sends `repo synced` itself, which retires the wiped one.
	if err := os.RemoveAll(bridges[0].dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(bridges[0].dir, 0o700); err != nil {
		t.Fatal(err)
	}
	bridges = append(bridges, addRepoProvider(t, fb, filepath.Join(t.TempDir(), "prov4"), apiURL, base+50, 4, true))
	waitHealthz(t, bridges[3].metrics)
	res = append(res, jsonString(t, fb("tx", "reserve", "unit-4", "--size", "1GiB", "--term", "1d", "--egress", "4GiB", "--from", "alice", "-o", "json"), "reservation"))
	fb("repo", "replace", "e2e-repo", res[0], res[3], "--from", "alice")
	replaced := time.Now()
	alice := strings.TrimSpace(fb("keys", "show", "alice"))
	eventually(t, 60*time.Second, func() error {
		r, err := c.Repo(ctx, alice, "e2e-repo")
		if err != nil {
			return err
		}
		var ids []string
		for _, m := range r.Members {
			if m.State != "active" {
				return fmt.Errorf("member %s is %s", m.Reservation, m.State)
			}
			ids = append(ids, m.Reservation)
		}
		if strings.Join(ids, ",") != strings.Join(res[1:], ",") {
			return fmt.Errorf("members %v, want %v", ids, res[1:])
		}
		return nil
	})
	t.Logf("the replacement was filled and the wiped member retired %s after `repo replace` (no manual repo synced)", time.Since(replaced).Round(time.Millisecond))
	// Three full copies: every object on each member, the same stored
	// size on all three (the ciphertext is one and the same).
	want := memberListing(t, fb, res[1])
	if len(want) != len(objects) {
		t.Fatalf("member %s lists %d objects, want %d", res[1], len(want), len(objects))
	}
	for _, r := range res[2:] {
		if got := memberListing(t, fb, r); !maps.Equal(got, want) {
			t.Fatalf("member %s lists %v, member %s %v", r, got, res[1], want)
		}
	}
	checkNoPlaintext(t, bridges[3].dir)
	for name, data := range objects {
		mustGetRepo(t, gw, name, data)
	}

	// Revoked, the key stops working at the gateway within a few blocks.
	fb("repo", "keys", "revoke", key.ID, "--from", "alice")
	eventually(t, 10*time.Second, func() error {
		_, err := gw.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("e2e-repo"), Key: aws.String("obj-000")})
		if code := apiCode(err); code != "InvalidAccessKeyId" {
			return fmt.Errorf("after revoke: %v", err)
		}
		return nil
	})
	b, err := os.ReadFile(filepath.Join(gwDir, "gateway.log"))
	if err != nil || bytes.Contains(b, []byte(key.Secret)) || !bytes.Contains(b, []byte("serving 1 repositories on http://"+gwAddr)) ||
		!bytes.Contains(b, []byte("sent repo synced e2e-repo "+res[3])) {
		t.Fatalf("gateway log unreadable, holding the repo key's secret, or not saying what it serves and syncs: %v\n%s", err, b)
	}
}

// checkRangeGets reads byte ranges of the multipart object (across its
// parts) and of a small one through the gateway.
func checkRangeGets(t *testing.T, gw *s3.Client, objects map[string][]byte) {
	t.Helper()
	big, small := objects["big/multipart.bin"], objects["while-down-0"]
	for _, c := range []struct {
		key      string
		from, to int
		data     []byte
	}{{"big/multipart.bin", 5_000_000, 13_000_000, big}, {"big/multipart.bin", len(big) - 100, len(big) - 1, big}, {"while-down-0", 10, 60_000, small}} {
		out, err := gw.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("e2e-repo"), Key: aws.String(c.key),
			Range: aws.String(fmt.Sprintf("bytes=%d-%d", c.from, c.to))})
		if err != nil {
			t.Fatalf("range GET %s %d-%d: %v", c.key, c.from, c.to, err)
		}
		got, err := io.ReadAll(out.Body)
		out.Body.Close()
		if err != nil || !bytes.Equal(got, c.data[c.from:c.to+1]) {
			t.Fatalf("range GET %s %d-%d: %d bytes (%v), want the %d plaintext bytes", c.key, c.from, c.to, len(got), err, c.to-c.from+1)
		}
	}
}

// repoMultipartSize is the multipart object's size (the 300 MiB):
// 19 parts of up to 16 MiB.
const repoMultipartSize = 300 << 20

// repoSmallObjects is how many small objects go in beside it (with the
// multipart one, the 200).
const repoSmallObjects = 199

func s3Client(endpoint, id, secret string) *s3.Client {
	return s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials:      credentials.NewStaticCredentialsProvider(id, secret, ""),
		RetryMaxAttempts: 1,
	})
}

func randBytesE2E(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// uploadRepoObjects PUTs repoSmallObjects objects of 1 B to 256 KiB and one multipart
// upload of repoMultipartSize, returning name -> bytes.
func uploadRepoObjects(t *testing.T, gw *s3.Client) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	objects := map[string][]byte{}
	for i := range repoSmallObjects {
		name := fmt.Sprintf("obj-%03d", i)
		data := withMarker(randBytesE2E(1 + mrand.IntN(256<<10)))
		if _, err := gw.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("e2e-repo"), Key: aws.String(name), Body: bytes.NewReader(data)}); err != nil {
			t.Fatalf("PUT %s: %v", name, err)
		}
		objects[name] = data
	}
	big := withMarker(randBytesE2E(repoMultipartSize))
	up, err := gw.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("e2e-repo"), Key: aws.String("big/multipart.bin")})
	if err != nil {
		t.Fatal(err)
	}
	const part = 16 << 20
	var parts []types.CompletedPart
	for n := int32(1); int(n-1)*part < len(big); n++ {
		chunk := big[int(n-1)*part : min(int(n)*part, len(big))]
		out, err := gw.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("e2e-repo"), Key: aws.String("big/multipart.bin"), UploadId: up.UploadId,
			PartNumber: aws.Int32(n), Body: bytes.NewReader(chunk)})
		if err != nil {
			t.Fatalf("part %d: %v", n, err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag})
	}
	if _, err := gw.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("e2e-repo"), Key: aws.String("big/multipart.bin"),
		UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		t.Fatal(err)
	}
	objects["big/multipart.bin"] = big
	return objects
}

func mustGetRepo(t *testing.T, gw *s3.Client, name string, want []byte) {
	t.Helper()
	out, err := gw.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("e2e-repo"), Key: aws.String(name)})
	if err != nil {
		t.Fatalf("GET %s: %v", name, err)
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("GET %s: %d bytes (%v), want %d exact bytes", name, len(got), err, len(want))
	}
}

func listRepo(t *testing.T, gw *s3.Client) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(gw, &s3.ListObjectsV2Input{Bucket: aws.String("e2e-repo"), MaxKeys: aws.Int32(20)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("LIST: %v", err)
		}
		for _, o := range page.Contents {
			keys = append(keys, *o.Key)
		}
	}
	return keys
}

func sortedKeys(m map[string][]byte) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
