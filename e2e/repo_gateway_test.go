package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
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

	"github.com/flashback-network/flashback/client"
)

// TestRepoGatewayChainMode runs the repository data path with real
// processes: a node, three providers' bridges (each its own process and
// home, a local-disk unit each), and `flashback gateway` in chain mode
// serving alice's mirror repository of one reservation on each unit (made
// with `repo create`, secrets sealed to the key of `gateway init`). With the
// repo key and aws-sdk-go-v2: 50 objects and a 32 MiB multipart upload go
// in; one bridge is killed with SIGKILL; every GET still returns the exact
// bytes, a PUT still succeeds (quorum 2 of 3), LIST is complete. The repo
// key is refused by a bridge, and stops working at the gateway once
// revoked.
func TestRepoGatewayChainMode(t *testing.T) {
	base := freeBase(t, 5)
	home, apiURL, c := startDevNode(t, "e2e-repo-gw", base)
	ctx := context.Background()
	fb := func(args ...string) string {
		t.Helper()
		return run(t, append(args, "--home", home, "--node", apiURL)...)
	}
	stops, bridges := startRepoBridges(t, fb, home, apiURL, base)
	var res []string
	for i := 1; i <= 3; i++ {
		res = append(res, jsonString(t, fb("tx", "reserve", fmt.Sprintf("unit-%d", i), "--size", "256MiB", "--term", "1d", "--egress", "1GiB", "--from", "alice", "-o", "json"), "reservation"))
	}

	gwDir := filepath.Join(t.TempDir(), "gateway")
	keyFile, key := createE2ERepo(t, fb, gwDir, res)
	gwAddr := fmt.Sprintf("127.0.0.1:%d", base+40)
	startProcess(t, gwDir, "gateway", "gateway", "--home", home, "--node", apiURL, "--gateway-key-file", keyFile,
		"--listen", gwAddr, "--state-dir", filepath.Join(gwDir, "state"), "--owner", strings.TrimSpace(fb("keys", "show", "alice")))
	gw := s3Client("http://"+gwAddr, key.ID, key.Secret)
	eventually(t, 20*time.Second, func() error {
		_, err := gw.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("e2e-repo")})
		return err
	})

	start := time.Now()
	objects := uploadRepoObjects(t, gw)
	t.Logf("uploaded %d objects (%d MiB multipart among them) through the gateway in %s", len(objects), repoMultipartSize>>20, time.Since(start).Round(time.Millisecond))

	// Mirrored: every member's bridge has every object (read with the
	// member's own reservation key, which `repo create` stored).
	for _, r := range res {
		if out := fb("ls", "fb://"+r+"/big/", "--from", "alice"); !strings.Contains(out, "multipart.bin") {
			t.Fatalf("member %s lacks the multipart object:\n%s", r, out)
		}
		if out := fb("ls", "fb://"+r+"/", "--from", "alice"); strings.Count(out, "obj-") != 50 {
			t.Fatalf("member %s does not hold the 50 objects:\n%s", r, out)
		}
	}

	// A repo key is the gateway's; a bridge does not know it.
	_, err := s3Client("http://"+bridges[0], key.ID, key.Secret).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(res[0]), Key: aws.String("obj-000")})
	if code := apiCode(err); code != "InvalidAccessKeyId" {
		t.Fatalf("repo key on a bridge: %v (code %q), want InvalidAccessKeyId", err, code)
	}

	// SIGKILL the second provider's bridge: reads, writes and lists go on.
	stops[1]()
	start = time.Now()
	for name, want := range objects {
		mustGetRepo(t, gw, name, want)
	}
	t.Logf("read back %d objects with a bridge down in %s", len(objects), time.Since(start).Round(time.Millisecond))
	after := randBytesE2E(100_000)
	if _, err := gw.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("e2e-repo"), Key: aws.String("after-kill"), Body: bytes.NewReader(after)}); err != nil {
		t.Fatalf("PUT with one of three members down: %v", err)
	}
	objects["after-kill"] = after
	mustGetRepo(t, gw, "after-kill", after)
	if got := listRepo(t, gw); strings.Join(got, ",") != strings.Join(sortedKeys(objects), ",") {
		t.Fatalf("LIST with a member down: %d keys, want %d:\n%v", len(got), len(objects), got)
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
	if err != nil || bytes.Contains(b, []byte(key.Secret)) || !bytes.Contains(b, []byte("serving 1 repositories on http://"+gwAddr)) {
		t.Fatalf("gateway log unreadable, holding the repo key's secret, or not saying what it serves: %v\n%s", err, b)
	}
	if r, err := c.Repo(ctx, strings.TrimSpace(fb("keys", "show", "alice")), "e2e-repo"); err != nil || len(r.Members) != 3 {
		t.Fatalf("repo on chain: %+v %v", r, err)
	}
}

