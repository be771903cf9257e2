package chaindir

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"sort"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/repo"
	"github.com/flashback-network/flashback/gateway"
	"github.com/flashback-network/flashback/sealed"
)

// Bounds of one reload: pages of the API's largest size, and how many of
// them are read (a gateway of more repositories than this is misconfigured
// or under attack by repositories sealed to its public key).
const (
	pageSize = 100
	maxPages = 50
)

// load reads the whole directory. The caller holds d.mu.
func (d *Dir) load(ctx context.Context) (*snapshot, error) {
	st, err := d.c.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("chaindir: chain status: %w", err)
	}
	repos, err := d.listRepos(ctx)
	if err != nil {
		return nil, err
	}
	s := &snapshot{height: st.Height, repos: map[string]gateway.Repo{}, keys: map[string]gateway.Key{}}
	seen := map[[32]byte]string{}
	scores := map[string]float64{}
	for _, r := range d.distinctNames(repos) {
		gr := d.repo(ctx, r, seen, scores)
		keys, err := d.listKeys(ctx, r.Owner, r.Name)
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			if k.Owner != r.Owner || k.Repo != r.Name {
				continue
			}
			secret, ok := d.open(k.SealedSecret, seen)
			if !ok {
				d.o.Logf("chaindir: repo key %s of %s/%s is not sealed to this gateway's key; skipped", k.ID, r.Owner, r.Name)
				continue
			}
			s.keys[k.ID] = gateway.Key{AccessKeyID: k.ID, Secret: secret, Repo: r.Name, Perm: k.Perm}
		}
		s.repos[r.Name] = gr
	}
	d.opened = seen // only the secrets still on chain stay in memory
	return s, nil
}

// listRepos lists the repositories sealed to the gateway key (of Owners,
// if set).
func (d *Dir) listRepos(ctx context.Context) ([]types.Repo, error) {
	owners := d.o.Owners
	if len(owners) == 0 {
		owners = []string{""}
	}
	var out []types.Repo
	for _, owner := range owners {
		cursor := ""
		for page := 0; ; page++ {
			if page == maxPages {
				return nil, fmt.Errorf("chaindir: more than %d repositories are sealed to this gateway's key; limit the owners served", maxPages*pageSize)
			}
			p, err := d.c.Repos(ctx, client.RepoFilter{Page: client.Page{Limit: pageSize, Cursor: cursor}, Owner: owner, Gateway: d.pub[:]})
			if err != nil {
				return nil, fmt.Errorf("chaindir: list repositories: %w", err)
			}
			for _, r := range p.Repos {
				if bytes.Equal(r.GatewayPubKey, d.pub[:]) {
					out = append(out, r)
				}
			}
			if p.NextCursor == "" {
				break
			}
			cursor = p.NextCursor
		}
	}
	return out, nil
}

// listKeys lists the repo keys of owner's repository name.
func (d *Dir) listKeys(ctx context.Context, owner, name string) ([]types.RepoKey, error) {
	var out []types.RepoKey
	cursor := ""
	for page := 0; page < maxPages; page++ {
		p, err := d.c.RepoKeys(ctx, owner, name, client.Page{Limit: pageSize, Cursor: cursor})
		if err != nil {
			return nil, fmt.Errorf("chaindir: list the keys of %s/%s: %w", owner, name, err)
		}
		out = append(out, p.Keys...)
		if p.NextCursor == "" {
			return out, nil
		}
		cursor = p.NextCursor
	}
	return nil, fmt.Errorf("chaindir: %s/%s has more than %d keys", owner, name, maxPages*pageSize)
}

// distinctNames keeps one repository per bucket name. Names are unique per
// owner only, so two owners' repositories sealed to this gateway can
// collide: the older one keeps the bucket (a newcomer cannot take over a
// bucket in use), the other is skipped with its keys.
func (d *Dir) distinctNames(repos []types.Repo) []types.Repo {
	sort.SliceStable(repos, func(i, j int) bool {
		a, b := repos[i], repos[j]
		if a.CreatedAt != b.CreatedAt {
			return a.CreatedAt < b.CreatedAt
		}
		return a.Owner < b.Owner
	})
	taken := map[string]string{}
	var out []types.Repo
	for _, r := range repos {
		if owner, ok := taken[r.Name]; ok {
			d.o.Logf("chaindir: repository %s/%s is not served: bucket %q is %s's repository", r.Owner, r.Name, r.Name, owner)
			continue
		}
		taken[r.Name] = r.Owner
		out = append(out, r)
	}
	return out
}

