package gateway

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Repair operations.
const (
	RepairPut    = "put"    // the member lacks the object (or has an old copy): copy it from a good one
	RepairDelete = "delete" // the member missed a delete: delete the key there
	RepairBad    = "bad"    // the member's copy failed its checksum: replace it from a good one
)

// RepairRecord is one entry of the repair queue: member Member of
// repository Repo must be brought level for Key. A record says what the
// gateway saw, not what to copy from: the repair loop decides from the
// other members' copies (and their sha256) what the right state is.
type RepairRecord struct {
	Seq    uint64    `json:"seq"` // unique and increasing within one queue file
	Time   time.Time `json:"time"`
	Repo   string    `json:"repo"`
	Member string    `json:"member"` // reservation id
	Key    string    `json:"key"`    // object key on the member
	Op     string    `json:"op"`     // RepairPut, RepairDelete or RepairBad
	Reason string    `json:"reason,omitempty"`
}

// repairFile is the queue's file name in the state directory.
const repairFile = "repair.jsonl"

// RepairQueue is the durable repair queue: an append-only JSON-lines file
// (one RepairRecord per line, fsynced per append) in the gateway's state
// directory. The repair loop reads it (ReadRepairQueue or List) and drops
// the records it has handled with Remove. One process should own a queue
// file at a time: run the repair loop inside the gateway, or stop the
// gateway before repairing from another process.
type RepairQueue struct {
	mu   sync.Mutex
	path string
	seq  uint64
}

// OpenRepairQueue opens (creating if needed) the queue in dir.
func OpenRepairQueue(dir string) (*RepairQueue, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("gateway: repair queue: %w", err)
	}
	q := &RepairQueue{path: filepath.Join(dir, repairFile)}
	recs, err := q.List()
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		q.seq = max(q.seq, r.Seq)
	}
	return q, nil
}

// ReadRepairQueue returns the records of the queue in the state directory
// dir, oldest first (none if there is no queue).
func ReadRepairQueue(dir string) ([]RepairRecord, error) {
	q := &RepairQueue{path: filepath.Join(dir, repairFile)}
	return q.List()
}

// Append adds records (Seq and, if zero, Time are filled in).
func (q *RepairQueue) Append(recs ...RepairRecord) error {
	if len(recs) == 0 {
		return nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	var buf bytes.Buffer
	for _, r := range recs {
		q.seq++
		r.Seq = q.seq
		if r.Time.IsZero() {
			r.Time = time.Now().UTC()
		}
		line, err := json.Marshal(r)
		if err != nil {
			return err
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	f, err := os.OpenFile(q.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("gateway: repair queue: %w", err)
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return fmt.Errorf("gateway: repair queue: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("gateway: repair queue: %w", err)
	}
	return f.Close()
}

// List returns the queued records, oldest first. A torn last line (a crash
// mid-append) is skipped.
func (q *RepairQueue) List() ([]RepairRecord, error) {
	data, err := os.ReadFile(q.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("gateway: repair queue: %w", err)
	}
	var out []RepairRecord
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 8<<20)
	for sc.Scan() {
		var r RepairRecord
		if json.Unmarshal(sc.Bytes(), &r) == nil && r.Seq != 0 {
			out = append(out, r)
		}
	}
	return out, sc.Err()
}

// Remove drops the records with the given sequence numbers (the file is
// rewritten atomically).
func (q *RepairQueue) Remove(seqs ...uint64) error {
	drop := make(map[uint64]bool, len(seqs))
	for _, s := range seqs {
		drop[s] = true
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	recs, err := q.List()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	for _, r := range recs {
		if drop[r.Seq] {
			continue
		}
		line, _ := json.Marshal(r)
		buf.Write(line)
		buf.WriteByte('\n')
	}
	return writeFileAtomic(q.path, buf.Bytes())
}

// writeFileAtomic writes data to path through a synced temporary file and
// a rename, so a crash leaves the old or the new content, never a mix.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Intent is a write in progress, recorded before the first byte goes to a
// member and removed once the write is resolved. WriteID is also stored
// in each member's copy (user metadata writeIDMeta), so after a crash the
// gateway can tell which members hold this write.
type Intent struct {
	WriteID string    `json:"write_id"`
	Time    time.Time `json:"time"`
	Repo    string    `json:"repo"`
	Key     string    `json:"key"`     // object key on the members
	Members []string  `json:"members"` // the members written to
	Quorum  int       `json:"quorum"`
}

// intents keeps one file per intent under dir.
type intents struct{ dir string }

func (in intents) path(id string) string { return filepath.Join(in.dir, id+".json") }

func (in intents) put(it Intent) error {
	data, err := json.Marshal(it)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(in.path(it.WriteID), data); err != nil {
		return fmt.Errorf("gateway: recording write intent: %w", err)
	}
	return nil
}

func (in intents) clear(id string) error {
	err := os.Remove(in.path(id))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// list returns the recorded intents (unreadable files are skipped).
func (in intents) list() ([]Intent, error) {
	ents, err := os.ReadDir(in.dir)
	if err != nil {
		return nil, err
	}
	var out []Intent
	for _, e := range ents {
		if filepath.Ext(e.Name()) != ".json" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(in.dir, e.Name()))
		if err != nil {
			continue
		}
		var it Intent
		if json.Unmarshal(data, &it) == nil && it.WriteID != "" {
			out = append(out, it)
		}
	}
	return out, nil
}
