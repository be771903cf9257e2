package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/qos"
)

// qosQueryCmds are the QoS and stats queries: why a score moved, what the
// network holds, who reports.
func qosQueryCmds(g *globals) []*cobra.Command {
	return []*cobra.Command{qosStatsCmd(g), qosEpochsCmd(g), qosUnitCmd(g), qosScoreCmd(g), qosOraclesCmd(g)}
}

// epochRange holds the --from and --to epoch flags of a history query.
type epochRange struct{ from, to int64 }

func (r *epochRange) add(c *cobra.Command) {
	c.Flags().Int64Var(&r.from, "from", 0, "first epoch (default: the latest ones)")
	c.Flags().Int64Var(&r.to, "to", 0, "last epoch")
}

func qosStatsCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "stats", Short: "Network totals: capacity, reservations, escrow, payments, fees, slashes, rewards", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			ctx, cancel := ctx10()
			defer cancel()
			s, err := g.client().Stats(ctx)
			if err != nil {
				return explain(err)
			}
			return g.print(s, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintf(tw, "epoch\t%d (QoS final through %d)\n", s.Epoch, s.Frontier)
				fmt.Fprintf(tw, "as of\t%s\n", timeHuman(s.AsOf))
				fmt.Fprintf(tw, "providers / units / oracles\t%d / %d / %d active\n", s.Providers, s.Units, s.ActiveOracles)
				fmt.Fprintf(tw, "capacity offered / reserved / used\t%s / %s / %s\n", gib(s.CapacityOffered), gib(s.CapacityReserved), gib(s.CapacityUsed))
				fmt.Fprintf(tw, "live reservations\t%d\n", s.LiveReservations)
				for _, r := range []struct {
					k string
					v uint64
				}{{"escrowed", uint64(s.Escrowed)}, {"staked", uint64(s.Staked)}, {"paid to providers", uint64(s.Paid)}, {"platform fees", uint64(s.Fees)},
					{"slashed", uint64(s.Slashed)}, {"compensation", uint64(s.Compensation)}, {"oracle rewards", uint64(s.OracleRewards)},
					{"reputation rewards", uint64(s.Rewarded)}, {"reputation slashed", uint64(s.ReputationSlashed)}, {"rewards pool", uint64(s.RewardsPool)}} {
					fmt.Fprintf(tw, "%s\t%d uflash\n", r.k, r.v)
				}
				tw.Flush()
			})
		},
	}
}

func qosEpochsCmd(g *globals) *cobra.Command {
	var rng epochRange
	epochs := &cobra.Command{
		Use: "epochs", Short: "Per-epoch network series", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			ctx, cancel := ctx10()
			defer cancel()
			p, err := g.client().EpochStats(ctx, client.EpochRange{From: rng.from, To: rng.to})
			if err != nil {
				return explain(err)
			}
			return g.print(p, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "EPOCH\tTIME\tUNITS\tRESERVATIONS\tPAID\tSLASHED\tREPORTED\tCOMPLIANT\tBREACHED\tNO QUORUM")
				for _, e := range p.Epochs {
					fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%s\t%s\t%d\t%d\t%d\t%d\n", e.Epoch, timeHuman(e.Time), e.Units, e.LiveReservations, e.Paid, e.Slashed,
						e.QoS.Reported, e.QoS.Compliant, e.QoS.Breached, e.QoS.NoQuorum)
				}
				tw.Flush()
			})
		},
	}
	rng.add(epochs)
	return epochs
}

