package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/accesskey"
	"github.com/spf13/cobra"
)

// accessKeyTxCmd is `flashback tx accesskey create|revoke`.
func accessKeyTxCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "accesskey", Short: "S3 access keys for your reservations"}
	var from, perm string
	create := &cobra.Command{
		Use:   "create RESERVATION",
		Short: "Create an S3 key pair; only the secret sealed to the provider's bridge goes on chain; the secret is printed once",
		Args:  idArgs(resID),
		RunE: func(_ *cobra.Command, args []string) error {
			priv, err := g.privKey(from)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			k, err := g.newSigner(priv).CreateAccessKey(ctx, args[0], perm)
			if err != nil {
				return explain(err)
			}
			if g.dryRun {
				return g.printTxOut(k.Tx, nil, txOut{})
			}
			out := createdKeyOut{CreatedKey: k}
			out.StoredIn, out.NotStored, err = g.storeCreatedKey(k)
			if err != nil {
				// The secret would be lost: show it.
				return fmt.Errorf("store the new access key %s (secret %s) for %s: %w", k.AccessKeyID, k.Secret, k.Reservation, err)
			}
			return g.print(out, func(w io.Writer) {
				fmt.Fprintf(w, "access key for %s (%s), committed at height %d\n", k.Reservation, k.Perm, k.Tx.Height)
				fmt.Fprintf(w, "  AWS_ACCESS_KEY_ID=%s\n  AWS_SECRET_ACCESS_KEY=%s\n  AWS_ENDPOINT_URL=%s\n  bucket: %s\n", k.AccessKeyID, k.Secret, k.Endpoint, k.Reservation)
				if out.StoredIn != "" {
					fmt.Fprintf(w, "Stored in %s: `flashback cp/ls/sync` on fb://%s/ use it.\n", out.StoredIn, k.Reservation)
				} else {
					fmt.Fprintf(w, "Not stored: %s.\nThe secret is shown only now; store it safely.\n", out.NotStored)
				}
			})
		},
	}
	create.Flags().StringVar(&from, "from", "", "the reservation's consumer key (required)")
	create.Flags().StringVar(&perm, "perm", accesskey.PermWrite, "read, write or admin")
	_ = create.MarkFlagRequired("from")

	var revokeFrom string
	revoke := &cobra.Command{
		Use:   "revoke ACCESS_KEY_ID",
		Short: "Revoke a key; the bridge refuses it from the next block",
		Args:  idArgs(accessKeyID),
		RunE: func(_ *cobra.Command, args []string) error {
			return g.submit(revokeFrom, &accesskey.MsgRevokeAccessKey{ID: args[0]})
		},
	}
	revoke.Flags().StringVar(&revokeFrom, "from", "", "the key owner's key (required)")
	_ = revoke.MarkFlagRequired("from")
	cmd.AddCommand(create, revoke)
	return cmd
}

// createdKeyOut is what `tx accesskey create` prints: the key, and where
// it was stored for the consumer commands (or why not).
type createdKeyOut struct {
	*client.CreatedKey
	StoredIn  string `json:"stored_in,omitempty"`
	NotStored string `json:"not_stored,omitempty"`
}

// storeCreatedKey keeps a new key in HOME/s3keys.json as its
// reservation's key, unless the stored one can do more (a read key made
// for a friend must not take the place of the owner's write key).
func (g *globals) storeCreatedKey(k *client.CreatedKey) (storedIn, notStored string, err error) {
	keys, err := g.loadS3Keys()
	if err != nil {
		return "", "", err
	}
	if old, ok := keys[k.Reservation]; ok && !permCovers(k.Perm, old.Perm) {
		return "", fmt.Sprintf("the stored %s key %s of %s can do more than this %s key", permName(old.Perm), old.AccessKeyID, k.Reservation, k.Perm), nil
	}
	if err := g.saveS3Key(k.Reservation, storedFromCreated(k)); err != nil {
		return "", "", err
	}
	return g.s3KeysPath(), "", nil
}

// accessKeyQueryCmd is `flashback query accesskeys --reservation ID | --provider ADDR`.
func accessKeyQueryCmd(g *globals) *cobra.Command {
	var res, prov, cursor string
	cmd := &cobra.Command{
		Use:   "accesskeys",
		Short: "List access keys of a reservation or a provider (secrets are never shown)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			ctx, cancel := ctx10()
			defer cancel()
			if err := normFlag(resID, &res); err != nil {
				return err
			}
			page, err := g.client().AccessKeys(ctx, res, prov, cursor)
			if err != nil {
				return explain(err)
			}
			return g.print(page, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ACCESS KEY ID\tRESERVATION\tPERM\tCREATED")
				for _, k := range page.AccessKeys {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.ID, k.Reservation, k.Perm, timeHuman(k.CreatedAt))
				}
				tw.Flush()
				if page.NextCursor != "" {
					fmt.Fprintf(w, "more: --cursor %s\n", page.NextCursor)
				}
			})
		},
	}
	cmd.Flags().StringVar(&res, "reservation", "", "reservation id")
	cmd.Flags().StringVar(&prov, "provider", "", "provider address")
	cmd.Flags().StringVar(&cursor, "cursor", "", "next_cursor from the previous page")
	return cmd
}
