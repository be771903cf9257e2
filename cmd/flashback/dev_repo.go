package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"

	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/accesskey"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/repo"
	"github.com/flashback-network/flashback/gateway"
	"github.com/flashback-network/flashback/gateway/chaindir"
	"github.com/flashback-network/flashback/sealed"
)

// devRepoName is the dev platform's mirror repository: one reservation of
// alice on each dev provider's unit, served by the dev gateway.
const devRepoName = "dev-mirror"

// devRepo is what the dev platform provisioned for its repository.
type devRepo struct {
	name, accessKeyID string
	members           []string
	gatewayKeyFile    string
	ownerSecretFile   string
	gatewayAddr       string
	adminAddr         string // the gateway's admin status listener
	quorum            uint32
	encrypted         bool
}

// ensureDevRepo makes (once; later runs reuse it) alice's mirror
// repository over a reservation on each dev unit, end-to-end encrypted
// with the dev home's owner secret, sealed to the dev gateway key kept in
// the dev home, and a write repo key recorded in env. A repository made
// unencrypted by an older dev home is kept as it is (its objects stay).
// bucketRes, the dev bucket's reservation, is not made a member (its data
// is written directly, not through the gateway).
func ensureDevRepo(ctx context.Context, g *globals, c *client.Client, alice *client.Signer, provs []*devProvider, bucketRes string, env map[string]string) (*devRepo, error) {
	keyFile := filepath.Join(g.home, "gateway", "key.json")
	pub, _, _, err := chaindir.LoadOrCreateKey(keyFile)
	if err != nil {
		return nil, err
	}
	secretFile := defaultOwnerSecretFile(g.home)
	if _, err := ensureOwnerSecret(secretFile); err != nil {
		return nil, err
	}
	dr := &devRepo{name: devRepoName, gatewayKeyFile: keyFile, ownerSecretFile: secretFile}
	r, err := c.Repo(ctx, alice.Address(), devRepoName)
	switch {
	case err == nil && !bytes.Equal(r.GatewayPubKey, pub[:]):
		// The dev home's gateway key was replaced: the secrets on chain are
		// sealed to the old one. Start the repository over.
		if _, err := alice.DeleteRepo(ctx, devRepoName); err != nil {
			return nil, fmt.Errorf("dev repository sealed to an old gateway key: delete it: %w", err)
		}
		fallthrough
	case client.IsCode(err, core.CodeNotFound):
		if err := createDevRepo(ctx, g, c, alice, provs, bucketRes, pub); err != nil {
			return nil, err
		}
		if r, err = c.Repo(ctx, alice.Address(), devRepoName); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	}
	dr.quorum, dr.encrypted = r.WriteQuorum, r.Encrypted
	for _, m := range r.Members {
		dr.members = append(dr.members, m.Reservation)
	}
	if dr.accessKeyID, err = ensureDevRepoKey(ctx, c, alice, env); err != nil {
		return nil, err
	}
	return dr, nil
}

// createDevRepo reserves on each dev unit (reusing a reservation of alice
// there that is neither the dev bucket nor a repository member, left by an
// interrupted start) and creates the repository.
func createDevRepo(ctx context.Context, g *globals, c *client.Client, alice *client.Signer, provs []*devProvider, bucketRes string, pub *[sealed.KeySize]byte) error {
	taken := map[string]bool{bucketRes: true}
	mine, err := c.Repos(ctx, client.RepoFilter{Owner: alice.Address(), Page: client.Page{Limit: 100}})
	if err != nil {
		return err
	}
	for _, r := range mine.Repos {
		for _, m := range r.Members {
			taken[m.Reservation] = true
		}
	}
	sp := client.RepoSpec{Name: devRepoName, Mode: repo.ModeMirror, GatewayPubKey: pub[:]}
	for _, p := range provs {
		res, err := devMemberReservation(ctx, c, alice, p.unit, taken)
		if err != nil {
			return err
		}
		in, err := g.memberCredential(ctx, alice, res)
		if err != nil {
			return err
		}
		sp.Members = append(sp.Members, in)
	}
	if _, err := alice.CreateRepo(ctx, sp); err != nil {
		return fmt.Errorf("create the dev repository: %w", err)
	}
	return nil
}

// devMemberReservation returns an active reservation of alice on unit that
// is not taken, reserving one if there is none.
func devMemberReservation(ctx context.Context, c *client.Client, alice *client.Signer, unit string, taken map[string]bool) (string, error) {
	rs, err := c.Reservations(ctx, client.ReservationFilter{Consumer: alice.Address(), Unit: unit, Status: market.ResActive})
	if err != nil {
		return "", err
	}
	for _, r := range rs.Reservations {
		if !taken[r.ID] {
			taken[r.ID] = true
			return r.ID, nil
		}
	}
	id, _, err := alice.Reserve(ctx, market.MsgReserve{Unit: unit, Bytes: devResSize, Term: devResTerm, EgressBytes: devResSize, MaxPrice: 1_000_000})
	if err != nil {
		return "", fmt.Errorf("dev repository member on %s: %w", unit, err)
	}
	taken[id] = true
	return id, nil
}

// ensureDevRepoKey keeps the write repo key of env if the chain still has
// it for the dev repository, and otherwise creates one; env gets the
// FLASHBACK_REPO* entries.
func ensureDevRepoKey(ctx context.Context, c *client.Client, alice *client.Signer, env map[string]string) (string, error) {
	id := env["FLASHBACK_REPO_ACCESS_KEY_ID"]
	if k, err := c.RepoKey(ctx, id); id == "" || err != nil || k.Repo != devRepoName || k.Owner != alice.Address() || env["FLASHBACK_REPO_SECRET_ACCESS_KEY"] == "" {
		nk, err := alice.CreateRepoKey(ctx, devRepoName, accesskey.PermWrite)
		if err != nil {
			return "", fmt.Errorf("dev repository key: %w", err)
		}
		env["FLASHBACK_REPO_ACCESS_KEY_ID"], env["FLASHBACK_REPO_SECRET_ACCESS_KEY"] = nk.ID, nk.Secret
	}
	env["FLASHBACK_REPO"] = devRepoName
	return env["FLASHBACK_REPO_ACCESS_KEY_ID"], nil
}

// devGatewayConfig is the dev gateway's chain-mode configuration: alice's
// repositories only, her owner secret, state in the dev home, the admin
// status endpoint on.
func devGatewayConfig(g *globals, apiURL string, dr *devRepo, owner string) gateway.FileConfig {
	return gateway.FileConfig{Listen: dr.gatewayAddr, StateDir: filepath.Join(g.home, "gateway", "state"),
		NodeURL: apiURL, GatewayKeyFile: dr.gatewayKeyFile, Owners: []string{owner},
		OwnerSecretFile: dr.ownerSecretFile, AdminListen: dr.adminAddr}
}
