package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
)

// checkReceipts: the bridge daemon signed a receipt for each file store
// uploaded, with the provider's key on chain and for the node's chain, and
// store journaled them in HOME/receipts/<reservation>.jsonl, where
// `receipts ls` verifies them.
func (s *consumerScenario) checkReceipts() {
	t := s.t
	b, err := os.ReadFile(filepath.Join(s.home, "receipts", s.res+".jsonl"))
	if err != nil {
		t.Fatalf("store kept no receipt journal: %v", err)
	}
	if n := len(strings.Split(strings.TrimSpace(string(b)), "\n")); n != 2 {
		t.Fatalf("journal has %d lines after storing 2 files:\n%s", n, b)
	}
	var rows []struct {
		Valid       bool   `json:"valid"`
		Problem     string `json:"problem"`
		Op          string `json:"op"`
		Key         string `json:"key"`
		Size        int64  `json:"size"`
		ContentHash string `json:"content_hash"`
		Provider    string `json:"provider"`
		ChainID     string `json:"chain_id"`
	}
	mustJSON(t, s.fb("receipts", "ls", s.res, "-o", "json"), &rows)
	ctx := context.Background()
	r, err := s.c.Reservation(ctx, s.res)
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"a.txt": s.small, "b.bin": s.big}
	if len(rows) != len(files) {
		t.Fatalf("receipts ls: %+v", rows)
	}
	for _, row := range rows {
		sum := sha256.Sum256(files[row.Key])
		if !row.Valid || row.Op != "put" || row.Size != int64(len(files[row.Key])) || row.ContentHash != hex.EncodeToString(sum[:]) ||
			row.Provider != r.Provider || row.ChainID != st.ChainID {
			t.Fatalf("receipt %+v, want a valid put of %s by %s on %s", row, row.Key, r.Provider, st.ChainID)
		}
	}
}
