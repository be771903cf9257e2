package main

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDevPortsCheck(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	busy := ln.Addr().String()
	p := devPorts{addrs: []devPort{{"127.0.0.1:0", "a", "--a"}, {busy, "bridge 1 S3", "--s3-addr"}}}
	if err := p.check(); err == nil || !strings.Contains(err.Error(), busy) || !strings.Contains(err.Error(), "--s3-addr") {
		t.Fatalf("busy port: %v", err)
	}
	dup := devPorts{addrs: []devPort{{"127.0.0.1:1", "gateway S3", "--gateway-addr"}, {"127.0.0.1:1", "bridge 2 S3", "--s3-addr"}}}
	if err := dup.check(); err == nil || !strings.Contains(err.Error(), "would both listen") {
		t.Fatalf("duplicate address: %v", err)
	}
	// The layout dev derives: three bridges, their metrics, the gateway and
	// its admin, the node's three; none may coincide with defaults.
	ps, err := devListenPorts(t.TempDir(), false, 0, "", "127.0.0.1:9000", "127.0.0.1:9100", "")
	if err != nil || len(ps.addrs) != 11 {
		t.Fatalf("dev ports: %d %v", len(ps.addrs), err)
	}
	if ps.addrs[len(ps.addrs)-2].addr != "127.0.0.1:9003" || ps.addrs[len(ps.addrs)-1].addr != "127.0.0.1:9004" {
		t.Fatalf("gateway ports: %+v", ps.addrs)
	}
}

func TestDevStartFailedRemovesOnlyWhatItMade(t *testing.T) {
	cause := errors.New("boom")
	made := filepath.Join(t.TempDir(), "dev")
	if err := os.MkdirAll(filepath.Join(made, "config"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := devStartFailed(made, true, cause)
	if !errors.Is(err, cause) || !strings.Contains(err.Error(), "was removed") {
		t.Fatalf("created: %v", err)
	}
	if _, err := os.Stat(made); !os.IsNotExist(err) {
		t.Fatalf("a home the failed first start made is still there: %v", err)
	}
	old := t.TempDir()
	err = devStartFailed(old, false, cause)
	if !strings.Contains(err.Error(), "--reset") || !strings.Contains(err.Error(), "--base-port") {
		t.Fatalf("kept home: %v", err)
	}
	if _, err := os.Stat(old); err != nil {
		t.Fatalf("an older home was removed: %v", err)
	}
}
