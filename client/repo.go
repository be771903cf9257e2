package client

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/repo"
	"github.com/flashback-network/flashback/sealed"
)

// Repositories: a bucket over several of the signer's reservations, served
// by the signer's gateway. Secrets go on chain only sealed to the gateway's
// X25519 key, as access key secrets are sealed to bridges.

// RepoMemberInput is a reservation to make a member with the credential the
// gateway will use on its bridge: an access key of that reservation (write
// or admin) and its plaintext secret, which the SDK seals to the gateway
// key before it leaves this process.
type RepoMemberInput struct {
	Reservation string
	AccessKeyID string
	Secret      string
}

// spec seals in's secret to the gateway key.
func (in RepoMemberInput) spec(gatewayPub []byte) (repo.MemberSpec, error) {
	if in.Secret == "" {
		return repo.MemberSpec{}, fmt.Errorf("member %s: the access key's secret is needed to seal it to the gateway", in.Reservation)
	}
	box, err := sealed.Seal([]byte(in.Secret), gatewayPub)
	if err != nil {
		return repo.MemberSpec{}, fmt.Errorf("member %s: seal the secret to the gateway key: %w", in.Reservation, err)
	}
	return repo.MemberSpec{Reservation: in.Reservation, AccessKeyID: in.AccessKeyID, SealedSecret: box}, nil
}

// RepoSpec describes a new repository.
type RepoSpec struct {
	Name string
	// Mode is repo.ModeMirror or repo.ModeNormal.
	Mode string
	// Quorum is the mirror write quorum; 0 takes a majority.
	Quorum       uint32
	NoEncryption bool
	// GatewayPubKey is the gateway's 32-byte X25519 public key.
	GatewayPubKey []byte
	Members       []RepoMemberInput
}

// CreateRepo creates a repository owned by the signer.
func (s *Signer) CreateRepo(ctx context.Context, sp RepoSpec) (*types.TxResult, error) {
	m := &repo.MsgCreate{Name: sp.Name, Mode: sp.Mode, Quorum: sp.Quorum, NoEncryption: sp.NoEncryption, GatewayPubKey: sp.GatewayPubKey}
	for _, in := range sp.Members {
		ms, err := in.spec(sp.GatewayPubKey)
		if err != nil {
			return nil, err
		}
		m.Members = append(m.Members, ms)
	}
	return s.Submit(ctx, m)
}

// ownRepo reads the signer's repository name (for its gateway key).
func (s *Signer) ownRepo(ctx context.Context, name string) (*types.Repo, error) {
	return s.c.Repo(ctx, s.addr, name)
}

// AddRepoMember adds a reservation to the signer's repository name (in a
// mirror it joins as "joining" until RepoMemberSynced).
func (s *Signer) AddRepoMember(ctx context.Context, name string, in RepoMemberInput) (*types.TxResult, error) {
	r, err := s.ownRepo(ctx, name)
	if err != nil {
		return nil, err
	}
	ms, err := in.spec(r.GatewayPubKey)
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, &repo.MsgAddMember{Repo: name, Member: ms})
}

// RemoveRepoMember drops a member.
func (s *Signer) RemoveRepoMember(ctx context.Context, name, reservation string) (*types.TxResult, error) {
	return s.Submit(ctx, &repo.MsgRemoveMember{Repo: name, Reservation: reservation})
}

// ReplaceRepoMember starts replacing member old with a new reservation: the
// new one joins, the old one retires until RepoMemberSynced names the new.
func (s *Signer) ReplaceRepoMember(ctx context.Context, name, old string, in RepoMemberInput) (*types.TxResult, error) {
	r, err := s.ownRepo(ctx, name)
	if err != nil {
		return nil, err
	}
	ms, err := in.spec(r.GatewayPubKey)
	if err != nil {
		return nil, err
	}
	return s.Submit(ctx, &repo.MsgReplaceMember{Repo: name, Old: old, Member: ms})
}

// RepoMemberSynced marks a joining member full: it becomes active and the
// member it replaces leaves.
func (s *Signer) RepoMemberSynced(ctx context.Context, name, reservation string) (*types.TxResult, error) {
	return s.Submit(ctx, &repo.MsgMemberSynced{Repo: name, Reservation: reservation})
}

