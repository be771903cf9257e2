package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/api"
	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/market"
)

// statementQuery is `flashback query statement RES`: the reservation's
// per-epoch statement as a table, JSON (-o json) or CSV (--csv, the same
// CSV as GET /v1/reservations/{id}/statement?format=csv).
func statementQuery(g *globals) *cobra.Command {
	var csvOut bool
	var page client.StatementPage
	cmd := &cobra.Command{
		Use:   "statement ID",
		Short: "A reservation's statement: storage paid, fee and refund per epoch, and totals that reconcile with its escrow",
		Long: "A reservation's statement: one line per epoch of its life so far with the storage charged\n" +
			"(provider revenue + fee), the fee and the storage not charged for breached epochs, then\n" +
			"totals: paid + refunded + escrow left = escrowed. Egress and compensation are known only as\n" +
			"totals. Without --from/--limit the whole life is fetched, page by page.",
		Args: idArgs(resID),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := ctx10()
			defer cancel()
			var st *types.Statement
			var err error
			if cmd.Flags().Changed("from") || cmd.Flags().Changed("limit") {
				st, err = g.client().Statement(ctx, args[0], page)
			} else {
				st, err = g.client().StatementAll(ctx, args[0])
			}
			if err != nil {
				return explain(err)
			}
			if csvOut {
				return api.WriteStatementCSV(g.out, st)
			}
			return g.print(st, func(w io.Writer) { printStatement(w, st) })
		},
	}
	cmd.Flags().BoolVar(&csvOut, "csv", false, "print CSV (a header line, the epoch lines, a totals line, notes)")
	cmd.Flags().Int64Var(&page.From, "from", 0, "first epoch (default: the reservation's first)")
	cmd.Flags().IntVar(&page.Limit, "limit", 0, fmt.Sprintf("epochs per page (default %d, at most %d)", market.DefaultStatementLines, market.MaxStatementLines))
	return cmd
}

func printStatement(w io.Writer, st *types.Statement) {
	tw := table(w)
	fmt.Fprintf(tw, "reservation:\t%s (%s)\n", st.Reservation, st.Status)
	fmt.Fprintf(tw, "period:\t%s to %s\n", timeHuman(st.Start), timeHuman(st.Through))
	fmt.Fprintln(tw, "EPOCH\tFROM\tBREACHED\tSTORAGE PAID\tFEE\tREFUND")
	for _, l := range st.Lines {
		fmt.Fprintf(tw, "%d\t%s\t%v\t%s\t%s\t%s\n", l.Epoch, timeHuman(l.From), l.Breached, amt(l.StoragePaid), amt(l.Fee), amt(l.Refund))
	}
	t := st.Totals
	fmt.Fprintf(tw, "total\t\t\t%s\t%s\t%s\n", amt(t.StoragePaid), amt(t.Fee), amt(t.Refund))
	fmt.Fprintf(tw, "egress paid:\t%s (+ fee %s)\n", amt(t.EgressPaid), amt(t.EgressFee))
	fmt.Fprintf(tw, "paid:\t%s\n", amt(t.Paid))
	fmt.Fprintf(tw, "refunded:\t%s\n", amt(t.Refunded))
	fmt.Fprintf(tw, "escrow left:\t%s\n", amt(t.EscrowLeft))
	fmt.Fprintf(tw, "escrowed:\t%s (= paid + refunded + escrow left)\n", amt(t.Escrowed))
	fmt.Fprintf(tw, "compensation:\t%s (owed %s)\n", amt(t.Compensation), amt(t.CompensationOwed))
	if st.NextFrom != 0 {
		fmt.Fprintf(tw, "more:\t--from %d\n", st.NextFrom)
	}
	tw.Flush()
	for _, n := range st.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

// providerStatementQuery is `flashback query provider-statement ADDRESS`:
// the provider's storage revenue per epoch, summed from its reservations'
// statements, and what its units paid out.
func providerStatementQuery(g *globals) *cobra.Command {
	var csvOut bool
	var page client.StatementPage
	cmd := &cobra.Command{
		Use:   "provider-statement ADDRESS",
		Short: "A provider's storage revenue per epoch (the sums of its reservations' statements) and what its units paid out",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := ctx10()
			defer cancel()
			var st *types.ProviderStatement
			var err error
			if cmd.Flags().Changed("from") || cmd.Flags().Changed("limit") {
				st, err = g.client().ProviderStatement(ctx, args[0], page)
			} else {
				st, err = g.client().ProviderStatementAll(ctx, args[0])
			}
			if err != nil {
				return explain(err)
			}
			if csvOut {
				return api.WriteProviderStatementCSV(g.out, st)
			}
			return g.print(st, func(w io.Writer) { printProviderStatement(w, st) })
		},
	}
	cmd.Flags().BoolVar(&csvOut, "csv", false, "print CSV (a header line, the epoch lines, a totals line, notes)")
	cmd.Flags().Int64Var(&page.From, "from", 0, "first epoch (default: the first of its reservations)")
	cmd.Flags().IntVar(&page.Limit, "limit", 0, fmt.Sprintf("epochs per page (at most %d)", market.MaxProviderStatementLines))
	return cmd
}

func printProviderStatement(w io.Writer, st *types.ProviderStatement) {
	tw := table(w)
	fmt.Fprintf(tw, "provider:\t%s (%d reservations)\n", st.Provider, st.Reservations)
	fmt.Fprintln(tw, "EPOCH\tSTORAGE PAID\tFEE\tREVENUE")
	for _, l := range st.Lines {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", l.Epoch, amt(l.StoragePaid), amt(l.Fee), amt(l.Revenue))
	}
	t := st.Totals
	fmt.Fprintf(tw, "total\t%s\t%s\t%s\n", amt(t.StoragePaid), amt(t.Fee), amt(t.Revenue))
	fmt.Fprintf(tw, "egress:\t%s (+ fee %s)\n", amt(t.EgressPaid), amt(t.EgressFee))
	fmt.Fprintf(tw, "claimed:\t%s (fee %s)\n", amt(t.Claimed), amt(t.ClaimedFee))
	fmt.Fprintf(tw, "claimable:\t%s\n", amt(t.Claimable))
	if st.NextFrom != 0 {
		fmt.Fprintf(tw, "more:\t--from %d\n", st.NextFrom)
	}
	tw.Flush()
	for _, n := range st.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}
