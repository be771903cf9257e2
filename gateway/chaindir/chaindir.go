// Package chaindir is the gateway's Directory read from the chain: the
// repositories of the repo module whose gateway key is this gateway's
// (GET /v1/repos?gateway=), their members with the bridges' endpoints, and
// their repo keys (GET /v1/repo-keys), with every sealed secret opened with
// the gateway's X25519 private key.
//
// The gateway asks the Directory on every request, so the directory serves
// from an immutable snapshot swapped atomically, and a background loop
// (Run) reloads the snapshot whenever the chain's height moves, at most
// once per MinInterval. A reload lists everything again rather than
// following a change feed: a gateway serves one consumer's handful of
// repositories, so a full reload is a few requests, and it cannot drift
// from the chain. A revoked key, a removed member or a deleted repository
// therefore stops working at the first reload after the block that did it.
// While the node cannot be reached the last snapshot keeps serving (the
// bridges refuse what the chain revoked in the meantime anyway).
//
// Secrets are never logged. The directory hands them to the gateway's
// SigV4 check (versitygw's) and to the member clients; it does not compare
// secrets itself.
package chaindir

import (
	"context"
	"errors"
	"fmt"
	"log"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/gateway"
	"github.com/flashback-network/flashback/sealed"
)

// Options tune a Dir. Zero values take the defaults.
type Options struct {
	// Owners, if set, limits the directory to these owners' repositories.
	// Anyone can create a repository sealed to a gateway's public key, so
	// a gateway that serves only its owner's repositories should say so.
	Owners []string
	// PollInterval is how often the chain height is checked; default 500ms.
	PollInterval time.Duration
	// MinInterval is the least time between two reloads; default 1s.
	MinInterval time.Duration
	// Timeout bounds one reload; default 30s.
	Timeout time.Duration
	// Logf logs reloads and skipped records (never secrets); default
	// log.Printf.
	Logf func(format string, args ...any)
}

// Dir is a gateway.Directory backed by the chain. It is safe for
// concurrent use.
type Dir struct {
	c         *client.Client
	pub, priv *[sealed.KeySize]byte
	o         Options

	snap atomic.Pointer[snapshot]

	// mu serializes reloads and guards what they keep between runs.
	mu         sync.Mutex
	opened     map[[32]byte]string // sha256 of a sealed secret -> the secret
	lastReload time.Time
	lastErr    string
}

// snapshot is the directory as of one reload; never modified once stored.
type snapshot struct {
	height int64
	repos  map[string]gateway.Repo
	keys   map[string]gateway.Key
}

var _ gateway.Directory = (*Dir)(nil)

// New returns a directory for the gateway key pair (pub, priv) and loads it
// once; an error means the node could not be read. Call Run to follow the
// chain.
func New(ctx context.Context, c *client.Client, pub, priv *[sealed.KeySize]byte, o Options) (*Dir, error) {
	if c == nil || pub == nil || priv == nil {
		return nil, errors.New("chaindir: a client and the gateway key pair are required")
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 500 * time.Millisecond
	}
	if o.MinInterval <= 0 {
		o.MinInterval = time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Logf == nil {
		o.Logf = log.Printf
	}
	d := &Dir{c: c, pub: pub, priv: priv, o: o, opened: map[[32]byte]string{}}
	d.snap.Store(&snapshot{repos: map[string]gateway.Repo{}, keys: map[string]gateway.Key{}})
	if err := d.Reload(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// Repo implements gateway.Directory.
func (d *Dir) Repo(_ context.Context, bucket string) (gateway.Repo, error) {
	r, ok := d.snap.Load().repos[bucket]
	if !ok {
		return gateway.Repo{}, gateway.ErrNotFound
	}
	r.Members = append([]gateway.Member(nil), r.Members...)
	return r, nil
}

// Key implements gateway.Directory.
func (d *Dir) Key(_ context.Context, accessKeyID string) (gateway.Key, error) {
	k, ok := d.snap.Load().keys[accessKeyID]
	if !ok {
		return gateway.Key{}, gateway.ErrNotFound
	}
	return k, nil
}

// Height is the chain height the directory was last loaded at.
func (d *Dir) Height() int64 { return d.snap.Load().height }

// Repos returns the names of the repositories served.
func (d *Dir) Repos() []string {
	s := d.snap.Load()
	out := make([]string, 0, len(s.repos))
	for name := range s.repos {
		out = append(out, name)
	}
	return out
}

// RepoNames implements gateway.RepoLister, so the gateway's repair loop
// runs over the chain's mirror repositories.
func (d *Dir) RepoNames(context.Context) ([]string, error) {
	names := d.Repos()
	sort.Strings(names)
	return names, nil
}

// Run follows the chain until ctx ends: every PollInterval it reads the
// height and reloads when it moved (and MinInterval has passed since the
// last reload). Errors are logged; the last snapshot keeps serving.
func (d *Dir) Run(ctx context.Context) {
	t := time.NewTicker(d.o.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := d.poll(ctx); err != nil && ctx.Err() == nil {
			d.logErr(err)
		}
	}
}

// poll reloads if the height moved and the last reload is old enough.
func (d *Dir) poll(ctx context.Context) error {
	d.mu.Lock()
	recent := time.Since(d.lastReload) < d.o.MinInterval
	d.mu.Unlock()
	if recent {
		return nil
	}
	pctx, cancel := context.WithTimeout(ctx, d.o.Timeout)
	defer cancel()
	st, err := d.c.Status(pctx)
	if err != nil {
		return fmt.Errorf("chaindir: chain status: %w", err)
	}
	if st.Height == d.Height() {
		return nil
	}
	return d.Reload(ctx)
}

// logErr logs an error once until it changes (a node that is down for an
// hour logs one line, not one per poll).
func (d *Dir) logErr(err error) {
	d.mu.Lock()
	same := d.lastErr == err.Error()
	d.lastErr = err.Error()
	d.mu.Unlock()
	if !same {
		d.o.Logf("%v (serving the directory of height %d)", err, d.Height())
	}
}

// Reload reads the directory from the chain now and swaps it in.
func (d *Dir) Reload(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, d.o.Timeout)
	defer cancel()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.lastReload = time.Now()
	s, err := d.load(ctx)
	if err != nil {
		return err
	}
	old := d.snap.Swap(s)
	d.lastErr = ""
	if len(old.repos) != len(s.repos) || len(old.keys) != len(s.keys) {
		d.o.Logf("chaindir: height %d: serving %d repositories, %d repo keys", s.height, len(s.repos), len(s.keys))
	}
	return nil
}
