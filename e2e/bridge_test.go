package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/flashback-network/flashback/client"
)

// TestBridgeOnChain is the data plane end to end: a provider runs
// `flashback bridge` for a local unit, a consumer reserves it and creates an
// access key on chain (only the sealed secret goes on chain), then uses S3
// through the bridge with aws-sdk-go-v2 and the aws CLI; revoking the key
// shuts it out within a few blocks; the bridge reports usage on chain.
func TestBridgeOnChain(t *testing.T) {
	base := freeBase(t, 2)
	home, apiURL, c := startDevNode(t, "e2e-bridge", base)
	ctx := context.Background()
	fb := homeCLI(t, home)
	s3Addr := fmt.Sprintf("127.0.0.1:%d", base+10)
	startReservedBridge(t, fb, base, home, apiURL)
	key := createSealedKey(t, c, fb)

	s3c := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String("http://" + s3Addr), UsePathStyle: true,
		Credentials:                credentials.NewStaticCredentialsProvider(key.AccessKeyID, key.Secret, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
	})
	body := bytes.Repeat([]byte("flashback "), 10_000) // 100 kB
	eventually(t, 20*time.Second, func() error {
		_, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("res-1"), Key: aws.String("docs/a.txt"), Body: bytes.NewReader(body)})
		return err
	})
	got, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("res-1"), Key: aws.String("docs/a.txt")})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if !bytes.Equal(data, body) {
		t.Fatalf("read back %d bytes, wrote %d", len(data), len(body))
	}
	// The real aws CLI, configured only through the environment.
	if _, err := exec.LookPath("aws"); err == nil {
		checkAWSCLI(t, s3Addr, key)
	}
	// Over quota (1 MiB reserved): refused, nothing stored.
	_, err = s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("res-1"), Key: aws.String("big"), Body: bytes.NewReader(make([]byte, 2<<20))})
	if code := apiCode(err); code != "QuotaExceeded" {
		t.Fatalf("over-quota put: %v", err)
	}
	// The ops listener: ready (its chain view is current), and the
	// refusal, the traffic and the sync lag in /metrics.
	ops := fmt.Sprintf("http://127.0.0.1:%d", base+11)
	if code, body, err := httpGet(ops + "/readyz"); err != nil || code != 200 || !strings.Contains(body, `"ready"`) {
		t.Fatalf("bridge /readyz: %d %v %s", code, err, body)
	}
	_, metrics, err := httpGet(ops + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	// The put above was refused at least once (the SDK may retry it).
	if !regexp.MustCompile(`flashback_bridge_quota_rejections_total\{kind="quota",reservation="res-1",unit="unit-1"\} [1-9]`).MatchString(metrics) {
		t.Errorf("bridge /metrics counts no quota rejection")
	}
	for _, want := range []string{`flashback_bridge_quota_rejections_total{kind="egress",reservation="res-1",unit="unit-1"} 0`,
		`flashback_bridge_requests_total{op="PutObject",status="200",unit="unit-1"}`, `flashback_bridge_requests_total{op="PutObject",status="403",unit="unit-1"}`,
		"flashback_bridge_chain_view_age_seconds ", "flashback_bridge_chain_view_height "} {
		if !strings.Contains(metrics, want) {
			t.Errorf("bridge /metrics lacks %q", want)
		}
	}
	checkGrafanaServed(t, metrics, grafanaMetrics(t, "flashback_bridge_", false))
	if t.Failed() {
		t.Fatalf("bridge /metrics:\n%s", metrics)
	}

	// Usage reaches the chain once an epoch (10 s on a dev chain) ends.
	eventually(t, 40*time.Second, func() error {
		r, err := c.Reservation(ctx, "res-1")
		if err != nil {
			return err
		}
		if r.StoredBytes < uint64(len(body)) || r.EgressUsed < uint64(len(body)) || r.IngressBytes < uint64(len(body)) {
			return fmt.Errorf("reservation usage not reported yet: stored %d ingress %d egress %d", r.StoredBytes, r.IngressBytes, r.EgressUsed)
		}
		return nil
	})

	// Revocation shuts the key out within a few blocks.
	fb("tx", "accesskey", "revoke", key.AccessKeyID, "--from", "alice")
	eventually(t, 10*time.Second, func() error {
		_, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("res-1"), Key: aws.String("docs/a.txt")})
		if code := apiCode(err); code != "InvalidAccessKeyId" {
			return fmt.Errorf("after revoke: %v", err)
		}
		return nil
	})
}

