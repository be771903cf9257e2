package receipt

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Journal is a directory of receipt journals, one file per reservation:
// DIR/<reservation>.jsonl, one JSON line per receipt, appended with
// O_APPEND and fsync'd before Append returns. A line holds the receipt's
// header value ("encoded", what a dispute submits and what a reader
// verifies) and a readable copy of its fields. A journal is the
// consumer's evidence: it is never rewritten. `flashback cp`, `store` and
// `rm` keep theirs in HOME/receipts; the gateway in STATE_DIR/receipts.
type Journal struct {
	Dir string
	mu  sync.Mutex // serializes appends of one process (lines never interleave)
}

// JournalLine is one line of a journal.
type JournalLine struct {
	Encoded string `json:"encoded"`
	Receipt
}

// Path is the journal file of reservation res.
func (j *Journal) Path(res string) (string, error) {
	if res == "" || res == "." || res == ".." || strings.ContainsAny(res, `/\`) || filepath.Base(res) != res {
		return "", fmt.Errorf("reservation id %q cannot name a journal file", res)
	}
	return filepath.Join(j.Dir, res+".jsonl"), nil
}

// Append adds r to its reservation's journal and syncs it (and, for a new
// file, its directory entry).
func (j *Journal) Append(r *Receipt) error {
	enc, err := r.Encode()
	if err != nil {
		return err
	}
	line, err := json.Marshal(JournalLine{Encoded: enc, Receipt: *r})
	if err != nil {
		return err
	}
	path, err := j.Path(r.Reservation)
	if err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := os.MkdirAll(j.Dir, 0o700); err != nil {
		return fmt.Errorf("receipt journal: %w", err)
	}
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("receipt journal: %w", err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("receipt journal %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("receipt journal %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("receipt journal %s: %w", path, err)
	}
	if errors.Is(statErr, os.ErrNotExist) {
		if d, err := os.Open(j.Dir); err == nil {
			d.Sync()
			d.Close()
		}
	}
	return nil
}
