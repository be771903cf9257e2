package main

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/accesskey"
	"github.com/flashback-network/flashback/contract/repo"
	"github.com/flashback-network/flashback/gateway/chaindir"
)

// repoCmd is `flashback repo ...`: repositories, one bucket over several of
// your reservations, served by your gateway.
func repoCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "repo", Short: "Repositories: one bucket across several of your reservations (mirror or normal), served by your gateway"}
	cmd.AddCommand(repoCreateCmd(g), repoAddCmd(g), repoReplaceCmd(g),
		repoLeaf(g, "remove NAME RESERVATION", "Remove a member (a joining one too: that cancels its replacement)", 2,
			func(ctx context.Context, s *client.Signer, a []string) (*types.TxResult, error) {
				return s.RemoveRepoMember(ctx, a[0], a[1])
			}),
		repoLeaf(g, "synced NAME RESERVATION", "Mark a joining member full: it becomes active and the member it replaces leaves (the repair loop sends this)", 2,
			func(ctx context.Context, s *client.Signer, a []string) (*types.TxResult, error) {
				return s.RepoMemberSynced(ctx, a[0], a[1])
			}),
		repoLeaf(g, "quorum NAME N", "Set a mirror repository's write quorum (at most its serving members)", 2,
			func(ctx context.Context, s *client.Signer, a []string) (*types.TxResult, error) {
				q, err := strconv.ParseUint(a[1], 10, 32)
				if err != nil || q == 0 {
					return nil, fmt.Errorf("quorum %q: want a whole number of members, at least 1", a[1])
				}
				return s.SetRepoQuorum(ctx, a[0], uint32(q))
			}),
		repoLeaf(g, "delete NAME", "Delete a repository and its keys (the members' reservations and data stay)", 1,
			func(ctx context.Context, s *client.Signer, a []string) (*types.TxResult, error) {
				return s.DeleteRepo(ctx, a[0])
			}),
		repoLsCmd(g), repoStatusCmd(g), repoKeysCmd(g), repoRepairCmd(g))
	return cmd
}

// repoLeaf is a repo tx command with exactly n arguments and --from.
func repoLeaf(g *globals, use, short string, n int, run func(ctx context.Context, s *client.Signer, args []string) (*types.TxResult, error)) *cobra.Command {
	var from string
	cmd := &cobra.Command{Use: use, Short: short, Args: cobra.ExactArgs(n),
		RunE: func(_ *cobra.Command, args []string) error {
			s, ctx, cancel, err := g.signer(from)
			if err != nil {
				return err
			}
			defer cancel()
			res, err := run(ctx, s, args)
			return g.printTxOut(res, err, txOut{})
		}}
	addFrom(cmd, &from)
	return cmd
}

// gatewayKey reads the gateway's X25519 public key from the flag (base64 or
// hex) or from a file holding it in either form (or as 32 raw bytes, or the
// gateway's own key file from `flashback gateway init`, of which only the
// public half is read).
func gatewayKey(flag, file string) ([]byte, error) {
	if (flag == "") == (file == "") {
		return nil, fmt.Errorf("give the gateway's public key with exactly one of --gateway-key or --gateway-key-file")
	}
	v := flag
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--gateway-key-file: %w", err)
		}
		if len(b) == 32 {
			return b, nil
		}
		var kf chaindir.KeyFile
		if json.Unmarshal(b, &kf) == nil && len(kf.PublicKey) == 32 {
			return kf.PublicKey, nil
		}
		v = strings.TrimSpace(string(b))
	}
	if b, err := base64.StdEncoding.DecodeString(v); err == nil && len(b) == 32 {
		return b, nil
	}
	if b, err := hex.DecodeString(v); err == nil && len(b) == 32 {
		return b, nil
	}
	return nil, fmt.Errorf("gateway key %q: want a 32-byte X25519 public key in base64 or hex", v)
}

// memberCredential returns a write access key of reservation res with its
// secret: the one stored in s3keys.json if it can write and still exists on
// chain, else a new one (created with the accesskey tx, sealed to the
// bridge as usual, and stored).
func (g *globals) memberCredential(ctx context.Context, s *client.Signer, res string) (client.RepoMemberInput, error) {
	keys, err := g.loadS3Keys()
	if err != nil {
		return client.RepoMemberInput{}, err
	}
	if k, ok := keys[res]; ok && k.Perm != accesskey.PermRead && k.Secret != "" {
		if ak, err := g.client().AccessKey(ctx, k.AccessKeyID); err == nil && ak.Reservation == res && ak.Perm != accesskey.PermRead {
			return client.RepoMemberInput{Reservation: res, AccessKeyID: k.AccessKeyID, Secret: k.Secret}, nil
		}
	}
	k, err := s.CreateAccessKey(ctx, res, accesskey.PermWrite)
	if err != nil {
		return client.RepoMemberInput{}, fmt.Errorf("create a write access key for member %s: %w", res, explain(err))
	}
	if err := g.saveS3Key(res, storedFromCreated(k)); err != nil {
		return client.RepoMemberInput{}, fmt.Errorf("store the new access key %s (secret %s) for %s: %w", k.AccessKeyID, k.Secret, res, err)
	}
	g.note("created write access key %s for member %s (stored in %s)", k.AccessKeyID, res, g.s3KeysPath())
	return client.RepoMemberInput{Reservation: res, AccessKeyID: k.AccessKeyID, Secret: k.Secret}, nil
}

