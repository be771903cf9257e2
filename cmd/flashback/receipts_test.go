package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flashback-network/flashback/bridge"
	"github.com/flashback-network/flashback/receipt"
	"github.com/flashback-network/flashback/s3bench"
	"github.com/flashback-network/flashback/storage"
)

// cliBridge runs a real bridge that signs receipts, serving res-1 to one
// write key, and returns a CLI home whose s3keys.json holds that key.
func cliBridge(t *testing.T) string {
	t.Helper()
	local, err := storage.NewLocal(storage.LocalConfig{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	key := bridge.Key{AccessKeyID: "AKIACLI", Secret: "secret-cli", Bucket: "res-1", Perm: bridge.PermWrite}
	sb, err := s3bench.ServeBridgeConfig("cli", bridge.Config{
		Backend:      local,
		Keys:         bridge.NewStaticKeys(key),
		Reservations: bridge.NewStaticReservations(bridge.Reservation{ID: "res-1", QuotaBytes: 1 << 30, EgressBytes: -1, Unit: "u"}),
		ReceiptKey:   ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, ed25519.SeedSize)), ChainID: "flashback-test",
	}, key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	home := t.TempDir()
	g := &globals{home: home}
	if err := g.saveS3Key("res-1", storedKey{AccessKeyID: "AKIACLI", Secret: "secret-cli", Endpoint: sb.Endpoint.URL, Perm: "write"}); err != nil {
		t.Fatal(err)
	}
	return home
}

// runCLI runs the flashback command line with args and returns its stdout.
func runCLI(t *testing.T, home string, args ...string) (string, error) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append([]string{"--home", home}, args...))
	err := root.Execute()
	return out.String(), err
}

func journalLines(t *testing.T, home string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(home, receiptsDir, "res-1.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

// TestCLIJournalsReceipts: each cp upload (one request, and multipart for
// a file above the threshold) and each rm appends one verified receipt to
// HOME/receipts/res-1.jsonl; `receipts ls` verifies them and fails, naming
// the line, once one is tampered with.
func TestCLIJournalsReceipts(t *testing.T) {
	home := cliBridge(t)
	dir := t.TempDir()
	small := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(small, []byte("some notes"), 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.bin")
	if err := os.WriteFile(big, bytes.Repeat([]byte("x"), 65<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	for i, args := range [][]string{
		{"cp", small, "fb://res-1/docs/"},
		{"cp", big, "fb://res-1/big.bin"},
		{"rm", "fb://res-1/docs/notes.txt"},
	} {
		if out, err := runCLI(t, home, args...); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		if n := len(journalLines(t, home)); n != i+1 {
			t.Fatalf("after %v the journal has %d lines, want %d", args, n, i+1)
		}
	}
	out, err := runCLI(t, home, "-o", "json", "receipts", "ls", "res-1")
	if err != nil {
		t.Fatalf("receipts ls: %v\n%s", err, out)
	}
	var rows []receiptRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("receipts ls -o json: %v\n%s", err, out)
	}
	want := []struct {
		op, key string
		parts   int
	}{{receipt.OpPut, "docs/notes.txt", 0}, {receipt.OpPut, "big.bin", 5}, {receipt.OpDelete, "docs/notes.txt", 0}}
	if len(rows) != len(want) {
		t.Fatalf("rows %+v", rows)
	}
	for i, w := range want {
		if r := rows[i]; !r.Valid || r.Op != w.op || r.Key != w.key || r.Parts != w.parts {
			t.Fatalf("row %d %+v, want valid %s %s with %d parts", i, r, w.op, w.key, w.parts)
		}
	}

	// Tamper with the signed form of line 2 (its size field), then with
	// the readable copy of line 1: ls reports both and fails.
	lines := journalLines(t, home)
	var jl journalLine
	if err := json.Unmarshal([]byte(lines[1]), &jl); err != nil {
		t.Fatal(err)
	}
	r, err := receipt.Decode(jl.Encoded)
	if err != nil {
		t.Fatal(err)
	}
	r.Size--
	r.PartSizes[len(r.PartSizes)-1]--
	if jl.Encoded, err = r.Encode(); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(jl)
	lines[1] = string(b)
	lines[0] = strings.Replace(lines[0], `"key":"docs/notes.txt"`, `"key":"docs/other.txt"`, 1)
	if err := os.WriteFile(filepath.Join(home, receiptsDir, "res-1.jsonl"), []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = runCLI(t, home, "receipts", "ls", "res-1")
	if err == nil || !strings.Contains(err.Error(), "2 of 3 receipts") {
		t.Fatalf("receipts ls of a tampered journal: %v\n%s", err, out)
	}
	if !strings.Contains(out, "line 2: receipt: signature does not match") || !strings.Contains(out, "line 1: the readable copy") {
		t.Fatalf("ls output does not name the bad lines:\n%s", out)
	}
}

func TestJournalPathRefusesOddReservations(t *testing.T) {
	g := &globals{home: t.TempDir()}
	for _, res := range []string{"", ".", "..", "../x", "a/b", `a\b`} {
		if _, err := g.journalPath(res); err == nil {
			t.Errorf("journal path for %q accepted", res)
		}
	}
	if p, err := g.journalPath("res-1"); err != nil || filepath.Base(p) != "res-1.jsonl" {
		t.Fatalf("res-1: %q %v", p, err)
	}
}
