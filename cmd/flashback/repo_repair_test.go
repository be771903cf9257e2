package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/bridge"
	"github.com/flashback-network/flashback/gateway"
	"github.com/flashback-network/flashback/s3bench"
	"github.com/flashback-network/flashback/storage"
)

// repairMember is a real bridge serving reservation id over a local disk.
func repairMember(t *testing.T, id string) gateway.FileMember {
	t.Helper()
	local, err := storage.NewLocal(storage.LocalConfig{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	key := bridge.Key{AccessKeyID: "AKIAREP" + strings.ToUpper(id[len(id)-4:]), Secret: "secret-" + id, Bucket: id, Perm: bridge.PermWrite}
	sb, err := s3bench.ServeBridgeConfig(id, bridge.Config{
		Backend: local, Keys: bridge.NewStaticKeys(key),
		Reservations: bridge.NewStaticReservations(bridge.Reservation{ID: id, QuotaBytes: 1 << 30, EgressBytes: -1, Unit: "u-" + id}),
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	return gateway.FileMember{ID: id, Endpoint: sb.Endpoint.URL, AccessKeyID: key.AccessKeyID, SecretAccessKey: key.Secret}
}

func s3To(url, id, secret string) *s3.Client {
	return s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), UsePathStyle: true, RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, "")})
}

// serveGateway runs a gateway from fc until the test ends.
func serveGateway(t *testing.T, fc gateway.FileConfig) *gateway.Gateway {
	t.Helper()
	gw, err := gateway.New(context.Background(), fc.GatewayConfig())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", fc.Listen)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- gw.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		gw.Shutdown(ctx)
		<-done
	})
	return gw
}

// mirrorConfig is a gateway config with one mirror repository.
func mirrorConfig(t *testing.T, name string, members []gateway.FileMember, repair *gateway.FileRepair) gateway.FileConfig {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return gateway.FileConfig{Listen: addr, StateDir: t.TempDir(), Repair: repair,
		Repos: []gateway.FileRepo{{Name: name, Mode: gateway.ModeMirror, Members: members}},
		Keys:  []gateway.FileKey{{AccessKeyID: "FBREPOW", SecretAccessKey: "repo-secret-w", Repo: name, Perm: gateway.PermWrite}}}
}

// TestRepoRepairCLI: a member lost 4 of 10 objects (deleted on its bridge
// behind the gateway's back); `flashback repo repair photos --config FILE`
// copies them back byte for byte, prints the figures, and a second pass
// finds nothing to do.
func TestRepoRepairCLI(t *testing.T) {
	members := []gateway.FileMember{repairMember(t, "res-a001"), repairMember(t, "res-b002"), repairMember(t, "res-c003")}
	fc := mirrorConfig(t, "photos", members, &gateway.FileRepair{Disabled: true})
	serveGateway(t, fc)
	gwc := s3To("http://"+fc.Listen, "FBREPOW", "repo-secret-w")
	objs := map[string][]byte{}
	for i := 0; i < 10; i++ {
		k := fmt.Sprintf("doc-%02d", i)
		objs[k] = bytes.Repeat([]byte{byte(i)}, 1000+i*50_000)
		if _, err := gwc.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String(k), Body: bytes.NewReader(objs[k])}); err != nil {
			t.Fatal(err)
		}
	}
	lag := members[2]
	lagc := s3To(lag.Endpoint, lag.AccessKeyID, lag.SecretAccessKey)
	for _, k := range []string{"doc-01", "doc-04", "doc-05", "doc-09"} {
		if _, err := lagc.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(lag.ID), Key: aws.String(k)}); err != nil {
			t.Fatal(err)
		}
	}
	cfgPath := filepath.Join(t.TempDir(), "gateway.json")
	js, _ := json.Marshal(fc)
	if err := os.WriteFile(cfgPath, js, 0o600); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	out, err := runCLI(t, home, "repo", "repair", "photos", "--config", cfgPath)
	if err != nil || !strings.Contains(out, "10 keys scanned, 4 objects copied") || !strings.Contains(out, "0 remaining") {
		t.Fatalf("repo repair: %v\n%s", err, out)
	}
	t.Logf("repo repair:\n%s", out)
	for k, data := range objs {
		o, err := lagc.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(lag.ID), Key: aws.String(k)})
		if err != nil {
			t.Fatalf("%s on the lagging member: %v", k, err)
		}
		got, _ := io.ReadAll(o.Body)
		o.Body.Close()
		if sha256.Sum256(got) != sha256.Sum256(data) {
			t.Fatalf("%s on the lagging member differs", k)
		}
	}
	out, err = runCLI(t, home, "-o", "json", "repo", "repair", "photos", "--config", cfgPath, "--scrub")
	var rep repairReport
	if err != nil || json.Unmarshal([]byte(out), &rep) != nil || rep.Copied != 0 || rep.Remaining != 0 || rep.Keys != 10 || len(rep.Members) != 3 {
		t.Fatalf("second pass: %v\n%s", err, out)
	}
	if out, err := runCLI(t, home, "repo", "repair", "nope", "--config", cfgPath); err == nil || !strings.Contains(out+err.Error(), `no repository "nope"`) {
		t.Fatalf("unknown repository: %v\n%s", err, out)
	}
}

// TestRepoStatusLiveCLI: `repo status NAME --gateway-admin URL` adds the
// gateway's live figures (objects, bytes, behind-by) to the chain view of
// the repository's members.
func TestRepoStatusLiveCLI(t *testing.T) {
	h := startRepoCLI(t)
	r1, r2 := h.res[0], h.res[1]
	h.fb("repo", "create", "photos", "--mode", "mirror", "--member", r1, "--member", r2, "--gateway-key-file", h.gwKeyPEM, "--from", "alice")
	members := []gateway.FileMember{repairMember(t, r1), repairMember(t, r2)}
	fc := mirrorConfig(t, "photos", members, &gateway.FileRepair{ScanInterval: "200ms"})
	fc.AdminListen = "127.0.0.1:0"
	gw := serveGateway(t, fc)
	gwc := s3To("http://"+fc.Listen, "FBREPOW", "repo-secret-w")
	for i := 0; i < 3; i++ {
		if _, err := gwc.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String(fmt.Sprint("k", i)), Body: bytes.NewReader(make([]byte, 1000))}); err != nil {
			t.Fatal(err)
		}
	}
	admin := "http://" + gw.AdminAddr()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out := h.fb("-o", "json", "repo", "status", "photos", "--from", "alice", "--gateway-admin", admin)
		var r types.Repo
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if len(r.Members) == 2 && r.Members[0].Live != nil && r.Members[0].Live.Objects == 3 && r.Members[1].Live != nil && r.Members[1].Live.Objects == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no live figures:\n%s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	out := h.fb("repo", "status", "photos", "--from", "alice", "--gateway-admin", admin)
	if !strings.Contains(out, "3 objects, 2.93 KiB, behind by 0") {
		t.Fatalf("repo status with live figures:\n%s", out)
	}
	h.fails("live figures", "repo", "status", "photos", "--from", "alice", "--gateway-admin", "http://127.0.0.1:1")
}
