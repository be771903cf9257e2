package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/flashback-network/flashback/api/types"

	"github.com/flashback-network/flashback/contract/core"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/client"
)

// The market's tx commands: tx provider …, tx unit …, tx reserve,
// tx reservation …. Each signs with --from KEY and waits for the commit.

// marketTxCmds are added under `flashback tx`.
func marketTxCmds(g *globals) []*cobra.Command {
	return []*cobra.Command{providerTxCmd(g), unitTxCmd(g), reserveCmd(g), reservationTxCmd(g)}
}

// txOut is a tx result plus the id of what it created and the signer's
// balance moves read from its events.
type txOut struct {
	*types.TxResult
	Unit        string `json:"unit,omitempty"`
	Reservation string `json:"reservation,omitempty"`
	// DryRun: the result is a simulation; nothing was broadcast.
	DryRun bool          `json:"dry_run,omitempty"`
	Moves  []client.Move `json:"moves,omitempty"`
	// BalanceChange is the signer's balance change in uflash, signed
	// ("-1201000"): the sum of Moves.
	BalanceChange string `json:"balance_change,omitempty"`
}

// signer returns a Signer for the named key and a context bounding one tx
// (the caller cancels it).
func (g *globals) signer(from string) (*client.Signer, context.Context, context.CancelFunc, error) {
	priv, err := g.privKey(from)
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	return g.newSigner(priv), ctx, cancel, nil
}

// newSigner returns a Signer that simulates every tx before broadcasting
// it, so a tx that would fail (no capacity, price above the ceiling, term
// too long, funds short of cost plus fee, ...) is refused locally and costs
// no fee; with --dry-run it only simulates.
func (g *globals) newSigner(priv ed25519.PrivateKey) *client.Signer {
	s := g.client().Signer(priv)
	if g.dryRun {
		s.SetMode(client.DryRun)
	} else {
		s.SetMode(client.Precheck)
	}
	return s
}

// leaf builds a tx command with a required --from flag; run returns the
// message to send.
func leaf(g *globals, use, short string, args cobra.PositionalArgs, run func(cmd *cobra.Command, args []string) (core.Msg, error)) *cobra.Command {
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
// Reservation) and the signer's balance moves, and returns err explained.
// A failed tx's reason is left to the error, so it prints once.
func (g *globals) printTxOut(res *types.TxResult, err error, out txOut) error {
	if res == nil {
		return explain(err)
	}
	out.TxResult, out.DryRun = res, g.dryRun
	moves, merr := client.Moves(res)
	in, outAmt, nerr := client.NetChange(moves)
	if merr == nil && nerr == nil {
		out.Moves = moves
		out.BalanceChange = signedUflash(in, outAmt)
	}
	perr := g.print(out, func(w io.Writer) {
		switch {
		case out.DryRun:
			fmt.Fprintln(w, "dry run: the tx would succeed (nothing broadcast, no fee charged)")
		case res.Code == 0:
			fmt.Fprintf(w, "tx %s committed at height %d: %s\n", res.Hash, res.Height, res.CodeName)
		}
		if res.Code == 0 && out.Unit != "" {
			fmt.Fprintf(w, "unit: %s\n", out.Unit)
		}
		if res.Code == 0 && out.Reservation != "" {
			fmt.Fprintf(w, "reservation: %s (status %s)\n", out.Reservation, client.EventAttr(res, "reservation_created", "status"))
		}
		printMoves(w, out)
	})
	if err == nil {
		err = perr
	}
	return explain(err)
}

// printMoves writes one line per balance move and the net change; a dry
// run says "would".
func printMoves(w io.Writer, out txOut) {
	if len(out.Moves) == 0 {
		return
	}
	for _, m := range out.Moves {
		ref := ""
		if m.Ref != "" {
			ref = " for " + m.Ref
		}
		fmt.Fprintf(w, "  %-13s %s%s\n", m.What+":", amt(m.Amount), ref)
	}
	verb := "balance change:"
	if out.DryRun {
		verb = "would change balance by:"
	}
	in, outAmt, _ := client.NetChange(out.Moves)
	sign, a := "+", in-outAmt
	if in < outAmt {
		sign, a = "-", outAmt-in
	}
	fmt.Fprintf(w, "  %s %s%s uflash (%s%s)\n", verb, sign, a, sign, client.FormatAmount(a))
}

// signedUflash is in - out as a signed decimal string of uflash.
func signedUflash(in, out core.Amount) string {
	if in >= out {
		return strconv.FormatUint(uint64(in-out), 10)
	}
	return "-" + strconv.FormatUint(uint64(out-in), 10)
}