// startReservedBridge registers a provider with one auto-accepting local
// unit (unit-1) whose bridge listens for S3 on base+10, has alice reserve
// 1 MiB of it (res-1) and starts the bridge process.
func startReservedBridge(t *testing.T, fb func(...string) string, base int, home, apiURL string) {
	s3Addr := fmt.Sprintf("127.0.0.1:%d", base+10)
	dataDir := filepath.Join(t.TempDir(), "unit-data")
	pub := jsonString(t, fb("bridge", "init", "--unit", "unit-1="+"local:"+dataDir, "--listen", s3Addr,
		"--metrics-listen", fmt.Sprintf("127.0.0.1:%d", base+11), "-o", "json"), "bridge_pub_key")
	fb("tx", "provider", "register", "--name", "bridge e2e", "--endpoint", "http://"+s3Addr, "--bridge-pubkey", pub, "--from", "provider")
	fb("tx", "provider", "stake", "1000FLASH", "--from", "provider")
	fb("tx", "unit", "add", "--kind", "local", "--region", "eu-central", "--country", "DE", "--capacity", "10GiB",
		"--price", "1FLASH", "--egress-price", "0.01FLASH", "--auto-accept", "--from", "provider")
	fb("tx", "reserve", "unit-1", "--size", "1MiB", "--term", "1d", "--egress", "1MiB", "--from", "alice")

	// The bridge, as its own process.
	startBridge(t, home, apiURL)
}

// createSealedKey has alice create a write key for res-1 and checks only
// the sealed secret is on chain.
func createSealedKey(t *testing.T, c *client.Client, fb func(...string) string) client.CreatedKey {
	var key client.CreatedKey
	if err := json.Unmarshal([]byte(fb("tx", "accesskey", "create", "res-1", "--perm", "write", "--from", "alice", "-o", "json")), &key); err != nil {
		t.Fatal(err)
	}
	ak, err := c.AccessKeys(context.Background(), "res-1", "", "")
	if err != nil || len(ak.AccessKeys) != 1 || ak.AccessKeys[0].ID != key.AccessKeyID {
		t.Fatalf("access keys on chain: %+v %v", ak, err)
	}
	if bytes.Contains(ak.AccessKeys[0].SealedSecret, []byte(key.Secret)) {
		t.Fatal("plaintext secret on chain")
	}
	return key
}

// checkAWSCLI uploads a file to res-1 with the real aws CLI, configured
// only through the environment, and lists both objects with it.
func checkAWSCLI(t *testing.T, s3Addr string, key client.CreatedKey) {
	src := filepath.Join(t.TempDir(), "b.txt")
	if err := os.WriteFile(src, []byte("hello from the aws cli\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	awsCmd := func(args ...string) (string, error) {
		cmd := exec.Command("aws", append([]string{"--endpoint-url", "http://" + s3Addr}, args...)...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+key.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+key.Secret,
			"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := awsCmd("s3", "cp", src, "s3://res-1/docs/b.txt"); err != nil {
		t.Fatalf("aws s3 cp: %v\n%s", err, out)
	}
	out, err := awsCmd("s3", "ls", "s3://res-1/docs/")
	if err != nil || !strings.Contains(out, "a.txt") || !strings.Contains(out, "b.txt") {
		t.Fatalf("aws s3 ls: %v\n%s", err, out)
	}
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func eventually(t *testing.T, d time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v", d, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