// open opens a sealed secret, reusing what the previous reload opened.
func (d *Dir) open(box []byte, seen map[[32]byte]string) (string, bool) {
	h := sha256.Sum256(box)
	if s, ok := seen[h]; ok {
		return s, true
	}
	if s, ok := d.opened[h]; ok {
		seen[h] = s
		return s, true
	}
	b, err := sealed.Open(box, d.pub, d.priv)
	if err != nil {
		return "", false
	}
	seen[h] = string(b)
	return string(b), true
}

// repo maps a chain repository to the gateway's view of it.
func (d *Dir) repo(ctx context.Context, r types.Repo, seen map[[32]byte]string, scores map[string]float64) gateway.Repo {
	gr := gateway.Repo{Name: r.Name, Mode: r.Mode, Owner: r.Owner, WriteQuorum: int(r.WriteQuorum), Encrypted: r.Encrypted}
	var demoted []int
	for _, m := range r.Members {
		gm, ok := d.member(r, m, seen)
		if !ok {
			continue
		}
		gm.Score = d.score(ctx, m.Unit, scores)
		if m.Health != types.HealthOK {
			switch gm.State {
			case gateway.MemberJoining:
				// Being filled and unhealthy: it serves no reads and
				// writes to it would fail; leave it out.
				d.o.Logf("chaindir: %s/%s: joining member %s left out: %s", r.Owner, r.Name, m.Reservation, m.HealthReason)
				continue
			case gateway.MemberActive:
				gm.State = gateway.MemberRetiring
				demoted = append(demoted, len(gr.Members))
			}
		}
		gr.Members = append(gr.Members, gm)
	}
	// The gateway lowers a quorum larger than its writing members to their
	// number; the chain says writes fail below the quorum the owner set.
	// So if demoting the unhealthy members would leave fewer writers than
	// the quorum, they stay writers: the writes then fail at the quorum,
	// as the repository's status says.
	if r.Mode == repo.ModeMirror && len(demoted) > 0 && writers(gr) < gr.WriteQuorum {
		for _, i := range demoted {
			gr.Members[i].State = gateway.MemberActive
		}
	}
	return gr
}

func writers(r gateway.Repo) int {
	n := 0
	for _, m := range r.Members {
		if m.State != gateway.MemberRetiring {
			n++
		}
	}
	return n
}

// member maps one chain member; false leaves it out (logged).
func (d *Dir) member(r types.Repo, m types.RepoMember, seen map[[32]byte]string) (gateway.Member, bool) {
	var state string
	switch m.State {
	case repo.StateActive:
		state = gateway.MemberActive
	case repo.StateJoining:
		state = gateway.MemberJoining
	case repo.StateRetiring:
		state = gateway.MemberRetiring
	default:
		d.o.Logf("chaindir: %s/%s: member %s has unknown state %q; left out", r.Owner, r.Name, m.Reservation, m.State)
		return gateway.Member{}, false
	}
	if m.BridgeEndpoint == "" {
		d.o.Logf("chaindir: %s/%s: member %s has no bridge endpoint; left out", r.Owner, r.Name, m.Reservation)
		return gateway.Member{}, false
	}
	secret, ok := d.open(m.SealedSecret, seen)
	if !ok {
		d.o.Logf("chaindir: %s/%s: the secret of member %s is not sealed to this gateway's key; left out", r.Owner, r.Name, m.Reservation)
		return gateway.Member{}, false
	}
	return gateway.Member{ID: m.Reservation, Endpoint: m.BridgeEndpoint, AccessKeyID: m.AccessKeyID, Secret: secret, State: state}, true
}

// score is the unit's score (0–100), the gateway's tie-break between
// equally fast members; 0 if it cannot be read.
func (d *Dir) score(ctx context.Context, unit string, scores map[string]float64) float64 {
	if s, ok := scores[unit]; ok {
		return s
	}
	var s float64
	if u, err := d.c.Unit(ctx, unit); err == nil {
		s = float64(u.Score)
	}
	scores[unit] = s
	return s
}
