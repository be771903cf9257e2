package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
)

func txCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "tx", Short: "Sign and submit transactions",
		Long: "Sign and submit transactions. Each tx is first simulated by the node: one that would fail\n" +
			"is refused locally, with nothing broadcast and no fee charged. --dry-run stops after the\n" +
			"simulation and prints what the tx would do."}
	cmd.PersistentFlags().BoolVar(&g.dryRun, "dry-run", false, "simulate through the node and print what would happen; nothing is broadcast, no fee is charged")
	cmd.SetFlagErrorFunc(flagError) // args.go
	bankCmd := &cobra.Command{Use: "bank", Short: "Token transfers"}
	var from string
	send := &cobra.Command{
		Use:   "send TO AMOUNT",
		Short: "Send tokens; AMOUNT is uflash (250000) or with a unit (1.5FLASH)",
		Args:  cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			if _, err := address.Parse(args[0]); err != nil {
				return err
			}
			amt, err := parsePositiveAmount(args[1])
			if err != nil {
				return err
			}
			return g.submit(from, &bank.MsgSend{To: args[0], Amount: amt})
		},
	}
	send.Flags().StringVar(&from, "from", "", "name of the signing key in the keyring (required)")
	_ = send.MarkFlagRequired("from")
	bankCmd.AddCommand(send)
	cmd.AddCommand(bankCmd)
	return cmd
}

// submit signs msgs with the named key, broadcasts them (after the
// simulation the signer runs) and prints the result and the moves.
func (g *globals) submit(from string, msgs ...core.Msg) error {
	s, ctx, cancel, err := g.signer(from)
	if err != nil {
		return err
	}
	defer cancel()
	res, err := s.Submit(ctx, msgs...)
	return g.printTxOut(res, err, txOut{})
}

func printTx(g *globals, r *types.TxResult) error {
	return g.print(r, func(w io.Writer) {
		fmt.Fprintf(w, "tx %s committed at height %d: %s\n", r.Hash, r.Height, r.CodeName)
		if r.Code != 0 {
			fmt.Fprintf(w, "  %s\n", r.Log)
		}
	})
}
