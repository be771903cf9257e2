package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flashback-network/flashback/receipt"
)

// TestDisputeReceiptFromJournal: `dispute open --key` takes the last
// receipt of exactly that key from the journal; a key whose last receipt
// is a delete, or that has none, is refused with a reason; --receipt takes
// a journal line or the bare encoded receipt, and refuses anything else.
func TestDisputeReceiptFromJournal(t *testing.T) {
	g := &globals{home: t.TempDir()}
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{5}, ed25519.SeedSize))
	sign := func(key, op string, content string, at int64) string {
		t.Helper()
		r := &receipt.Receipt{ChainID: "c", Reservation: "res-1", Key: key, Op: op, Time: at}
		if op == receipt.OpPut {
			sum := sha256.Sum256([]byte(content))
			r.Size, r.ContentHash, r.ETag = int64(len(content)), sum[:], "e"
		}
		if err := r.Sign(priv); err != nil {
			t.Fatal(err)
		}
		if err := g.journalReceipt(r); err != nil {
			t.Fatal(err)
		}
		enc, _ := r.Encode()
		return enc
	}
	sign("k1", receipt.OpPut, "old", 100)
	sign("k10", receipt.OpPut, "other", 101)
	latest := sign("k1", receipt.OpPut, "new", 102)
	sign("k2", receipt.OpPut, "gone", 103)
	sign("k2", receipt.OpDelete, "", 104)

	if got, err := g.disputeReceipt("res-1", "k1", ""); err != nil || got != latest {
		t.Fatalf("k1: %v, want the latest put", err)
	}
	if _, err := g.disputeReceipt("res-1", "k2", ""); err == nil || !strings.Contains(err.Error(), "removed") {
		t.Fatalf("k2 (deleted): %v", err)
	}
	if _, err := g.disputeReceipt("res-1", "k3", ""); err == nil || !strings.Contains(err.Error(), "no valid receipt") {
		t.Fatalf("k3 (none): %v", err)
	}
	if _, err := g.disputeReceipt("res-9", "k1", ""); err == nil || !strings.Contains(err.Error(), "no receipts") {
		t.Fatalf("no journal: %v", err)
	}
	lines := journalLines(t, g.home)
	dir := t.TempDir()
	for name, content := range map[string]string{"line.json": lines[2], "bare.txt": latest + "\n"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if got, err := g.disputeReceipt("res-1", "", p); err != nil || got != latest {
			t.Fatalf("--receipt %s: %v", name, err)
		}
	}
	bad := filepath.Join(dir, "bad.txt")
	if err := os.WriteFile(bad, []byte("not a receipt"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := g.disputeReceipt("res-1", "", bad); err == nil {
		t.Fatal("--receipt with garbage accepted")
	}
	if _, err := g.disputeReceipt("res-1", "", ""); err == nil || !strings.Contains(err.Error(), "--key") {
		t.Fatalf("neither --key nor --receipt: %v", err)
	}
}