// createE2ERepo makes the gateway key in gwDir and, with the CLI, alice's
// unencrypted mirror repository e2e-repo over res and a write repo key;
// `repo create` takes what `gateway pubkey` prints.
func createE2ERepo(t *testing.T, fb func(...string) string, gwDir string, res []string) (string, client.CreatedRepoKey) {
	t.Helper()
	keyFile := filepath.Join(gwDir, "key.json")
	pub := jsonString(t, fb("gateway", "init", "--gateway-key-file", keyFile, "-o", "json"), "gateway_pub_key")
	pubFile := filepath.Join(gwDir, "gw.pub")
	if printed := strings.TrimSpace(fb("gateway", "pubkey", "--gateway-key-file", keyFile)); printed != pub {
		t.Fatalf("gateway pubkey %q, init said %q", printed, pub)
	}
	if err := os.WriteFile(pubFile, []byte(fb("gateway", "pubkey", "--gateway-key-file", keyFile)), 0o644); err != nil {
		t.Fatal(err)
	}
	fb("repo", "create", "e2e-repo", "--mode", "mirror", "--member", res[0], "--member", res[1], "--member", res[2],
		"--gateway-key-file", pubFile, "--no-encryption", "--from", "alice")
	var key client.CreatedRepoKey
	if err := json.Unmarshal([]byte(fb("repo", "keys", "create", "e2e-repo", "--perm", "write", "--from", "alice", "-o", "json")), &key); err != nil || key.ID == "" {
		t.Fatalf("repo key: %+v %v", key, err)
	}

	return keyFile, key
}

// repoMultipartSize is the multipart object's size: 4 parts of 8 MiB.
const repoMultipartSize = 32 << 20

// startRepoBridges registers three providers (the dev home's `provider`,
// and a `provider` key in each of two more homes, funded by alice), each
// with an auto-accepting local unit (unit-1..3, checked) behind its own
// bridge process on base+10, +20, +30, and returns their stop functions
// (SIGKILL) and S3 addresses.
func startRepoBridges(t *testing.T, fb func(...string) string, home, apiURL string, base int) (stops []func(), addrs []string) {
	t.Helper()
	homes := []string{home, filepath.Join(t.TempDir(), "prov2"), filepath.Join(t.TempDir(), "prov3")}
	for i, h := range homes {
		f := func(args ...string) string {
			t.Helper()
			return run(t, append(args, "--home", h, "--node", apiURL)...)
		}
		if i > 0 {
			f("keys", "add", "provider", "--unencrypted")
			fb("tx", "bank", "send", strings.TrimSpace(f("keys", "show", "provider")), "2000FLASH", "--from", "alice")
		}
		s3Addr := fmt.Sprintf("127.0.0.1:%d", base+10*(i+1))
		unit := fmt.Sprintf("unit-%d", i+1)
		pub := jsonString(t, f("bridge", "init", "--unit", unit+"=local:"+filepath.Join(t.TempDir(), unit), "--listen", s3Addr,
			"--metrics-listen", fmt.Sprintf("127.0.0.1:%d", base+10*(i+1)+1), "-o", "json"), "bridge_pub_key")
		f("tx", "provider", "register", "--name", fmt.Sprintf("repo provider %d", i+1), "--endpoint", "http://"+s3Addr, "--bridge-pubkey", pub, "--from", "provider")
		f("tx", "provider", "stake", "1000FLASH", "--from", "provider")
		if got := jsonString(t, f("tx", "unit", "add", "--kind", "local", "--region", "local", "--country", "DE", "--capacity", "10GiB",
			"--price", "1FLASH", "--egress-price", "0.01FLASH", "--auto-accept", "--from", "provider", "-o", "json"), "unit"); got != unit {
			t.Fatalf("unit %q, want %q (the bridge was configured for it)", got, unit)
		}
		stops = append(stops, startBridgeProc(t, h, apiURL))
		addrs = append(addrs, s3Addr)
	}
	for i := range homes {
		waitHealthz(t, fmt.Sprintf("127.0.0.1:%d", base+10*(i+1)+1))
	}
	return stops, addrs
}

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

// uploadRepoObjects PUTs 50 objects of 1 B to 256 KiB and one multipart
// upload of repoMultipartSize, returning name -> bytes.
func uploadRepoObjects(t *testing.T, gw *s3.Client) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	objects := map[string][]byte{}
	for i := range 50 {
		name := fmt.Sprintf("obj-%03d", i)
		data := randBytesE2E(1 + mrand.IntN(256<<10))
		if _, err := gw.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("e2e-repo"), Key: aws.String(name), Body: bytes.NewReader(data)}); err != nil {
			t.Fatalf("PUT %s: %v", name, err)
		}
		objects[name] = data
	}
	big := randBytesE2E(repoMultipartSize)
	up, err := gw.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("e2e-repo"), Key: aws.String("big/multipart.bin")})
	if err != nil {
		t.Fatal(err)
	}
	const part = 8 << 20
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