func repoCreateCmd(g *globals) *cobra.Command {
	var from, mode, gwFlag, gwFile string
	var members []string
	var quorum uint32
	var noEnc bool
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a repository (a bucket name) over your reservations",
		Long: "Create a repository over your active reservations. For each member a write access key of\n" +
			"that reservation is reused from s3keys.json or created, and its secret is sealed to the\n" +
			"gateway's key so that only your gateway can use it. In mirror mode members must be on\n" +
			"distinct providers and --quorum defaults to a majority.",
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			gw, err := gatewayKey(gwFlag, gwFile)
			if err != nil {
				return err
			}
			if len(members) == 0 {
				return fmt.Errorf("give at least one --member RESERVATION")
			}
			s, ctx, cancel, err := g.signer(from)
			if err != nil {
				return err
			}
			defer cancel()
			sp := client.RepoSpec{Name: args[0], Mode: mode, Quorum: quorum, NoEncryption: noEnc, GatewayPubKey: gw}
			for _, res := range members {
				in, err := g.memberCredential(ctx, s, res)
				if err != nil {
					return err
				}
				sp.Members = append(sp.Members, in)
			}
			res, err := s.CreateRepo(ctx, sp)
			return g.printTxOut(res, err, txOut{})
		},
	}
	cmd.Flags().StringVar(&mode, "mode", repo.ModeMirror, "mirror (every object on every member) or normal (each member a folder)")
	cmd.Flags().StringArrayVar(&members, "member", nil, "a reservation of yours to make a member (repeat)")
	cmd.Flags().StringVar(&gwFlag, "gateway-key", "", "the gateway's X25519 public key (base64 or hex)")
	cmd.Flags().StringVar(&gwFile, "gateway-key-file", "", "file holding the gateway's public key")
	cmd.Flags().Uint32Var(&quorum, "quorum", 0, "mirror write quorum (default: a majority of the members)")
	cmd.Flags().BoolVar(&noEnc, "no-encryption", false, "store objects unencrypted (data meant to be public)")
	addFrom(cmd, &from)
	return cmd
}

func repoAddCmd(g *globals) *cobra.Command {
	return repoLeaf(g, "add NAME RESERVATION", "Add a member (in a mirror it joins as joining until synced)", 2,
		func(ctx context.Context, s *client.Signer, a []string) (*types.TxResult, error) {
			in, err := g.memberCredential(ctx, s, a[1])
			if err != nil {
				return nil, err
			}
			return s.AddRepoMember(ctx, a[0], in)
		})
}

func repoReplaceCmd(g *globals) *cobra.Command {
	return repoLeaf(g, "replace NAME OLD_RESERVATION NEW_RESERVATION", "Replace a member: the new one joins, the old one retires once the new one is synced", 3,
		func(ctx context.Context, s *client.Signer, a []string) (*types.TxResult, error) {
			in, err := g.memberCredential(ctx, s, a[2])
			if err != nil {
				return nil, err
			}
			return s.ReplaceRepoMember(ctx, a[0], a[1], in)
		})
}

// ownerFlags are --owner ADDR / --from KEY of the read commands.
type ownerFlags struct{ owner, from string }

func (o *ownerFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.owner, "owner", "", "owner address")
	cmd.Flags().StringVar(&o.from, "from", "", "owner's key name in the keyring (instead of --owner)")
}

func (o *ownerFlags) resolve(g *globals, required bool) (string, error) {
	if o.owner != "" {
		return o.owner, nil
	}
	if o.from != "" {
		kr, err := g.keyring()
		if err != nil {
			return "", err
		}
		k, err := kr.Show(o.from)
		if err != nil {
			return "", fmt.Errorf("key %q: %w", o.from, err)
		}
		return k.Address, nil
	}
	if required {
		return "", fmt.Errorf("give --owner ADDRESS or --from KEY")
	}
	return "", nil
}
