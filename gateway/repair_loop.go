package gateway

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/flashback-network/flashback/repair"
)

// RepairConfig turns on and tunes the gateway's repair loop (package
// repair) over its mirror repositories. Zero values take the defaults.
type RepairConfig struct {
	// ScanInterval is the pause between two full scans (default 10m);
	// hints from the repair queue are handled as they come.
	ScanInterval time.Duration
	// Scrub: every full scan reads and hashes every copy (finds bytes
	// rotten on a member's disk), within BytesPerSec.
	Scrub bool
	// BytesPerSec and ObjectsPerSec cap what repair reads and writes
	// (0: unlimited), so it does not starve client traffic.
	BytesPerSec, ObjectsPerSec float64
	Concurrency                int
	// NoRoomRetry: how long a member without room stays paused (default 10m).
	NoRoomRetry time.Duration
	// Refresh is how often the loop looks at the directory (member
	// changes) and the repair queue (default 1s).
	Refresh time.Duration
	// OnLevel, if set, is called once when a joining member is found
	// level (the owner can then send `repo synced`). It must not block.
	OnLevel func(repo, member string)
	// Backoff of a failing member (repair defaults 1s .. 5m).
	BackoffBase, BackoffMax time.Duration
}

// RepoLister is a Directory that can name its repositories, so the
// repair loop knows what to repair. StaticDirectory is one.
type RepoLister interface {
	RepoNames(ctx context.Context) ([]string, error)
}

