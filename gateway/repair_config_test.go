package gateway

import (
	"strings"
	"testing"
	"time"
)

// TestRepairFileConfig: the repair part of the config file: on by default,
// off when disabled, durations and rates checked, admin_listen passed on.
func TestRepairFileConfig(t *testing.T) {
	fc := FileConfig{Listen: "127.0.0.1:0", StateDir: t.TempDir(), AdminListen: ":9301",
		Repos: []FileRepo{{Name: "photos", Mode: ModeMirror, Members: []FileMember{{ID: "r1", Endpoint: "http://127.0.0.1:1", AccessKeyID: "A", SecretAccessKey: "S"}}}}}
	if err := fc.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg := fc.GatewayConfig()
	if cfg.Repair == nil || cfg.AdminListen != ":9301" {
		t.Fatalf("default: repair %+v, admin %q", cfg.Repair, cfg.AdminListen)
	}
	fc.Repair = &FileRepair{ScanInterval: "90s", Scrub: true, BytesPerSec: 1e6, ObjectsPerSec: 10, NoRoomRetry: "1m", BackoffMax: "3s"}
	if rc := fc.GatewayConfig().Repair; rc == nil || rc.ScanInterval != 90*time.Second || !rc.Scrub || rc.BytesPerSec != 1e6 || rc.ObjectsPerSec != 10 || rc.NoRoomRetry != time.Minute || rc.BackoffMax != 3*time.Second {
		t.Fatalf("repair config: %+v", rc)
	}
	fc.Repair = &FileRepair{Disabled: true}
	if fc.GatewayConfig().Repair != nil {
		t.Fatal("disabled repair still configured")
	}
	for _, bad := range []FileRepair{{ScanInterval: "often"}, {NoRoomRetry: "-1s"}, {BackoffMax: "soon"}, {BytesPerSec: -1}} {
		fc.Repair = &bad
		if err := fc.Validate(); err == nil || !(strings.Contains(err.Error(), "duration") || strings.Contains(err.Error(), "negative")) {
			t.Fatalf("%+v: %v", bad, err)
		}
	}
}