// SetRepoQuorum sets a mirror repository's write quorum.
func (s *Signer) SetRepoQuorum(ctx context.Context, name string, quorum uint32) (*types.TxResult, error) {
	return s.Submit(ctx, &repo.MsgSetQuorum{Repo: name, Quorum: quorum})
}

// DeleteRepo deletes a repository and its keys (not the members' data).
func (s *Signer) DeleteRepo(ctx context.Context, name string) (*types.TxResult, error) {
	return s.Submit(ctx, &repo.MsgDelete{Repo: name})
}

// CreatedRepoKey is a repo key just created; Secret is shown once.
type CreatedRepoKey struct {
	ID     string          `json:"access_key_id"`
	Secret string          `json:"secret_access_key"`
	Owner  string          `json:"owner"`
	Repo   string          `json:"repo"`
	Perm   string          `json:"perm"`
	Tx     *types.TxResult `json:"tx"`
}

// CreateRepoKey makes an S3 key for the gateway bucket of the signer's
// repository name, sealing the secret to the repository's gateway key.
func (s *Signer) CreateRepoKey(ctx context.Context, name, perm string) (*CreatedRepoKey, error) {
	r, err := s.ownRepo(ctx, name)
	if err != nil {
		return nil, err
	}
	id, secret, box, err := NewAccessKey(r.GatewayPubKey)
	if err != nil {
		return nil, fmt.Errorf("make repo key: %w", err)
	}
	res, err := s.Submit(ctx, &repo.MsgCreateKey{Repo: name, ID: id, Perm: perm, SealedSecret: box})
	if err != nil {
		return nil, err
	}
	return &CreatedRepoKey{ID: id, Secret: secret, Owner: s.addr, Repo: name, Perm: perm, Tx: res}, nil
}

// RevokeRepoKey deletes one of the signer's repo keys.
func (s *Signer) RevokeRepoKey(ctx context.Context, id string) (*types.TxResult, error) {
	return s.Submit(ctx, &repo.MsgRevokeKey{ID: id})
}

// RepoFilter filters GET /v1/repos. Zero fields do not filter.
type RepoFilter struct {
	Page
	Owner string
	// Gateway is a gateway's X25519 public key: the repositories it serves.
	Gateway []byte
	// Status is types.HealthOK or types.HealthDegraded.
	Status string
}

// Repos lists repositories with their members and health.
func (c *Client) Repos(ctx context.Context, f RepoFilter) (*types.ReposPage, error) {
	q := url.Values{}
	f.Page.set(q)
	if f.Owner != "" {
		q.Set("owner", f.Owner)
	}
	if f.Gateway != nil {
		q.Set("gateway", hex.EncodeToString(f.Gateway))
	}
	if f.Status != "" {
		q.Set("status", f.Status)
	}
	var page types.ReposPage
	return &page, c.do(ctx, http.MethodGet, withQuery("/v1/repos", q), nil, &page)
}

// Repo reads owner's repository name.
func (c *Client) Repo(ctx context.Context, owner, name string) (*types.Repo, error) {
	var r types.Repo
	return &r, c.do(ctx, http.MethodGet, "/v1/repos/"+url.PathEscape(owner)+"/"+url.PathEscape(name), nil, &r)
}

// RepoKeys lists owner's repo keys (of repository name, if not empty).
func (c *Client) RepoKeys(ctx context.Context, owner, name string, p Page) (*types.RepoKeysPage, error) {
	q := url.Values{"owner": {owner}}
	if name != "" {
		q.Set("repo", name)
	}
	p.set(q)
	var page types.RepoKeysPage
	return &page, c.do(ctx, http.MethodGet, withQuery("/v1/repo-keys", q), nil, &page)
}

// RepoKey reads one repo key (what a gateway checks a request against).
func (c *Client) RepoKey(ctx context.Context, id string) (*types.RepoKey, error) {
	var k types.RepoKey
	return &k, c.do(ctx, http.MethodGet, "/v1/repo-keys/"+url.PathEscape(id), nil, &k)
}
