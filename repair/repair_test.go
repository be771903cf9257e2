package repair

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

var sizes = []int{0, 1, 100, 64 << 10, 64<<10 + 1, 300 << 10, 1 << 20, 5, 17, 3000, 70000, 2, 9, 128 << 10, 33}

func TestMissingRestored(t *testing.T) {
	f := newFixture(t, 3, sizes...)
	// m2 lost its disk: a fresh, empty backend.
	f.cs[2] = newLocalCopy(t, "m2")
	r := newRepairer(t, f.copies(), fastCfg())
	res := once(t, r)
	if res.Behind["m2"] != int64(len(sizes)) || res.Behind["m0"] != 0 || res.Repaired != int64(len(sizes)) || res.Failed != 0 {
		t.Fatalf("first pass: %+v", res)
	}
	f.level(t, f.cs...)
	res = once(t, r)
	if res.Behind["m2"] != 0 || res.Repaired != 0 || !res.Listed["m2"] {
		t.Fatalf("second pass: %+v", res)
	}
	st := r.Status()
	m2 := memberOf(st, "m2")
	var total int64
	for _, s := range sizes {
		total += int64(s)
	}
	if !m2.Level || m2.BehindBy != 0 || m2.Objects != int64(len(sizes)) || m2.Bytes != total || m2.LastFullScan == nil {
		t.Fatalf("m2 status: %+v", m2)
	}
	if st.RepairedObjects != int64(len(sizes)) || st.RepairedBytes != total || st.ThroughputMBps <= 0 || m2.RepairedBytes != total {
		t.Fatalf("status: %+v", st)
	}
	if _, err := json.Marshal(st); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptCopy(t *testing.T) {
	f := newFixture(t, 3, sizes...)
	f.cs[1].flipByte(t, "obj-005", 1234)
	if got, _ := f.cs[1].content(t, "obj-005"); bytes.Equal(got, f.objs["obj-005"]) {
		t.Fatal("flip did not change the bytes")
	}
	// The recorded checksums still agree: only reading the bytes shows it.
	r := newRepairer(t, f.copies(), fastCfg())
	if res := once(t, r); res.Behind["m1"] != 0 {
		t.Fatalf("metadata scan saw a bad copy: %+v", res)
	}
	cfg := fastCfg()
	cfg.Scrub = true
	r = newRepairer(t, f.copies(), cfg)
	res := once(t, r)
	if res.Behind["m1"] != 1 || res.Behind["m0"] != 0 || res.Behind["m2"] != 0 || res.Repaired != 1 {
		t.Fatalf("scrub pass: %+v", res)
	}
	f.level(t, f.cs...)
	if res := once(t, r); res.Behind["m1"] != 0 || res.Repaired != 0 {
		t.Fatalf("after repair: %+v", res)
	}
	// A bad copy the gateway noticed on read is repaired from its hint,
	// without a scrub.
	f.cs[0].flipByte(t, "obj-006", 0)
	r = newRepairer(t, f.copies(), fastCfg())
	if err := r.Hint(Hint{Key: "obj-006", Member: "m0", Reason: Bad}); err != nil {
		t.Fatal(err)
	}
	if res := once(t, r); res.Repaired != 1 {
		t.Fatalf("bad hint: %+v", res)
	}
	f.level(t, f.cs...)
}

func TestDeleteHint(t *testing.T) {
	f := newFixture(t, 3, 10, 20, 30)
	// The gateway's DELETE reached m0 and m1; m2 missed it.
	for _, c := range f.cs[:2] {
		if err := c.Delete(context.Background(), "obj-001"); err != nil {
			t.Fatal(err)
		}
	}
	r := newRepairer(t, f.copies(), fastCfg())
	if err := r.Hint(Hint{Key: "obj-001", Member: "m2", Reason: Delete}); err != nil {
		t.Fatal(err)
	}
	res := once(t, r)
	if _, ok := f.cs[2].content(t, "obj-001"); ok || res.Deleted != 1 {
		t.Fatalf("tombstone not propagated: %+v", res)
	}
	// A stale tombstone (a quorum holds the key) deletes nothing.
	if err := r.Hint(Hint{Key: "obj-002", Reason: Delete}); err != nil {
		t.Fatal(err)
	}
	res = once(t, r)
	delete(f.objs, "obj-001")
	f.level(t, f.cs...)
	if st := r.Status(); res.Deleted != 0 || st.StaleDeletes != 1 || st.DeletedObjects != 1 {
		t.Fatalf("stale tombstone: %+v %+v", res, st)
	}
}

func TestScanNeverDeletesMajority(t *testing.T) {
	f := newFixture(t, 3, 100, 200)
	ctx := context.Background()
	// obj-000 on a majority only: restored on m2, not deleted.
	if err := f.cs[2].Delete(ctx, "obj-000"); err != nil {
		t.Fatal(err)
	}
	// obj-001 differs on m2 (same size, other bytes): the majority wins.
	put(t, "obj-001", data(99, 200), f.cs[2])
	// obj-lonely is on one member only (a PUT that missed its quorum):
	// neither copied nor deleted.
	lonely := data(7, 50)
	put(t, "obj-lonely", lonely, f.cs[0])
	cfg := fastCfg()
	var unresolved []string
	cfg.OnUnresolved = func(key string, holders []string) {
		unresolved = append(unresolved, key+"@"+strings.Join(holders, ","))
	}
	r := newRepairer(t, f.copies(), cfg)
	res := once(t, r)
	if len(unresolved) != 1 || unresolved[0] != "obj-lonely@m0" {
		t.Fatalf("unresolved reported: %v", unresolved)
	}
	if res.Repaired != 2 || res.Unresolved != 1 || res.Deleted != 0 || res.Behind["m2"] != 2 {
		t.Fatalf("pass: %+v", res)
	}
	f.level(t, f.cs...)
	if got, ok := f.cs[0].content(t, "obj-lonely"); !ok || !bytes.Equal(got, lonely) {
		t.Fatal("minority object deleted or changed")
	}
	for _, c := range f.cs[1:] {
		if _, ok := c.content(t, "obj-lonely"); ok {
			t.Fatalf("minority object copied to %s", c.id)
		}
	}
	st := memberOf(r.Status(), "m2")
	if st.Missing != 0 || st.Bad != 0 {
		t.Fatalf("m2 after repair: %+v", st)
	}
}

func TestNoRoomPauses(t *testing.T) {
	f := newFixture(t, 4, 300<<10, 300<<10, 300<<10, 1000)
	f.cs[2] = newLocalCopy(t, "m2")
	f.cs[3] = newLocalCopy(t, "m3")
	f.cs[3].quota = 400 << 10 // room for the small object and one large
	cfg := fastCfg()
	cfg.Concurrency = 1
	cfg.Quorum = 2 // the repository's write quorum
	r := newRepairer(t, f.copies(), cfg)
	res := once(t, r)
	f.level(t, f.cs[2]) // the other member went on
	m3 := memberOf(r.Status(), "m3")
	if !m3.Paused || !strings.Contains(m3.PausedReason, "no room") || m3.PausedAt == nil {
		t.Fatalf("m3 not paused with a reason: %+v", m3)
	}
	// The first refusal pauses the member: one refused Put, the rest
	// skipped, no retry loop.
	putsAfterPause := f.cs[3].puts.Load()
	if res.Failed != 1 || res.Skipped+putsAfterPause != 4 || m3.BehindBy != 4-(putsAfterPause-1) {
		t.Fatalf("pass %+v, %d puts, m3 %+v", res, putsAfterPause, m3)
	}
	res = once(t, r)
	if f.cs[3].puts.Load() != putsAfterPause || res.Skipped != m3.BehindBy {
		t.Fatalf("paused member written again: %d puts, %+v", f.cs[3].puts.Load(), res)
	}
	if err := r.Fill(context.Background(), "m3"); !errors.Is(err, ErrPaused) {
		t.Fatalf("Fill on a full member: %v", err)
	}
	// More room, Resume: it fills.
	f.cs[3].quota = 0
	if err := r.Resume("m3"); err != nil {
		t.Fatal(err)
	}
	if err := r.Fill(context.Background(), "m3"); err != nil {
		t.Fatal(err)
	}
	f.level(t, f.cs...)
	if m3 := memberOf(r.Status(), "m3"); m3.Paused || !m3.Level {
		t.Fatalf("after resume: %+v", m3)
	}
}

func TestFillThenRetire(t *testing.T) {
	f := newFixture(t, 3, sizes...)
	joining := newLocalCopy(t, "m3")
	// repo replace m2 -> m3: the new member set is m0, m1, m3.
	r := newRepairer(t, f.copies(f.cs[0], f.cs[1], joining), fastCfg())
	if memberOf(r.Status(), "m3").Level {
		t.Fatal("level before any scan")
	}
	if err := r.Fill(context.Background(), "m3"); err != nil {
		t.Fatal(err)
	}
	f.level(t, joining)
	st := r.Status()
	if m3 := memberOf(st, "m3"); !m3.Level || m3.Objects != int64(len(sizes)) || st.Passes < 2 {
		t.Fatalf("after Fill: %+v passes %d", m3, st.Passes)
	}
	if err := r.Fill(context.Background(), "nope"); !errors.Is(err, ErrUnknownMember) {
		t.Fatalf("unknown member: %v", err)
	}
}

func TestSourceFailover(t *testing.T) {
	f := newFixture(t, 3, 1<<20, 200<<10)
	f.cs[2] = newLocalCopy(t, "m2")
	f.cs[0].failOpenAfter = 100 << 10 // m0 dies 100 KiB into every read
	r := newRepairer(t, f.copies(), fastCfg())
	res := once(t, r)
	if res.Repaired != 2 || res.Failed != 0 {
		t.Fatalf("failover pass: %+v", res)
	}
	f.level(t, f.cs[2])
	if m0 := memberOf(r.Status(), "m0"); !strings.Contains(m0.LastError, "connection reset") {
		t.Fatalf("source failure not recorded: %+v", m0)
	}
}

func TestCorruptSource(t *testing.T) {
	f := newFixture(t, 3, 100<<10)
	f.cs[2] = newLocalCopy(t, "m2")
	f.cs[0].flipByte(t, "obj-000", 5000) // m0 is tried first
	r := newRepairer(t, f.copies(), fastCfg())
	res := once(t, r)
	// The copy from m0 fails its checksum before the last byte, so m2
	// gets nothing wrong; m0 is queued as bad and repaired from m1.
	if got, ok := f.cs[2].content(t, "obj-000"); ok && !bytes.Equal(got, f.objs["obj-000"]) {
		t.Fatal("corrupt bytes written to m2")
	}
	if res.Failed != 1 || res.Repaired != 1 {
		t.Fatalf("pass: %+v", res)
	}
	once(t, r)
	f.level(t, f.cs...)
	if m0 := memberOf(r.Status(), "m0"); !strings.Contains(m0.LastError, "do not match") {
		t.Fatalf("m0 error: %+v", m0)
	}
}

func TestRunHintsAndCancel(t *testing.T) {
	f := newFixture(t, 3, 10, 20)
	repaired := make(chan string, 10)
	cfg := fastCfg()
	cfg.ScanInterval = time.Hour
	cfg.OnRepaired = func(member, key string, size int64) { repaired <- member + "/" + key }
	r := newRepairer(t, f.copies(), cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	if err := f.cs[1].Delete(ctx, "obj-001"); err != nil {
		t.Fatal(err)
	}
	if err := r.Hint(Hint{Key: "obj-001", Member: "m1", Reason: Missing}); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-repaired:
		if got != "m1/obj-001" {
			t.Fatalf("repaired %s", got)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("hint not handled while Run waits for its next scan")
	}
	f.level(t, f.cs...)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v", err)
	}
}

func TestBadInput(t *testing.T) {
	f := newFixture(t, 2)
	if _, err := New(nil, Config{}); err == nil {
		t.Error("no members accepted")
	}
	if _, err := New(f.copies(f.cs[0], f.cs[0]), Config{}); err == nil {
		t.Error("duplicate member accepted")
	}
	if _, err := New(f.copies(), Config{Quorum: 3}); err == nil {
		t.Error("quorum above member count accepted")
	}
	r := newRepairer(t, f.copies(), Config{})
	for _, h := range []Hint{{Key: "k", Member: "zz", Reason: Missing}, {Key: "k", Member: "m0", Reason: "x"}, {Member: "m0", Reason: Bad}} {
		if err := r.Hint(h); err == nil {
			t.Errorf("hint %+v accepted", h)
		}
	}
	if st := r.Status(); st.PendingHints != 0 || st.Quorum != 2 {
		t.Errorf("status after rejected hints: %+v", st)
	}
}

func TestIsNoRoom(t *testing.T) {
	for _, e := range []error{ErrNoRoom, errors.New("api error EntityTooLarge: Your proposed upload exceeds"), codeErr("QuotaExceeded"), errors.New("507 Insufficient Storage")} {
		if !IsNoRoom(e) {
			t.Errorf("%v not classified as no room", e)
		}
	}
	for _, e := range []error{nil, errors.New("connection refused"), codeErr("AccessDenied")} {
		if IsNoRoom(e) {
			t.Errorf("%v classified as no room", e)
		}
	}
}

type codeErr string

func (c codeErr) Error() string     { return "operation error S3: PutObject" }
func (c codeErr) ErrorCode() string { return string(c) }

// TestHintsDuringScan: hints that come in during a long scan are handled
// before it ends, and an applied delete is checked once more after the
// scan's copies (which could have raced it).
func TestHintsDuringScan(t *testing.T) {
	sz := make([]int, 30)
	f := newFixture(t, 3, sz...)
	f.cs[2] = newLocalCopy(t, "m2")
	put(t, "tomb", data(1, 10), f.cs[0]) // a DELETE reached m1 and m2 only
	cfg := fastCfg()
	cfg.Concurrency = 1
	var r *Repairer
	hinted := false
	cfg.OnRepaired = func(member, key string, size int64) {
		if !hinted {
			hinted = true
			if err := r.Hint(Hint{Key: "tomb", Member: "m0", Reason: Delete}); err != nil {
				t.Error(err)
			}
		}
	}
	r = newRepairer(t, f.copies(), cfg)
	r.hintEvery = 5
	res := once(t, r)
	// "tomb" sorts last: had the hint waited for the end of the scan, the
	// scan would have met it on m0 alone (unresolved).
	if _, ok := f.cs[0].content(t, "tomb"); ok || res.Deleted != 1 || res.Repaired != 30 || res.Unresolved != 0 {
		t.Fatalf("pass: %+v", res)
	}
	if st := r.Status(); st.PendingHints != 0 || st.DeletedObjects != 1 {
		t.Fatalf("status: %+v", st)
	}
	f.level(t, f.cs...)
}