func qosUnitCmd(g *globals) *cobra.Command {
	var rng epochRange
	qos := &cobra.Command{
		Use: "qos UNIT", Short: "A unit's QoS: score, sub-metrics and per-epoch history", Args: idArgs(unitID),
		RunE: func(_ *cobra.Command, args []string) error {
			ctx, cancel := ctx10()
			defer cancel()
			v, err := g.client().UnitQoS(ctx, args[0], client.EpochRange{From: rng.from, To: rng.to})
			if err != nil {
				return explain(err)
			}
			return g.print(v, func(w io.Writer) {
				fmt.Fprintf(w, "unit %s (%s), provider %s, score %d, compliance %.2f%%\n", v.Unit, v.Status, v.Provider, v.Score, float64(v.ComplianceBps)/100)
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "EPOCH\tSTATUS\tREPORTERS\tOK/PROBES\tP95 MS\tDOWN MB/S\tUP MB/S\tUPTIME\tBREACHED\tSLASHED\tSCORE")
				for _, h := range v.History {
					fmt.Fprintf(tw, "%d\t%s\t%d\t%d/%d\t%d\t%d\t%d\t%.2f%%\t%v\t%s\t%d\n", h.Epoch, h.Status, h.Reporters, h.Successes, h.Probes,
						h.P95Ms, h.DownMbps, h.UpMbps, float64(h.UptimeBps)/100, h.Terms, h.Slashed, h.Score)
				}
				tw.Flush()
			})
		},
	}
	rng.add(qos)
	return qos
}

func qosScoreCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "score PROVIDER", Short: "A provider's score and its units' scores", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			ctx, cancel := ctx10()
			defer cancel()
			v, err := g.client().ProviderScore(ctx, args[0])
			if err != nil {
				return explain(err)
			}
			return g.print(v, func(w io.Writer) {
				fmt.Fprintf(w, "provider %s: score %d over %d units\n", v.Provider, v.Score, v.Units)
				for _, u := range v.PerUnit {
					fmt.Fprintf(w, "  %s\t%d\t%s suspended=%v\n", u.Unit, u.Score, u.Status, u.Suspended)
				}
			})
		},
	}
}

func qosOraclesCmd(g *globals) *cobra.Command {
	var all bool
	var cursor string
	oracles := &cobra.Command{
		Use: "oracles", Short: "QoS oracles", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			ctx, cancel := ctx10()
			defer cancel()
			p, err := g.client().Oracles(ctx, all, cursor)
			if err != nil {
				return explain(err)
			}
			return g.print(p, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ADDRESS\tSTAKE\tACTIVE\tREGISTERED")
				for _, o := range p.Oracles {
					fmt.Fprintf(tw, "%s\t%s\t%v\t%s\n", o.Address, o.Stake, o.Active, timeHuman(o.RegisteredAt))
				}
				tw.Flush()
				if p.NextCursor != "" {
					fmt.Fprintf(w, "more: --cursor %s\n", p.NextCursor)
				}
			})
		},
	}
	oracles.Flags().BoolVar(&all, "all", false, "include deregistered oracles")
	oracles.Flags().StringVar(&cursor, "cursor", "", "next_cursor of the previous page")
	return oracles
}

func gib(b uint64) string { return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30)) }

// oracleTxCmd is `tx oracle register|deregister|unjail`: bonding an oracle by hand
// (`flashback oracle --register` does the same before it starts probing).
func oracleTxCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "oracle", Short: "Register or retire a QoS oracle"}
	register := leaf(g, "register STAKE", "Register the signer as a QoS oracle, bonding STAKE (at least min_oracle_stake)", cobra.ExactArgs(1),
		func(_ *cobra.Command, args []string) (core.Msg, error) {
			a, err := parseAmountFlag("stake", args[0])
			if err != nil {
				return nil, err
			}
			return &qos.MsgRegisterOracle{Stake: a}, nil
		})
	deregister := leaf(g, "deregister", "Retire the signer's oracle: it stops reporting and its stake unbonds over unbonding_period", cobra.NoArgs,
		func(*cobra.Command, []string) (core.Msg, error) { return &qos.MsgDeregisterOracle{}, nil })
	unjail := leaf(g, "unjail", "Return the signer's jailed oracle to the assignment draw (after oracle_jail_epochs)", cobra.NoArgs,
		func(*cobra.Command, []string) (core.Msg, error) { return &qos.MsgUnjailOracle{}, nil })
	cmd.AddCommand(register, deregister, unjail)
	return cmd
}
