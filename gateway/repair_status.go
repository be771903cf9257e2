package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"time"

	"github.com/flashback-network/flashback/repair"
)

// RepoRepairStatus is what the admin endpoint serves for one repository.
type RepoRepairStatus struct {
	Repo    string               `json:"repo"`
	Mode    string               `json:"mode"`
	Members []MemberRepairStatus `json:"members"`
	// Repair is the repairer's own snapshot (totals, last pass, members).
	Repair repair.Status `json:"repair"`
	// QueuedRecords: repair queue records of this repository not yet
	// known to be handled.
	QueuedRecords int `json:"queued_records"`
}

// MemberRepairStatus is one member's line: the repairer's figures
// (objects, bytes, behind_by, last_error, last_full_scan, paused and why)
// with the member's state in the repository.
type MemberRepairStatus struct {
	repair.MemberStatus
	State string `json:"state"`
	// Ready: a joining member found level by a full scan; the owner may
	// send `flashback repo synced` for it.
	Ready bool `json:"ready"`
}

// ErrNoRepair: the repository has no repair running here (repair is off,
// the repository is unknown or not a mirror).
var ErrNoRepair = errors.New("gateway: no repair running for that repository")

// RepairStatus returns the live repair figures of a repository.
func (g *Gateway) RepairStatus(name string) (RepoRepairStatus, error) {
	if g.loop == nil {
		return RepoRepairStatus{}, fmt.Errorf("%w %q (repair is off in this gateway)", ErrNoRepair, name)
	}
	l := g.loop
	l.mu.Lock()
	rr := l.repos[name]
	var handed int
	if rr != nil {
		handed = len(rr.handed)
	}
	l.mu.Unlock()
	if rr == nil {
		return RepoRepairStatus{}, fmt.Errorf("%w %q (unknown, or not a mirror repository)", ErrNoRepair, name)
	}
	st := rr.r.Status()
	out := RepoRepairStatus{Repo: name, Mode: rr.repo.Mode, Repair: st, QueuedRecords: handed}
	for _, ms := range st.Members {
		m, _ := rr.repo.member(ms.ID)
		out.Members = append(out.Members, MemberRepairStatus{MemberStatus: ms, State: m.state(),
			Ready: m.state() == MemberJoining && scannedLevel(st, ms)})
	}
	return out, nil
}

// scannedLevel: the member is level, and the last full scan itself listed
// it completely and found nothing missing or bad (not only "the copies it
// found missing were written since"): the strict test for a joining
// member, whose figures (objects, bytes) are then those of a full copy.
func scannedLevel(st repair.Status, ms repair.MemberStatus) bool {
	return ms.Level && st.LastPass.Listed[ms.ID] && st.LastPass.Behind[ms.ID] == 0
}

// ResumeRepair lifts the pause (no room) and backoff of a member at once,
// e.g. after its reservation was grown.
func (g *Gateway) ResumeRepair(repo, member string) error {
	if g.loop == nil {
		return fmt.Errorf("%w %q (repair is off in this gateway)", ErrNoRepair, repo)
	}
	g.loop.mu.Lock()
	rr := g.loop.repos[repo]
	g.loop.mu.Unlock()
	if rr == nil {
		return fmt.Errorf("%w %q (unknown, or not a mirror repository)", ErrNoRepair, repo)
	}
	return rr.r.Resume(member)
}

// MemberLevel says whether the last full scan found member level (holding
// every object of the repository, every copy right).
func (g *Gateway) MemberLevel(repo, member string) bool {
	st, err := g.RepairStatus(repo)
	if err != nil {
		return false
	}
	for _, m := range st.Members {
		if m.ID == member {
			return scannedLevel(st.Repair, m.MemberStatus)
		}
	}
	return false
}

// AdminAddr is the admin listener's address ("" when there is none).
func (g *Gateway) AdminAddr() string {
	if g.admin == nil {
		return ""
	}
	return g.admin.ln.Addr().String()
}

// adminServer serves the gateway's admin endpoints (JSON, read only):
//
//	GET /_flashback/repos                 every repaired repository
//	GET /_flashback/repos/{name}/status   one repository
//	POST /_flashback/repos/{name}/members/{id}/resume   lift a member's pause
//	GET /metrics   Prometheus (metrics.go)
//	GET /healthz   the process answers
//	GET /readyz    S3 is served and the directory answers
//
// It listens apart from S3 (bound to 127.0.0.1 unless told otherwise):
// it carries no authentication, and tells which members lag.
type adminServer struct {
	ln  net.Listener
	srv *http.Server
}

// adminAddr puts a host-less address (":9301") on 127.0.0.1.
func adminAddr(a string) string {
	host, port, err := net.SplitHostPort(a)
	if err == nil && host == "" {
		return net.JoinHostPort("127.0.0.1", port)
	}
	return a
}

func (g *Gateway) startAdmin(addr string) error {
	ln, err := net.Listen("tcp", adminAddr(addr))
	if err != nil {
		return fmt.Errorf("gateway: admin listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", g.MetricsHandler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := g.ready(r.Context()); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	mux.HandleFunc("GET /_flashback/repos/{name}/status", func(w http.ResponseWriter, r *http.Request) {
		st, err := g.RepairStatus(r.PathValue("name"))
		if err != nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, st)
	})
	mux.HandleFunc("POST /_flashback/repos/{name}/members/{id}/resume", func(w http.ResponseWriter, r *http.Request) {
		if err := g.ResumeRepair(r.PathValue("name"), r.PathValue("id")); err != nil {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"resumed": r.PathValue("id")})
	})
	mux.HandleFunc("GET /_flashback/repos", func(w http.ResponseWriter, r *http.Request) {
		out := []RepoRepairStatus{}
		if g.loop != nil {
			g.loop.mu.Lock()
			var names []string
			for n := range g.loop.repos {
				names = append(names, n)
			}
			g.loop.mu.Unlock()
			sort.Strings(names)
			for _, n := range names {
				if st, err := g.RepairStatus(n); err == nil {
					out = append(out, st)
				}
			}
		}
		writeJSON(w, http.StatusOK, out)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 10 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 64 << 10}
	g.admin = &adminServer{ln: ln, srv: srv}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			g.cfg.Logf("gateway: admin listener: %v", err)
		}
	}()
	return nil
}

func (a *adminServer) shutdown(ctx context.Context) error { return a.srv.Shutdown(ctx) }

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