// RepoNames implements RepoLister.
func (d *StaticDirectory) RepoNames(context.Context) ([]string, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	names := make([]string, 0, len(d.repos))
	for n := range d.repos {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

// repairLoop runs one repairer per mirror repository and feeds it the
// gateway's repair queue. A repository whose members change (directory)
// gets a new repairer over the new member set.
type repairLoop struct {
	g      *Gateway
	cfg    RepairConfig
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	repos map[string]*repoRepair
	err   string // why the directory could not be read, if so
}

// repoRepair is the repairer of one repository.
type repoRepair struct {
	repo   Repo
	sig    string
	r      *repair.Repairer
	cancel context.CancelFunc
	done   chan struct{}
	// handed are queue records given to r as hints, with the pass count
	// then: they leave the durable queue once two more passes ended.
	handed map[uint64]int64
	level  map[string]bool // joining members reported level
}

func (g *Gateway) startRepair(cfg RepairConfig) {
	if cfg.ScanInterval <= 0 {
		cfg.ScanInterval = 10 * time.Minute
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = time.Second
	}
	if cfg.BackoffMax <= 0 {
		// A member that is down is asked again every 30 s at most: one
		// cheap request, and a member back without client traffic to
		// show it (resumeRecovered) waits no longer than that.
		cfg.BackoffMax = 30 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &repairLoop{g: g, cfg: cfg, cancel: cancel, done: make(chan struct{}), repos: map[string]*repoRepair{}}
	g.loop = l
	// The first pass runs here, so that from New on every repository
	// served has its repairer (and the admin endpoint its status).
	l.tick(ctx)
	go func() {
		defer close(l.done)
		t := time.NewTicker(cfg.Refresh)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				l.stopAll()
				return
			case <-t.C:
			}
			l.tick(ctx)
		}
	}()
}

// stop ends the loop and its repairers.
func (l *repairLoop) stop() {
	l.cancel()
	<-l.done
}

func (l *repairLoop) stopAll() {
	l.mu.Lock()
	rs := l.repos
	l.repos = map[string]*repoRepair{}
	l.mu.Unlock()
	for _, rr := range rs {
		rr.cancel()
		<-rr.done
	}
}

// repairConfig is the engine's configuration for repo.
func (l *repairLoop) repairConfig(repo Repo) repair.Config {
	return repairEngineConfig(l.cfg, repo)
}

func repairEngineConfig(cfg RepairConfig, repo Repo) repair.Config {
	writers := len(repo.writers())
	q := repo.quorum(max(writers, 1))
	q = min(max(q, 1), len(repo.Members))
	return repair.Config{Quorum: q, BytesPerSec: cfg.BytesPerSec, ObjectsPerSec: cfg.ObjectsPerSec,
		Concurrency: cfg.Concurrency, Scrub: cfg.Scrub, ScanInterval: cfg.ScanInterval,
		NoRoomRetry: cfg.NoRoomRetry, BackoffBase: cfg.BackoffBase, BackoffMax: cfg.BackoffMax}
}

// signature names what a repairer is built from: a change means a new one.
func signature(r Repo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%d|", r.Mode, r.WriteQuorum)
	for _, m := range r.Members {
		fmt.Fprintf(&b, "%s,%s,%s,%s,%s,%s;", m.ID, m.Endpoint, m.Region, m.AccessKeyID, m.Secret, m.state())
	}
	return b.String()
}

// newRepairer builds a repairer over the members of a mirror repository.
func (g *Gateway) newRepairer(repo Repo, cfg repair.Config) (*repair.Repairer, error) {
	if repo.Mode != ModeMirror {
		return nil, errNotMirror
	}
	copies := make([]repair.Copy, 0, len(repo.Members))
	for i, m := range repo.Members {
		peers := append(append([]Member(nil), repo.Members[:i]...), repo.Members[i+1:]...)
		copies = append(copies, &memberCopy{g: g, m: m, peers: peers})
	}
	r, err := repair.New(copies, cfg)
	if err != nil {
		return nil, fmt.Errorf("gateway: repository %s: %w", repo.Name, err)
	}
	return r, nil
}

// tick follows the directory, then hands the queue's records over.
func (l *repairLoop) tick(ctx context.Context) {
	lister, ok := l.g.dir.(RepoLister)
	if !ok {
		l.setErr("the directory cannot list its repositories: nothing to repair")
		return
	}
	names, err := lister.RepoNames(ctx)
	if err != nil {
		l.setErr("listing repositories: " + err.Error())
		return
	}
	l.setErr("")
	seen := map[string]bool{}
	for _, n := range names {
		repo, err := l.g.dir.Repo(ctx, n)
		if err != nil || repo.Mode != ModeMirror {
			continue
		}
		seen[n] = true
		l.follow(repo)
	}
	l.mu.Lock()
	var gone []*repoRepair
	for n, rr := range l.repos {
		if !seen[n] {
			gone = append(gone, rr)
			delete(l.repos, n)
		}
	}
	l.mu.Unlock()
	for _, rr := range gone {
		rr.cancel()
		<-rr.done
	}
	l.resumeRecovered()
	l.feed()
	l.report()
}

// resumeRecovered clears the repair backoff of members the gateway has
// seen answer again (health.observe), so a bridge that comes back is
// repaired now rather than when its backoff (up to BackoffMax) ends.
func (l *repairLoop) resumeRecovered() {
	back := l.g.health.takeRecovered()
	if len(back) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range back {
		for _, rr := range l.repos {
			if _, ok := rr.repo.member(id); ok {
				rr.r.ClearBackoff(id)
			}
		}
	}
}

func (l *repairLoop) setErr(s string) {
	l.mu.Lock()
	if s != "" && s != l.err {
		l.g.cfg.Logf("gateway: repair: %s", s)
	}
	l.err = s
	l.mu.Unlock()
}

// follow starts (or restarts, after a member change) repo's repairer.
func (l *repairLoop) follow(repo Repo) {
	sig := signature(repo)
	l.mu.Lock()
	old := l.repos[repo.Name]
	l.mu.Unlock()
	if old != nil && old.sig == sig {
		return
	}
	if old != nil {
		old.cancel()
		<-old.done
	}
	r, err := l.g.newRepairer(repo, l.repairConfig(repo))
	if err != nil {
		l.g.cfg.Logf("gateway: repair: %v", err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	rr := &repoRepair{repo: repo, sig: sig, r: r, cancel: cancel, done: make(chan struct{}),
		handed: map[uint64]int64{}, level: map[string]bool{}}
	if old != nil {
		for id := range old.level {
			rr.level[id] = true
		}
	}
	go func() {
		defer close(rr.done)
		if err := r.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			l.g.cfg.Logf("gateway: repair of %s stopped: %v", repo.Name, err)
		}
	}()
	l.mu.Lock()
	l.repos[repo.Name] = rr
	l.mu.Unlock()
}

// hintOf turns a queue record into a repair hint.
func hintOf(rec RepairRecord) repair.Hint {
	switch rec.Op {
	case RepairDelete:
		return repair.Hint{Key: rec.Key, Reason: repair.Delete}
	case RepairBad:
		return repair.Hint{Key: rec.Key, Member: rec.Member, Reason: repair.Bad}
	default:
		return repair.Hint{Key: rec.Key, Member: rec.Member, Reason: repair.Missing}
	}
}

// feed hands new queue records to the repairers as hints, and drops from
// the durable queue those handed two passes ago (by then a pass has
// handled them, or a full scan has looked at their key) and those no
// repairer can take (repository gone or not a mirror, member unknown).
func (l *repairLoop) feed() {
	recs, err := l.g.repair.List()
	if err != nil {
		l.g.cfg.Logf("gateway: repair: %v", err)
		return
	}
	var drop []uint64
	l.mu.Lock()
	passes := map[*repoRepair]int64{}
	for _, rr := range l.repos {
		passes[rr] = rr.r.Status().Passes
	}
	for _, rec := range recs {
		rr := l.repos[rec.Repo]
		if rr == nil {
			if repo, err := l.g.dir.Repo(context.Background(), rec.Repo); err != nil || repo.Mode != ModeMirror {
				drop = append(drop, rec.Seq)
			}
			continue
		}
		if at, ok := rr.handed[rec.Seq]; ok {
			if passes[rr] >= at+2 {
				drop = append(drop, rec.Seq)
				delete(rr.handed, rec.Seq)
			}
			continue
		}
		if err := rr.r.Hint(hintOf(rec)); err != nil {
			drop = append(drop, rec.Seq) // e.g. the member left the repository
			continue
		}
		rr.handed[rec.Seq] = passes[rr]
	}
	l.mu.Unlock()
	if len(drop) > 0 {
		if err := l.g.repair.Remove(drop...); err != nil {
			l.g.cfg.Logf("gateway: repair queue: %v", err)
		}
	}
}

// report tells (once) about joining members found level.
func (l *repairLoop) report() {
	type levelled struct{ repo, member string }
	var out []levelled
	l.mu.Lock()
	for _, rr := range l.repos {
		st := rr.r.Status()
		for _, ms := range st.Members {
			m, _ := rr.repo.member(ms.ID)
			if m.state() == MemberJoining && scannedLevel(st, ms) && !rr.level[ms.ID] {
				rr.level[ms.ID] = true
				out = append(out, levelled{rr.repo.Name, ms.ID})
			}
		}
	}
	l.mu.Unlock()
	for _, lv := range out {
		l.g.cfg.Logf("gateway: repair: member %s of %s is level (send `flashback repo synced %s %s`)", lv.member, lv.repo, lv.repo, lv.member)
		if l.cfg.OnLevel != nil {
			l.cfg.OnLevel(lv.repo, lv.member)
		}
	}
}
