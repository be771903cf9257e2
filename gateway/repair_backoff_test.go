package gateway

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// switchProxy forwards to a member bridge, or answers 503 while down:
// the member is unreachable without its address changing (a changed
// address would build a new repairer and hide the backoff).
type switchProxy struct {
	srv  *httptest.Server
	down atomic.Bool
	gets atomic.Int64 // object GETs (not listings) passed on
}

func newSwitchProxy(t *testing.T, to string) *switchProxy {
	t.Helper()
	u, err := url.Parse(to)
	if err != nil {
		t.Fatal(err)
	}
	p := &switchProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.down.Load() {
			http.Error(w, "member down", http.StatusServiceUnavailable)
			return
		}
		if r.Method == http.MethodGet && !r.URL.Query().Has("list-type") && strings.Count(strings.Trim(r.URL.Path, "/"), "/") > 0 {
			p.gets.Add(1)
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// TestRepairResumesWhenMemberAnswers: a member that failed repair calls is
// backed off for a minute (BackoffBase); when it is seen answering a
// client write again, its backoff ends and repair levels it at once
// instead of a minute later.
func TestRepairResumesWhenMemberAnswers(t *testing.T) {
	f := newFixture(t, ModeMirror, 3, 2)
	p := newSwitchProxy(t, f.members[0].url)
	r := f.repo
	r.Members[0].Endpoint = p.srv.URL
	f.setRepo(r)
	rc := fastRepair()
	rc.BackoffBase, rc.BackoffMax = time.Minute, 10*time.Minute
	f.startRepairing(rc)
	id := f.members[0].id

	p.down.Store(true)
	objs := putMany(t, f, "w", 10)
	waitStatus(t, f.gw, "photos", 30*time.Second, func(st RepoRepairStatus) bool {
		m := memberLine(st, id)
		return m.LastError != "" && m.BackoffUntil != nil && time.Until(*m.BackoffUntil) > 20*time.Second
	})

	p.down.Store(false)
	since := time.Now()
	objs["after"] = randBytes(1 << 10)
	mustPut(t, f.client(PermWrite), "photos", "after", objs["after"])
	waitStatus(t, f.gw, "photos", 20*time.Second, func(st RepoRepairStatus) bool {
		m := memberLine(st, id)
		return m.Level && m.BehindBy == 0 && m.LastFullScan != nil && m.LastFullScan.After(since)
	})
	t.Logf("level %v after the member answered again (backoff was a minute)", time.Since(since))
	holdsExactly(t, f.members[0], objs)
}

// TestRepairScansHashMultipartOnce: a multipart copy's whole-object
// SHA-256 is not in its HEAD, so a scan reads it to learn it; later scans
// of the same version must not read it again (each read is egress the
// consumer pays, on every member, every scan interval).
func TestRepairScansHashMultipartOnce(t *testing.T) {
	f := newFixture(t, ModeMirror, 3, 2)
	p := newSwitchProxy(t, f.members[0].url)
	r := f.repo
	r.Members[0].Endpoint = p.srv.URL
	f.setRepo(r)
	f.startRepairing(fastRepair())
	multipartPut(t, f.client(PermWrite), "photos", "big.bin", randBytes(11<<20), 6<<20)
	id := f.members[0].id
	since := time.Now()
	for range 4 {
		waitStatus(t, f.gw, "photos", 30*time.Second, func(st RepoRepairStatus) bool {
			m := memberLine(st, id)
			return m.LastFullScan != nil && m.LastFullScan.After(since)
		})
		since = time.Now()
	}
	if n := p.gets.Load(); n != 1 {
		t.Fatalf("four scans read the multipart copy %d times, want once", n)
	}
}
