package contract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/qos"
	"github.com/flashback-network/flashback/contract/store"
)

// archiveEpochs is how many epochs the archive test's story reports.
const archiveEpochs = 14

// runArchiveStory reports archiveEpochs epochs (unit-2 failing integrity
// every third) on a chain keeping history epochs of history, feeding every
// block's history writes to archive when it is not nil.
func runArchiveStory(t *testing.T, history int64, archive *store.MemKV) *mkt {
	p := qosTestParams()
	p.HistoryEpochs = history
	h := newQoS(t, p, 10_000)
	step := func(dt int64) {
		EndBlock(h.blk, h.block())
		if archive != nil {
			ArchiveWrites(h.blk, archive.Set)
		}
		h.blk.Write()
		h.now += dt
		h.height++
		h.blk = store.NewCache(h.kv)
		BeginBlock(h.blk, core.Block{ChainID: mktChain, Height: h.height, Time: time.Unix(h.now, 0).UTC()})
	}
	for i := range archiveEpochs {
		e := h.epoch()
		step((e+1)*qEpoch + 1 - h.now)
		bad := good("unit-2")
		if i%3 == 1 {
			bad.IntegrityFailed = 1
		}
		report(h, e, all3, good("unit-1"), bad)
	}
	for range 4 { // let the last reported epochs become final
		step(qEpoch)
	}
	checkQoS(t, h)
	return h
}

// historyEntries counts the epochs or history entries of a history query.
func historyEntries(t *testing.T, b []byte) int {
	t.Helper()
	var v struct {
		Epochs  []json.RawMessage `json:"epochs"`
		History []json.RawMessage `json:"history"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return len(v.Epochs) + len(v.History)
}

// checkArchivedQuery: path answered by short through the archive equals
// long's answer, while short's state alone kept at most 3 entries.
func checkArchivedQuery(t *testing.T, long, short *mkt, archive *store.MemKV, path string) {
	t.Helper()
	want, err := Query(long.blk, path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := QueryArchived(short.blk, archive, path)
	if err != nil {
		t.Fatal(err)
	}
	pruned, err := Query(short.blk, path)
	if err != nil {
		t.Fatal(err)
	}
	if n := historyEntries(t, want); n < archiveEpochs-2 {
		t.Fatalf("%s: the long-history chain has only %d entries", path, n)
	}
	if n := historyEntries(t, pruned); n > 3 {
		t.Fatalf("%s: state kept %d entries with history_epochs=3", path, n)
	}
	// The unit views also carry params-independent state; the whole
	// documents must match.
	if !bytes.Equal(got, want) {
		t.Errorf("%s through the archive:\n got %s\nwant %s", path, got, want)
	}
}

// TestQoSHistoryArchive runs the same QoS story twice: once keeping 50
// epochs of history in state, once keeping 3 with every block's history
// writes fed to an archive (as a node does). Served through the archive,
// the short-history chain answers the history queries exactly as the long
// one; without it, the pruned epochs are gone from state.
func TestQoSHistoryArchive(t *testing.T) {
	long := runArchiveStory(t, 50, nil)
	archive := store.NewMemKV()
	short := runArchiveStory(t, 3, archive)

	rng := fmt.Sprintf("?from=%d&to=%d", long.epoch()-archiveEpochs-10, long.epoch())
	for _, path := range []string{"stats/epochs" + rng, "units/unit-1/qos" + rng, "units/unit-2/qos" + rng} {
		checkArchivedQuery(t, long, short, archive, path)
	}
	// Breaches older than the window are still in the archived history.
	var v types.UnitQoSView
	out, _ := QueryArchived(short.blk, archive, "units/unit-2/qos"+rng)
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	breached := 0
	for _, h := range v.History[:len(v.History)-3] {
		if h.Status == qos.QoSBreached {
			breached++
		}
	}
	if breached == 0 {
		t.Fatalf("no archived breach in %+v", v.History)
	}
	// Other queries are untouched by the archive.
	a, _ := Query(short.blk, "stats")
	b, _ := QueryArchived(short.blk, archive, "stats")
	if !bytes.Equal(a, b) {
		t.Fatalf("stats differ through the archive")
	}
}
