package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/accesskey"
)

func repoLsCmd(g *globals) *cobra.Command {
	var o ownerFlags
	var gw, status, cursor string
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List repositories (yours with --from or --owner; those a gateway serves with --gateway-key)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			owner, err := o.resolve(g, false)
			if err != nil {
				return err
			}
			f := client.RepoFilter{Owner: owner, Status: status, Page: client.Page{Cursor: cursor}}
			if gw != "" {
				if f.Gateway, err = gatewayKey(gw, ""); err != nil {
					return err
				}
			}
			ctx, cancel := ctx10()
			defer cancel()
			page, err := g.client().Repos(ctx, f)
			if err != nil {
				return explain(err)
			}
			return g.print(page, func(w io.Writer) {
				tw := table(w)
				fmt.Fprintln(tw, "NAME\tOWNER\tMODE\tMEMBERS\tQUORUM\tENCRYPTED\tSTATUS")
				for _, r := range page.Repos {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%t\t%s\n", r.Name, r.Owner, r.Mode, len(r.Members), quorumText(&r), r.Encrypted, r.Status)
				}
				tw.Flush()
				if page.NextCursor != "" {
					fmt.Fprintf(w, "more: --cursor %s\n", page.NextCursor)
				}
			})
		},
	}
	o.add(cmd)
	cmd.Flags().StringVar(&gw, "gateway-key", "", "only repositories served by this gateway key (base64 or hex)")
	cmd.Flags().StringVar(&status, "status", "", "only ok or degraded repositories")
	cmd.Flags().StringVar(&cursor, "cursor", "", "next page (from a previous listing)")
	return cmd
}

func quorumText(r *types.Repo) string {
	if r.WriteQuorum == 0 {
		return "-"
	}
	return fmt.Sprintf("%d of %d", r.WriteQuorum, len(r.Members))
}

// liveText is the gateway's live figures for a member, or "-" when the
// chain view has none (they come from the gateway, not the chain).
func liveText(m *types.RepoMember) string {
	if m.Live == nil {
		return "-"
	}
	s := fmt.Sprintf("%d objects, %s, behind by %d", m.Live.Objects, bytesHuman(m.Live.Bytes), m.Live.BehindBy)
	if !m.Live.LastFullScan.IsZero() {
		s += ", scanned " + timeHuman(m.Live.LastFullScan)
	}
	if m.Live.LastError != "" {
		s += ", last error: " + m.Live.LastError
	}
	return s
}

func repoStatusCmd(g *globals) *cobra.Command {
	var o ownerFlags
	var admin string
	cmd := &cobra.Command{
		Use:   "status NAME",
		Short: "Show a repository's members: reservation, provider, state and health (and live repair figures with --gateway-admin)",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			owner, err := o.resolve(g, true)
			if err != nil {
				return err
			}
			ctx, cancel := ctx10()
			defer cancel()
			r, err := g.client().Repo(ctx, owner, args[0])
			if err != nil {
				return explain(err)
			}
			// The chain has no live figures (objects, bytes, behind-by, last
			// error, last full scan): the gateway's repair loop has them.
			if admin != "" {
				if err := fillLive(ctx, admin, r); err != nil {
					return fmt.Errorf("live figures from the gateway: %w", err)
				}
			}
			return g.print(r, func(w io.Writer) { printRepoStatus(w, r) })
		},
	}
	o.add(cmd)
	cmd.Flags().StringVar(&admin, "gateway-admin", "", "the gateway's admin URL (its admin_listen), e.g. http://127.0.0.1:9301: adds the live per-member figures")
	return cmd
}

func printRepoStatus(w io.Writer, r *types.Repo) {
	fmt.Fprintf(w, "repository %s (%s, owner %s)\n", r.Name, r.Mode, r.Owner)
	fmt.Fprintf(w, "  status: %s", r.Status)
	if r.StatusReason != "" {
		fmt.Fprintf(w, ": %s", r.StatusReason)
	}
	fmt.Fprintf(w, "\n  write quorum: %s, encrypted: %t, healthy members: %d\n", quorumText(r), r.Encrypted, r.HealthyMembers)
	tw := table(w)
	fmt.Fprintln(tw, "RESERVATION\tUNIT\tPROVIDER\tSTATE\tHEALTH\tLIVE")
	for i := range r.Members {
		m := &r.Members[i]
		health := m.Health
		if m.HealthReason != "" {
			health += " (" + m.HealthReason + ")"
		}
		state := m.State
		if m.Replaces != "" {
			state += " (replaces " + m.Replaces + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.Reservation, m.Unit, m.Provider, state, health, liveText(m))
	}
	tw.Flush()
}

func repoKeysCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "S3 keys of a repository's gateway bucket"}
	var from, perm string
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a key; the secret is sealed to the gateway key on chain and printed once here",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			s, ctx, cancel, err := g.signer(from)
			if err != nil {
				return err
			}
			defer cancel()
			k, err := s.CreateRepoKey(ctx, args[0], perm)
			if err != nil {
				return explain(err)
			}
			return g.print(k, func(w io.Writer) {
				fmt.Fprintf(w, "repo key for %s (%s), committed at height %d\n", k.Repo, k.Perm, k.Tx.Height)
				fmt.Fprintf(w, "  AWS_ACCESS_KEY_ID=%s\n  AWS_SECRET_ACCESS_KEY=%s\n  bucket: %s\n", k.ID, k.Secret, k.Repo)
				fmt.Fprintln(w, "The secret is shown only now; store it safely. Use it against your gateway, not a bridge.")
			})
		},
	}
	create.Flags().StringVar(&perm, "perm", accesskey.PermWrite, "read, write or admin")
	addFrom(create, &from)

	var o ownerFlags
	var cursor string
	ls := &cobra.Command{
		Use:   "ls [NAME]",
		Short: "List repo keys (secrets are never shown)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			owner, err := o.resolve(g, true)
			if err != nil {
				return err
			}
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			ctx, cancel := ctx10()
			defer cancel()
			page, err := g.client().RepoKeys(ctx, owner, name, client.Page{Cursor: cursor})
			if err != nil {
				return explain(err)
			}
			return g.print(page, func(w io.Writer) {
				tw := table(w)
				fmt.Fprintln(tw, "ID\tREPO\tPERM\tCREATED")
				for _, k := range page.Keys {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.ID, k.Repo, k.Perm, timeHuman(k.CreatedAt))
				}
				tw.Flush()
				if page.NextCursor != "" {
					fmt.Fprintf(w, "more: --cursor %s\n", page.NextCursor)
				}
			})
		},
	}
	o.add(ls)
	ls.Flags().StringVar(&cursor, "cursor", "", "next page (from a previous listing)")

	revoke := repoLeaf(g, "revoke ID", "Revoke a repo key; the gateway refuses it from the next block", 1,
		func(ctx context.Context, s *client.Signer, a []string) (*types.TxResult, error) {
			return s.RevokeRepoKey(ctx, a[0])
		})
	cmd.AddCommand(create, ls, revoke)
	return cmd
}
