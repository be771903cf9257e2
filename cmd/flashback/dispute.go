package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/dispute"
	"github.com/flashback-network/flashback/oracle"
	"github.com/flashback-network/flashback/receipt"
)

func disputeCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "dispute", Short: "Open, follow and judge disputes (lost data, outages, egress bills)"}
	cmd.AddCommand(disputeOpenCmd(g), disputeShowCmd(g), disputeLsCmd(g), disputeAccountCmd(g),
		disputeVerdictCmd(g), disputePolicyCmd(g), disputeWatchCmd(g))
	return cmd
}

type disputeOpenFlags struct {
	from, kind, key, receiptFile, deposit, epochs, egress string
	epoch                                                 int64
}

func disputeOpenCmd(g *globals) *cobra.Command {
	var fl disputeOpenFlags
	cmd := &cobra.Command{
		Use:   "open RESERVATION",
		Short: "Open a dispute on one of your reservations, with a deposit",
		Long: `Open a dispute on one of your reservations. The deposit (default: the
chain's dispute_deposit) comes back unless the oracles reject the dispute.

  --kind data_loss --key KEY     the object the bridge lost or changed; the receipt
                                 comes from HOME/receipts/RES.jsonl (the last receipt
                                 of KEY) or from --receipt FILE (the encoded receipt
                                 or a journal line)
  --kind unavailable --epochs 3,4  epochs you could not reach your data
  --kind egress --epoch N --egress SIZE  your own egress count for epoch N

The oracles assigned to the unit re-check through a read key made for the
dispute (dropped when it closes); follow it with 'flashback dispute show ID'.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error { return runDisputeOpen(g, args[0], &fl) },
	}
	f := cmd.Flags()
	addFrom(cmd, &fl.from)
	f.StringVar(&fl.kind, "kind", dispute.KindDataLoss, "data_loss, unavailable or egress")
	f.StringVar(&fl.key, "key", "", "data_loss: the object's key")
	f.StringVar(&fl.receiptFile, "receipt", "", "data_loss: a file holding the receipt (instead of the journal)")
	f.StringVar(&g.journalDir, "journal", "", "data_loss: the receipt journal directory to read (default HOME/receipts; a gateway's: STATE_DIR/receipts)")
	f.StringVar(&fl.deposit, "deposit", "", "deposit (default: the chain's dispute_deposit), e.g. 10FLASH")
	f.StringVar(&fl.epochs, "epochs", "", "unavailable: comma-separated epochs")
	f.Int64Var(&fl.epoch, "epoch", 0, "egress: the epoch")
	f.StringVar(&fl.egress, "egress", "", "egress: your egress count for the epoch, e.g. 1GiB")
	return cmd
}

func runDisputeOpen(g *globals, res string, fl *disputeOpenFlags) error {
	req := client.OpenDisputeRequest{Reservation: res, Kind: fl.kind}
	var err error
	if fl.deposit != "" {
		if req.Deposit, err = parseAmountFlag("deposit", fl.deposit); err != nil {
			return err
		}
	}
	switch fl.kind {
	case dispute.KindDataLoss:
		if req.Receipt, err = g.disputeReceipt(res, fl.key, fl.receiptFile); err != nil {
			return err
		}
	case dispute.KindUnavailable:
		for _, s := range strings.Split(fl.epochs, ",") {
			e, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			if err != nil {
				return fmt.Errorf("--epochs %q: want comma-separated epoch numbers", fl.epochs)
			}
			req.Epochs = append(req.Epochs, e)
		}
	case dispute.KindEgress:
		n, err := parseSize("egress", fl.egress)
		if err != nil {
			return err
		}
		req.Epoch, req.EgressBytes = fl.epoch, uint64(n)
	default:
		return fmt.Errorf("--kind %q: want data_loss, unavailable or egress", fl.kind)
	}
	s, ctx, cancel, err := g.signer(fl.from)
	if err != nil {
		return err
	}
	defer cancel()
	out, err := s.OpenDispute(ctx, req)
	if err != nil {
		return explain(err)
	}
	return g.print(out, func(w io.Writer) {
		fmt.Fprintf(w, "dispute %s opened in tx %s at height %d\n", out.ID, out.Tx.Hash, out.Tx.Height)
		if len(out.Oracles) > 0 {
			fmt.Fprintf(w, "panel: %s (read key %s)\n", strings.Join(out.Oracles, ", "), out.AccessKeyID)
		}
		fmt.Fprintf(w, "follow it with: flashback dispute show %s\n", out.ID)
	})
}

// disputeReceipt is the receipt of key from the reservation's journal (the
// last valid line for key, which must be a write), or from file.
func (g *globals) disputeReceipt(res, key, file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		s := strings.TrimSpace(string(b))
		var jl journalLine
		if strings.HasPrefix(s, "{") {
			if err := json.Unmarshal([]byte(s), &jl); err != nil {
				return "", fmt.Errorf("%s: not a journal line: %w", file, err)
			}
			s = jl.Encoded
		}
		if _, err := receipt.Decode(s); err != nil {
			return "", fmt.Errorf("%s: %w", file, err)
		}
		return s, nil
	}
	if key == "" {
		return "", fmt.Errorf("a data_loss dispute needs --key KEY (its receipt is taken from the journal) or --receipt FILE")
	}
	rows, err := g.readJournal(res, key)
	if err != nil {
		return "", err
	}
	var last *receiptRow
	for i := range rows {
		if rows[i].Valid && rows[i].Key == key {
			last = &rows[i]
		}
	}
	switch {
	case last == nil:
		return "", fmt.Errorf("no valid receipt for %q in the journal of %s (flashback receipts ls %s)", key, res, res)
	case last.Op != receipt.OpPut:
		return "", fmt.Errorf("the last receipt of %q in %s's journal is a %s: you removed it", key, res, last.Op)
	}
	return last.Encoded, nil
}

func disputeShowCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "show ID", Short: "Show a dispute, its panel and verdicts", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			d, err := g.client().Dispute(ctx, args[0])
			if err != nil {
				return explain(err)
			}
			return g.print(d, func(w io.Writer) { printDispute(w, d) })
		},
	}
}

func printDispute(w io.Writer, d *types.Dispute) {
	fmt.Fprintf(w, "%s  %s on %s (unit %s, provider %s)\n", d.ID, d.Kind, d.Reservation, d.Unit, d.Provider)
	fmt.Fprintf(w, "status %s, deposit %s, opened %s, deadline %s\n", d.Status, amt(d.Deposit), d.OpenedAt, d.Deadline)
	switch d.Kind {
	case dispute.KindDataLoss:
		fmt.Fprintf(w, "object %s (%d bytes, sha256 %s)\n", d.Key, d.Size, d.ContentHash)
	case dispute.KindUnavailable:
		fmt.Fprintf(w, "epochs %s\n", client.FormatEpochs(d.Epochs))
	case dispute.KindEgress:
		fmt.Fprintf(w, "epoch %d: consumer counts %d bytes, the report %d\n", d.EgressEpoch, d.ClaimedEgress, d.ReportedEgress)
	}
	for _, s := range d.Panel {
		v := s.Verdict
		if v == "" {
			v = "(waiting)"
		}
		fmt.Fprintf(w, "  oracle %s: %s %s\n", s.Oracle, v, s.Observed)
	}
	if d.Status != dispute.StatusOpen {
		fmt.Fprintf(w, "slashed %s, egress refund %s, deposit to %s, closed %s\n", amt(d.Slashed), amt(d.EgressRefund), d.DepositTo, d.ClosedAt)
	}
}

func disputeLsCmd(g *globals) *cobra.Command {
	var f client.DisputeFilter
	cmd := &cobra.Command{
		Use: "ls", Short: "List disputes (by reservation, consumer or provider; by status)", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			page, err := g.client().Disputes(ctx, f)
			if err != nil {
				return explain(err)
			}
			return g.print(page, func(w io.Writer) {
				fmt.Fprintf(w, "%-8s  %-12s  %-10s  %-9s  %s\n", "ID", "KIND", "RES", "STATUS", "CONSUMER")
				for _, d := range page.Disputes {
					fmt.Fprintf(w, "%-8s  %-12s  %-10s  %-9s  %s\n", d.ID, d.Kind, d.Reservation, d.Status, d.Consumer)
				}
				if page.NextCursor != "" {
					fmt.Fprintf(w, "more: --cursor %s\n", page.NextCursor)
				}
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.Reservation, "reservation", "", "only this reservation's disputes")
	fl.StringVar(&f.Consumer, "consumer", "", "only this consumer's disputes")
	fl.StringVar(&f.Provider, "provider", "", "only disputes against this provider")
	fl.StringVar(&f.Status, "status", "", "open, upheld, rejected or undecided")
	fl.IntVar(&f.Limit, "limit", 0, "page size (at most 100)")
	fl.StringVar(&f.Cursor, "cursor", "", "next_cursor of the previous page")
	return cmd
}

func disputeAccountCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "account ADDRESS", Short: "An account's dispute counts as consumer and as provider", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			a, err := g.client().DisputeAccount(ctx, args[0])
			if err != nil {
				return explain(err)
			}
			return g.print(a, func(w io.Writer) {
				c, p := a.Consumer, a.Provider
				fmt.Fprintf(w, "%s\nas consumer: %d opened, %d open, %d upheld, %d rejected, %d undecided\n", a.Address, c.Opened, c.Open, c.Upheld, c.Rejected, c.Undecided)
				fmt.Fprintf(w, "as provider: %d against, %d open, %d upheld, %d rejected, %d undecided\n", p.Against, p.Open, p.Upheld, p.Rejected, p.Undecided)
			})
		},
	}
}

func disputeVerdictCmd(g *globals) *cobra.Command {
	var verdict, observed string
	cmd := leaf(g, "verdict ID", "Give the signing oracle's verdict on a dispute (the oracle daemon does this itself)", cobra.ExactArgs(1),
		func(_ *cobra.Command, args []string) (core.Msg, error) {
			return &dispute.MsgVerdict{Dispute: args[0], Verdict: verdict, Observed: observed}, nil
		})
	cmd.Flags().StringVar(&verdict, "verdict", "", "upheld, rejected or cannot_tell")
	cmd.Flags().StringVar(&observed, "observed", "", "what you saw (sha256:<hex>, 404, ...)")
	return cmd
}

func disputePolicyCmd(g *globals) *cobra.Command {
	var max uint64
	cmd := leaf(g, "policy UNIT", "Refuse new reservations on your unit from consumers with this many disputes not upheld (0: no one)", cobra.ExactArgs(1),
		func(_ *cobra.Command, args []string) (core.Msg, error) {
			return &dispute.MsgUnitPolicy{Unit: args[0], MaxConsumerDisputes: max}, nil
		})
	cmd.Flags().Uint64Var(&max, "max-consumer-disputes", 0, "disputes not upheld (rejected, undecided, open) that bar a consumer (0: none)")
	return cmd
}

// disputeWatchCmd runs only the oracle's dispute checks (`flashback oracle`
// runs them beside its probes).
func disputeWatchCmd(g *globals) *cobra.Command {
	var from string
	var interval time.Duration
	cmd := &cobra.Command{
		Use: "watch", Short: "As an oracle, re-check the disputes you are assigned and give verdicts", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			priv, err := g.privKey(from)
			if err != nil {
				return err
			}
			c := g.client()
			w, err := oracle.NewDisputes(c, c.Signer(priv), priv)
			if err != nil {
				return err
			}
			w.Interval = interval
			w.Log = func(format string, args ...any) { fmt.Fprintf(os.Stderr, "oracle: "+format+"\n", args...) }
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			w.Run(ctx)
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "oracle", "keyring key of the oracle")
	cmd.Flags().DurationVar(&interval, "interval", time.Second, "how often to look for disputes")
	return cmd
}

// startOracleDisputes runs the oracle's dispute checks beside its probes
// until ctx ends.
func startOracleDisputes(ctx context.Context, g *globals, d *oracle.Daemon, from string) error {
	priv, err := g.privKey(from)
	if err != nil {
		return err
	}
	return watchDisputes(ctx, d, priv)
}

// watchDisputes starts the dispute checks of daemon d (signing key priv)
// in the background until ctx ends.
func watchDisputes(ctx context.Context, d *oracle.Daemon, priv ed25519.PrivateKey) error {
	w, err := oracle.NewDisputes(d.Client, d.Signer, priv)
	if err != nil {
		return err
	}
	w.Log, w.Probe = d.Log, d.ProbeUnit
	go w.Run(ctx)
	return nil
}
