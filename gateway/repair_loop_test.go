package gateway

import (
	"context"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestRepairLoopLevelsRestartedMember: a member's bridge is down during 50
// writes (queued for repair); once it is back, the gateway's repair loop
// brings it level byte for byte, its status says behind by 0 after a full
// scan since it came back, and the repair queue empties.
func TestRepairLoopLevelsRestartedMember(t *testing.T) {
	f := newFixture(t, ModeMirror, 3, 2)
	f.startRepairing(fastRepair())
	down := f.members[0]
	down.stop(t)
	t0 := time.Now()
	objs := putMany(t, f, "w", 50)
	t.Logf("50 writes with a member down: %v", time.Since(t0))
	if recs := repairFor(t, f, down.id, "", RepairPut); len(recs) == 0 {
		t.Fatal("no repair records for the member that was down")
	}
	back := bridgeOn(t, down.id, down.root, down.key, -1)
	since := time.Now()
	f.swapMember(0, back, MemberActive)
	st := waitStatus(t, f.gw, "photos", 60*time.Second, func(st RepoRepairStatus) bool {
		m := memberLine(st, back.id)
		return m.Level && m.BehindBy == 0 && m.LastFullScan != nil && m.LastFullScan.After(since) && m.Objects == 50
	})
	t.Logf("level %v after the member came back", time.Since(since))
	holdsExactly(t, back, objs)
	m := memberLine(st, back.id)
	t.Logf("level: %d objects, %d bytes, repaired %d (%d bytes), throughput %.1f MB/s", m.Objects, m.Bytes,
		st.Repair.RepairedObjects, st.Repair.RepairedBytes, st.Repair.ThroughputMBps)
	if st.Repair.RepairedObjects < 50 {
		t.Fatalf("repaired %d objects, want at least the 50 missed", st.Repair.RepairedObjects)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		recs, err := ReadRepairQueue(f.state)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("repair queue not emptied: %d records", len(recs))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRepairLoopFillsJoiningMember: one member's unit directory is wiped
// entirely (its disk died) and the member is replaced by a fresh
// reservation on a fourth bridge (joining; the wiped one retiring): repair
// restores three full copies byte for byte (a multipart object too) and
// only then reports the new member ready (status, MemberLevel, OnLevel).
func TestRepairLoopFillsJoiningMember(t *testing.T) {
	f := newFixture(t, ModeMirror, 3, 2)
	var mu sync.Mutex
	var levelled []string
	rc := fastRepair()
	rc.OnLevel = func(repo, member string) {
		mu.Lock()
		levelled = append(levelled, repo+"/"+member)
		mu.Unlock()
	}
	f.startRepairing(rc)
	objs := putMany(t, f, "j", 20)
	big := randBytes(11<<20 + 333)
	multipartPut(t, f.client(PermWrite), "photos", "big", big, 5<<20)
	objs["big"] = big

	old := f.members[1]
	old.stop(t)
	wipe(t, old.root)
	wiped := bridgeOn(t, old.id, old.root, old.key, -1)
	fresh := startBridge(t, "res-4")
	f.members[1] = wiped
	r := f.repo
	r.Members = nil
	for _, mb := range f.members {
		r.Members = append(r.Members, mb.member(50))
	}
	r.Members[1].State = MemberRetiring
	nm := fresh.member(50)
	nm.State = MemberJoining
	r.Members = append(r.Members, nm)
	f.setRepo(r)
	st := waitStatus(t, f.gw, "photos", 60*time.Second, func(st RepoRepairStatus) bool {
		return memberLine(st, fresh.id).Ready
	})
	for _, m := range []*memberBridge{f.members[0], f.members[2], fresh} {
		holdsExactly(t, m, objs) // three full copies
	}
	m := memberLine(st, fresh.id)
	if m.State != MemberJoining || !m.Level || m.BehindBy != 0 || m.Objects != int64(len(objs)) {
		t.Fatalf("joining member: %+v", m)
	}
	if !f.gw.MemberLevel("photos", fresh.id) {
		t.Fatal("MemberLevel false for the filled member")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		got := strings.Join(levelled, ",")
		mu.Unlock()
		if got == "photos/"+fresh.id {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("OnLevel calls: %q", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("filled %d objects, %d bytes at %.1f MB/s", st.Repair.RepairedObjects, st.Repair.RepairedBytes, st.Repair.ThroughputMBps)
}

// TestRepairLoopScrubFindsFlippedByte: one byte of one stored copy is
// flipped on the member's disk (its recorded sha256 still looks right):
// the scrubbing scan finds it and replaces the copy from a good one.
func TestRepairLoopScrubFindsFlippedByte(t *testing.T) {
	f := newFixture(t, ModeMirror, 3, 2)
	objs := putMany(t, f, "s", 5)
	victim := f.members[2]
	path := objectFile(t, victim, "s-003")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x20
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	rc := fastRepair()
	rc.Scrub = true
	f.startRepairing(rc)
	st := waitStatus(t, f.gw, "photos", 60*time.Second, func(st RepoRepairStatus) bool {
		m := memberLine(st, victim.id)
		return m.RepairedObjects >= 1 && m.Level
	})
	holdsExactly(t, victim, objs)
	if m := memberLine(st, victim.id); m.RepairedObjects != 1 {
		t.Fatalf("victim: %+v (want exactly the flipped copy repaired)", m)
	}
}

// TestRepairLoopPausesMemberWithoutRoom: a joining member whose
// reservation cannot hold the repository is paused with the bridge's
// reason in its status, is never reported ready, and holds only whole,
// verified copies (nothing half-written is visible on it).
func TestRepairLoopPausesMemberWithoutRoom(t *testing.T) {
	f := newFixture(t, ModeMirror, 3, 2)
	f.startRepairing(fastRepair())
	c := f.client(PermWrite)
	objs := map[string][]byte{}
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		objs[k] = randBytes(100 << 10)
		mustPut(t, c, "photos", k, objs[k])
	}
	old := f.members[2]
	old.stop(t)
	small := bridgeOn(t, old.id, t.TempDir(), old.key, 250<<10)
	f.swapMember(2, small, MemberJoining)
	st := waitStatus(t, f.gw, "photos", 60*time.Second, func(st RepoRepairStatus) bool {
		return memberLine(st, small.id).Paused
	})
	m := memberLine(st, small.id)
	if !strings.Contains(m.PausedReason, "no room") || !strings.Contains(m.PausedReason, "QuotaExceeded") || m.Ready || m.Level {
		t.Fatalf("member without room: %+v", m)
	}
	out, err := small.direct().ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(small.id)})
	if err != nil {
		t.Fatal(err)
	}
	held := map[string][]byte{}
	for _, o := range out.Contents {
		held[deref(o.Key)] = objs[deref(o.Key)]
	}
	if len(held) == 0 || len(held) >= len(objs) {
		t.Fatalf("member of 250 KiB holds %d of %d objects of 100 KiB", len(held), len(objs))
	}
	holdsExactly(t, small, held)
	if f.gw.MemberLevel("photos", small.id) {
		t.Fatal("a paused, partly filled member reported level")
	}
	t.Logf("paused: %s (holds %d whole copies)", m.PausedReason, len(held))
	admin := "http://" + f.gw.AdminAddr() + "/_flashback/repos/photos/members/"
	if resp, err := http.Post(admin+small.id+"/resume", "", nil); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("resume: %v %v", resp, err)
	}
	if resp, err := http.Post(admin+"res-9/resume", "", nil); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("resume of an unknown member: %v %v", resp, err)
	}
}

// TestRepairAdminEndpoint: the admin listener answers 404 with a reason
// for a repository it does not repair, and lists the repaired ones.
func TestRepairAdminEndpoint(t *testing.T) {
	f := newFixture(t, ModeMirror, 2, 1)
	f.startRepairing(fastRepair())
	if !strings.HasPrefix(f.gw.AdminAddr(), "127.0.0.1:") {
		t.Fatalf("admin on %q", f.gw.AdminAddr())
	}
	resp, err := httpGet("http://" + f.gw.AdminAddr() + "/_flashback/repos/nope/status")
	if err != nil {
		t.Fatal(err)
	}
	if resp.code != 404 || !strings.Contains(resp.body, "no repair running") {
		t.Fatalf("unknown repo: %d %s", resp.code, resp.body)
	}
	waitStatus(t, f.gw, "photos", 30*time.Second, func(st RepoRepairStatus) bool { return st.Repair.Passes > 0 })
	resp, err = httpGet("http://" + f.gw.AdminAddr() + "/_flashback/repos")
	if err != nil || resp.code != 200 || !strings.Contains(resp.body, `"repo": "photos"`) {
		t.Fatalf("list: %v %d %s", err, resp.code, resp.body)
	}
	if adminAddr(":9301") != "127.0.0.1:9301" {
		t.Fatalf("host-less admin address binds %s", adminAddr(":9301"))
	}
}
