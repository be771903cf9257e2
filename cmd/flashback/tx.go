package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
)

func txCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "tx", Short: "Sign and submit transactions"}
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
			amt, err := client.ParseAmount(args[1])
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

// submit signs msgs with the named key, broadcasts and prints the result.
func (g *globals) submit(from string, msgs ...core.Msg) error {
	priv, err := g.privKey(from)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	res, err := g.client().Signer(priv).Submit(ctx, msgs...)
	if res != nil {
		perr := printTx(g, res)
		if err == nil {
			err = perr
		}
	}
	return explain(err)
}

func printTx(g *globals, r *types.TxResult) error {
	return g.print(r, func(w io.Writer) {
		fmt.Fprintf(w, "tx %s committed at height %d: %s\n", r.Hash, r.Height, r.CodeName)
		if r.Code != 0 {
			fmt.Fprintf(w, "  %s\n", r.Log)
		}
	})
}
