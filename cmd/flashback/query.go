package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/client"
)

func ctx10() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Second)
}

func queryCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "query", Aliases: []string{"q"}, Short: "Read chain state"}
	cmd.SetFlagErrorFunc(flagError) // args.go
	account := &cobra.Command{
		Use: "account ADDRESS", Short: "Balance and sequence of an account", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			ctx, cancel := ctx10()
			defer cancel()
			a, err := g.client().Account(ctx, args[0])
			if err != nil {
				return explain(err)
			}
			return g.print(a, func(w io.Writer) {
				fmt.Fprintf(w, "address:  %s\nbalance:  %s uflash (%s)\nsequence: %d\n", a.Address, a.Balance, client.FormatAmount(a.Balance), a.Sequence)
			})
		},
	}
	txq := &cobra.Command{
		Use: "tx HASH", Short: "Result of a committed tx", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			ctx, cancel := ctx10()
			defer cancel()
			r, err := g.client().Tx(ctx, args[0])
			if err != nil {
				return explain(err)
			}
			return printTx(g, r)
		},
	}
	params := paramsCmd(g) // query_params.go
	supply := &cobra.Command{
		Use: "supply", Short: "Total supply and pool balances", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			ctx, cancel := ctx10()
			defer cancel()
			s, err := g.client().Supply(ctx)
			if err != nil {
				return explain(err)
			}
			return g.print(s, func(w io.Writer) {
				fmt.Fprintf(w, "supply: %s uflash\n", s.Supply)
				names := make([]string, 0, len(s.Pools))
				for name := range s.Pools {
					names = append(names, name)
				}
				sort.Strings(names)
				for _, name := range names {
					fmt.Fprintf(w, "  pool %-10s %s uflash\n", name, s.Pools[name])
				}
			})
		},
	}
	cmd.AddCommand(account, txq, params, supply)
	return cmd
}

func statusCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "status", Short: "Chain id, height and app hash of the node", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			ctx, cancel := ctx10()
			defer cancel()
			s, err := g.client().Status(ctx)
			if err != nil {
				return explain(err)
			}
			return g.print(s, func(w io.Writer) {
				fmt.Fprintf(w, "chain_id:    %s\nheight:      %d\napp_hash:    %s\nblock_time:  %s\ncatching_up: %v\n",
					s.ChainID, s.Height, s.AppHash, s.LatestBlockTime.Format(time.RFC3339), s.CatchingUp)
			})
		},
	}
}
