package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/gateway"
)

// ownerSecretSize is the size of the owner secret `gateway init` makes.
const ownerSecretSize = 32

func defaultOwnerSecretFile(home string) string {
	return filepath.Join(home, "gateway", "owner.secret")
}

// ensureOwnerSecret creates the owner secret file (ownerSecretSize random
// bytes, mode 0600) unless a valid one is there; it never prints it. An
// existing file that fails the checks (mode, size) is an error, not
// replaced: objects encrypted under it would become unreadable.
func ensureOwnerSecret(path string) (created bool, err error) {
	_, err = gateway.ReadSecretFile(path)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return false, fmt.Errorf("owner secret: %w", err)
	}
	sec := make([]byte, ownerSecretSize)
	if _, err := rand.Read(sec); err != nil {
		return false, fmt.Errorf("owner secret: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return false, fmt.Errorf("owner secret: %w", err)
	}
	_, err = f.Write(sec)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path) // no half-written secret left behind
		return false, fmt.Errorf("owner secret %s: %w", path, err)
	}
	return true, nil
}

// checkOwnerSecret refuses to start a gateway without an owner secret that
// would serve encrypted repositories: every request to them would fail.
func checkOwnerSecret(ctx context.Context, cfg gateway.Config, names []string) error {
	if cfg.OwnerSecret != nil {
		return nil
	}
	for _, n := range names {
		if r, err := cfg.Directory.Repo(ctx, n); err == nil && r.Encrypted {
			return fmt.Errorf("gateway: repository %s is end-to-end encrypted and there is no owner secret: "+
				"give --owner-secret-file (the file `flashback gateway init` creates, HOME/gateway/owner.secret, "+
				"from the owner who created the repository)", n)
		}
	}
	return nil
}

// levelSyncer sends `repo synced` for joining members the repair loop finds
// level, when the gateway has the repository owner's key; so `repo add` and
// `repo replace` complete on their own (synced makes the member active and
// removes the member it replaces).
type levelSyncer struct {
	ctx   context.Context
	owner *client.Signer // nil: the repair loop's log line tells the owner what to run
	dir   gateway.Directory
	logf  func(format string, args ...any)
}

// onLevel is the repair loop's OnLevel: it must not block.
func (s *levelSyncer) onLevel(repo, member string) {
	if s.owner == nil {
		return
	}
	go s.send(repo, member)
}

func (s *levelSyncer) send(name, member string) {
	r, err := s.dir.Repo(s.ctx, name)
	if err != nil || r.Owner != s.owner.Address() {
		s.logf("gateway: member %s of %s is level; its owner is not the --from key %s: the owner sends `flashback repo synced %s %s`",
			member, name, s.owner.Address(), name, member)
		return
	}
	for attempt := 1; ; attempt++ {
		tctx, cancel := context.WithTimeout(s.ctx, 90*time.Second)
		res, err := s.owner.RepoMemberSynced(tctx, name, member)
		cancel()
		switch {
		case err == nil:
			s.logf("gateway: sent repo synced %s %s (tx %s, height %d): the member is active; a member it replaced has left",
				name, member, res.Hash, res.Height)
			return
		case client.IsCode(err, core.CodeWrongState) || client.IsCode(err, core.CodeNotFound) || attempt == 5:
			s.logf("gateway: repo synced %s %s: %v", name, member, err)
			return
		}
		s.logf("gateway: repo synced %s %s: %v (retrying)", name, member, err)
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(time.Duration(attempt) * 2 * time.Second):
		}
	}
}
