package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/receipt"
)

// The receipt journal (receipt.Journal): every receipt a bridge signs for
// `cp`, `store` and `rm` is appended to HOME/receipts/<reservation>.jsonl
// and fsync'd before the command reports success. `receipts ls` and
// `dispute open` read another journal with --journal DIR (a gateway keeps
// its members' receipts in STATE_DIR/receipts).

const receiptsDir = "receipts"

// journalLine is one line of a journal.
type journalLine = receipt.JournalLine

// journal is the receipt journal in use: --journal DIR, else HOME/receipts.
func (g *globals) journal() *receipt.Journal {
	if g.journalDir != "" {
		return &receipt.Journal{Dir: g.journalDir}
	}
	return &receipt.Journal{Dir: filepath.Join(g.home, receiptsDir)}
}

func (g *globals) journalPath(res string) (string, error) { return g.journal().Path(res) }

// journalReceipt appends r to its reservation's journal and syncs it.
func (g *globals) journalReceipt(r *receipt.Receipt) error { return g.journal().Append(r) }

// keepReceipt journals the receipt of an operation on url, if the bridge
// sent one; a receipt the SDK refused is reported, not kept.
func (g *globals) keepReceipt(url string, r *receipt.Receipt, problem string) (string, error) {
	if problem != "" {
		g.note("warning: %s: the bridge's receipt was refused (%s); it is not journaled", url, problem)
	}
	if r == nil {
		return "", nil
	}
	if err := g.journalReceipt(r); err != nil {
		return "", fmt.Errorf("%s succeeded, but keeping its receipt in %s failed: %w", url, g.journal().Dir, err)
	}
	return r.Encode()
}

// receiptRow is one journaled receipt as `receipts ls` shows it.
type receiptRow struct {
	Line        int    `json:"line"`
	Valid       bool   `json:"valid"`
	Problem     string `json:"problem,omitempty"`
	Op          string `json:"op,omitempty"`
	Key         string `json:"key,omitempty"`
	Size        int64  `json:"size"`
	ContentHash string `json:"content_hash,omitempty"`
	Parts       int    `json:"parts,omitempty"`
	Time        string `json:"time,omitempty"`
	Provider    string `json:"provider,omitempty"`
	ChainID     string `json:"chain_id,omitempty"`
	Encoded     string `json:"encoded,omitempty"`
}

func receiptsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "receipts", Short: "The bridges' signed receipts of your uploads and deletions, kept in HOME/receipts"}
	cmd.AddCommand(receiptsLsCmd(g))
	return cmd
}

func receiptsLsCmd(g *globals) *cobra.Command {
	var prefix string
	cmd := &cobra.Command{
		Use:   "ls RESERVATION",
		Short: "List a reservation's journaled receipts, verifying each signature",
		Long: "Read HOME/receipts/RESERVATION.jsonl (appended to by cp, store and rm) and verify every receipt:\n" +
			"well formed, for RESERVATION, signed by the key of the provider it names. Fails if any does not verify.",
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			rows, err := g.readJournal(args[0], prefix)
			if err != nil {
				return err
			}
			bad := 0
			for _, r := range rows {
				if !r.Valid {
					bad++
				}
			}
			if err := g.print(rows, func(w io.Writer) { printReceiptRows(w, rows) }); err != nil {
				return err
			}
			if bad > 0 {
				return fmt.Errorf("%d of %d receipts in the journal of %s do not verify", bad, len(rows), args[0])
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&prefix, "prefix", "", "only receipts for keys starting with this")
	cmd.Flags().StringVar(&g.journalDir, "journal", "", "read this journal directory instead of HOME/receipts (a gateway's: STATE_DIR/receipts)")
	return cmd
}

// readJournal reads and verifies a reservation's journal.
func (g *globals) readJournal(res, prefix string) ([]receiptRow, error) {
	path, err := g.journalPath(res)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no receipts for %s (%s does not exist; cp, store and rm keep them there)", res, path)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows := []receiptRow{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 2*receipt.MaxEncodedLen+(64<<10))
	for n := 1; sc.Scan(); n++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		row := checkLine(res, n, sc.Bytes())
		if prefix != "" && !strings.HasPrefix(row.Key, prefix) {
			continue
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rows, nil
}

// checkLine verifies one journal line of reservation res: the signed
// receipt (not the readable copy beside it) is what counts, and the copy
// must agree with it.
func checkLine(res string, n int, line []byte) receiptRow {
	row := receiptRow{Line: n}
	var jl journalLine
	if err := json.Unmarshal(line, &jl); err != nil {
		row.Problem = "not a journal line: " + err.Error()
		return row
	}
	r, err := receipt.Decode(jl.Encoded)
	if err == nil {
		err = r.Verify()
	}
	if err != nil {
		row.Problem = err.Error()
		return row
	}
	row.Op, row.Key, row.Size, row.Parts = r.Op, r.Key, r.Size, len(r.PartSizes)
	row.ContentHash, row.Provider, row.ChainID, row.Encoded = hex.EncodeToString(r.ContentHash), r.Provider, r.ChainID, jl.Encoded
	row.Time = time.Unix(r.Time, 0).UTC().Format(time.RFC3339)
	switch {
	case r.Reservation != res:
		row.Problem = fmt.Sprintf("receipt is for reservation %s", r.Reservation)
	case jl.Key != r.Key || jl.Op != r.Op || jl.Size != r.Size || !strings.EqualFold(hex.EncodeToString(jl.ContentHash), row.ContentHash):
		row.Problem = "the readable copy on this line differs from the signed receipt"
	default:
		row.Valid = true
	}
	return row
}

func printReceiptRows(w io.Writer, rows []receiptRow) {
	fmt.Fprintf(w, "%-20s  %-6s  %12s  %-16s  %-6s  %s\n", "TIME", "OP", "BYTES", "SHA256", "STATUS", "KEY")
	for _, r := range rows {
		status := "ok"
		if !r.Valid {
			status = "BAD"
		}
		h := r.ContentHash
		if len(h) > 16 {
			h = h[:16]
		}
		if r.Parts > 0 {
			h += fmt.Sprintf(" (%d parts)", r.Parts)
		}
		fmt.Fprintf(w, "%-20s  %-6s  %12d  %-16s  %-6s  %s\n", r.Time, r.Op, r.Size, h, status, r.Key)
		if r.Problem != "" {
			fmt.Fprintf(w, "    line %d: %s\n", r.Line, r.Problem)
		}
	}
}
