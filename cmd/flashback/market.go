package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/api"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract"
)

// The market's tx commands: tx provider …, tx unit …, tx reserve,
// tx reservation …. Each signs with --from KEY and waits for the commit.

// marketTxCmds are added under `flashback tx`.
func marketTxCmds(g *globals) []*cobra.Command {
	return []*cobra.Command{providerTxCmd(g), unitTxCmd(g), reserveCmd(g), reservationTxCmd(g)}
}

// txOut is a tx result plus the id of what it created.
type txOut struct {
	*api.TxResult
	Unit        string `json:"unit,omitempty"`
	Reservation string `json:"reservation,omitempty"`
}

// signer returns a Signer for the named key and a context bounding one tx
// (the caller cancels it).
func (g *globals) signer(from string) (*client.Signer, context.Context, context.CancelFunc, error) {
	priv, err := g.privKey(from)
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	return g.client().Signer(priv), ctx, cancel, nil
}

// leaf builds a tx command with a required --from flag; run returns the
// message to send.
func leaf(g *globals, use, short string, args cobra.PositionalArgs, run func(cmd *cobra.Command, args []string) (contract.Msg, error)) *cobra.Command {
	var from string
	cmd := &cobra.Command{
		Use: use, Short: short, Args: args,
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := run(cmd, args)
			if err != nil {
				return err
			}
			return g.submit(from, m)
		},
	}
	addFrom(cmd, &from)
	return cmd
}

func addFrom(cmd *cobra.Command, from *string) {
	cmd.Flags().StringVar(from, "from", "", "name of the signing key in the keyring (required)")
	_ = cmd.MarkFlagRequired("from")
}

// printTxOut prints a tx result with the id it created (out's Unit or
// Reservation) and returns err explained.
func (g *globals) printTxOut(res *api.TxResult, err error, out txOut) error {
	if res == nil {
		return explain(err)
	}
	out.TxResult = res
	perr := g.print(out, func(w io.Writer) {
		fmt.Fprintf(w, "tx %s committed at height %d: %s\n", res.Hash, res.Height, res.CodeName)
		if res.Code != 0 {
			fmt.Fprintf(w, "  %s\n", res.Log)
			return
		}
		if out.Unit != "" {
			fmt.Fprintf(w, "unit: %s\n", out.Unit)
		}
		if out.Reservation != "" {
			fmt.Fprintf(w, "reservation: %s (status %s, escrowed %s)\n", out.Reservation,
				client.EventAttr(res, "reservation_created", "status"), escrowText(client.EventAttr(res, "reservation_created", "escrow")))
		}
	})
	if err == nil {
		err = perr
	}
	return explain(err)
}

func escrowText(s string) string {
	a, err := contract.ParseAmount(s)
	if err != nil {
		return s
	}
	return amt(a)
}
