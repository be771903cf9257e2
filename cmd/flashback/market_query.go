package main

import (
	"encoding/base64"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/market"
)

// marketQueryCmds are added under `flashback query`.
func marketQueryCmds(g *globals) []*cobra.Command {
	return []*cobra.Command{providersQuery(g), providerQuery(g), unitsQuery(g), unitQuery(g),
		reservationsQuery(g), reservationQuery(g), quoteQuery(g), statementQuery(g), providerStatementQuery(g)}
}

func pageFlags(cmd *cobra.Command, p *client.Page) {
	cmd.Flags().IntVar(&p.Limit, "limit", 0, fmt.Sprintf("page size (default %d, at most %d)", market.DefaultPageSize, market.MaxPageSize))
	cmd.Flags().StringVar(&p.Cursor, "cursor", "", "next page: the cursor the previous page printed")
}

func providersQuery(g *globals) *cobra.Command {
	var o client.ProviderOptions
	cmd := &cobra.Command{
		Use: "providers", Short: "List storage providers", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			ctx, cancel := ctx10()
			defer cancel()
			p, err := g.client().Providers(ctx, o)
			if err != nil {
				return explain(err)
			}
			return g.print(p, func(w io.Writer) {
				tw := table(w)
				fmt.Fprintln(tw, "ADDRESS\tNAME\tSTAKE\tUNITS\tSCORE\tENDPOINT")
				for _, v := range p.Providers {
					name := v.Name
					if v.Deregistered {
						name += " (deregistered)"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\n", v.Address, name, amtShort(v.Stake), v.LiveUnits, v.Score, v.Endpoint)
				}
				tw.Flush()
				nextPage(w, p.NextCursor)
			})
		},
	}
	pageFlags(cmd, &o.Page)
	cmd.Flags().BoolVar(&o.All, "all", false, "include deregistered providers")
	return cmd
}

func providerQuery(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "provider ADDRESS", Short: "A provider's details, stake and unbonding", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			ctx, cancel := ctx10()
			defer cancel()
			p, err := g.client().Provider(ctx, args[0])
			if err != nil {
				return explain(err)
			}
			return g.print(p, func(w io.Writer) {
				tw := table(w)
				fmt.Fprintf(tw, "address:\t%s\n", p.Address)
				fmt.Fprintf(tw, "name:\t%s\n", p.Name)
				fmt.Fprintf(tw, "description:\t%s\n", p.Description)
				fmt.Fprintf(tw, "website:\t%s\n", p.Website)
				fmt.Fprintf(tw, "bridge endpoint:\t%s\n", p.Endpoint)
				fmt.Fprintf(tw, "bridge key:\t%s\n", base64.StdEncoding.EncodeToString(p.BridgePubKey))
				fmt.Fprintf(tw, "stake:\t%s\n", amt(p.Stake))
				fmt.Fprintf(tw, "unbonding:\t%s\n", amt(p.UnbondingTotal))
				for _, e := range p.Unbonding {
					fmt.Fprintf(tw, "\t  %s released at %s\n", amt(e.Amount), timeHuman(e.ReleaseAt))
				}
				fmt.Fprintf(tw, "live units:\t%d\n", p.LiveUnits)
				fmt.Fprintf(tw, "score:\t%d\n", p.Score)
				fmt.Fprintf(tw, "deregistered:\t%s\n", yesNo(p.Deregistered))
				fmt.Fprintf(tw, "registered:\t%s\n", timeHuman(p.RegisteredAt))
				tw.Flush()
			})
		},
	}
}

func unitsQuery(g *globals) *cobra.Command {
	var f client.UnitFilter
	var minFree, maxPrice string
	var minScore uint32
	cmd := &cobra.Command{
		Use: "units", Short: "Find data units: filter by place, kind, free capacity, price, score", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if minFree != "" {
				if f.MinFree, err = parseSize("min-free", minFree); err != nil {
					return err
				}
			}
			if maxPrice != "" {
				p, err := parseAmountFlag("max-price", maxPrice)
				if err != nil {
					return err
				}
				f.MaxPrice = &p
			}
			f.MinScore = minScore
			ctx, cancel := ctx10()
			defer cancel()
			p, err := g.client().Units(ctx, f)
			if err != nil {
				return explain(err)
			}
			return g.print(p, func(w io.Writer) {
				tw := table(w)
				fmt.Fprintln(tw, "ID\tKIND\tREGION\tCOUNTRY\tFREE\tCAPACITY\tPRICE uflash/GiB-month\tEGRESS uflash/GiB\tSCORE\tSTATUS\tPROVIDER")
				for _, u := range p.Units {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", u.ID, u.Kind, u.Region, u.Country,
						bytesHuman(u.FreeBytes), bytesHuman(u.Capacity), amtShort(u.StoragePrice), amtShort(u.EgressPrice), u.Score, unitStatus(u), u.Provider)
				}
				tw.Flush()
				nextPage(w, p.NextCursor)
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.Region, "region", "", "only this region")
	fl.StringVar(&f.Country, "country", "", "only this country (ISO 3166 alpha-2)")
	fl.StringVar(&f.Kind, "kind", "", "only this kind: s3, azure-blob, gcs, local, function")
	fl.StringVar(&f.Status, "status", "", "only this status: available, maintenance, decommissioning, deleted (default: all but deleted)")
	fl.StringVar(&f.Provider, "provider", "", "only this provider's units (address)")
	fl.StringVar(&minFree, "min-free", "", "minimum free capacity (10GiB)")
	fl.StringVar(&maxPrice, "max-price", "", "maximum storage price per GiB-month (uflash or 1.5FLASH)")
	fl.Uint32Var(&minScore, "min-score", 0, "minimum score (0-100)")
	fl.StringVar(&f.Sort, "sort", "", "order: id (default), price (cheapest first) or score (best first)")
	pageFlags(cmd, &f.Page)
	return cmd
}

func unitQuery(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "unit ID", Short: "A data unit: terms, SLA, capacity, revenue", Args: idArgs(unitID),
		RunE: func(_ *cobra.Command, args []string) error {
			ctx, cancel := ctx10()
			defer cancel()
			u, err := g.client().Unit(ctx, args[0])
			if err != nil {
				return explain(err)
			}
			return g.print(u, func(w io.Writer) {
				tw := table(w)
				fmt.Fprintf(tw, "id:\t%s\n", u.ID)
				fmt.Fprintf(tw, "provider:\t%s\n", u.Provider)
				fmt.Fprintf(tw, "kind:\t%s\n", u.Kind)
				fmt.Fprintf(tw, "region:\t%s (%s)\n", u.Region, u.Country)
				fmt.Fprintf(tw, "status:\t%s\n", unitStatus(*u))
				if m := u.Maintenance; m != nil {
					fmt.Fprintf(tw, "maintenance:\t%s to %s\n", timeHuman(m.Start), timeHuman(m.End))
				}
				fmt.Fprintf(tw, "capacity:\t%s (%d bytes)\n", bytesHuman(u.Capacity), u.Capacity)
				fmt.Fprintf(tw, "reserved:\t%s\n", bytesHuman(u.Reserved))
				fmt.Fprintf(tw, "free:\t%s\n", bytesHuman(u.FreeBytes))
				fmt.Fprintf(tw, "used:\t%s\n", bytesHuman(u.Used))
				fmt.Fprintf(tw, "storage price:\t%s per GiB-month\n", amt(u.StoragePrice))
				fmt.Fprintf(tw, "egress price:\t%s per GiB\n", amt(u.EgressPrice))
				fmt.Fprintf(tw, "platform fee:\t%s\n", pct(u.FeeBps))
				s := u.SLA
				fmt.Fprintf(tw, "SLA:\tp95 latency <= %d ms, uptime >= %s, download >= %d MB/s, upload >= %d MB/s, errors <= %s, durability %s\n",
					s.MaxP95LatencyMs, pct(s.MinUptimeBps), s.MinDownloadMbps, s.MinUploadMbps, pct(s.MaxErrorRateBps), yesNo(s.Durability))
				fmt.Fprintf(tw, "features:\tversioning %s, encryption at rest %s, object lock %s\n",
					yesNo(u.Features.Versioning), yesNo(u.Features.EncryptionAtRest), yesNo(u.Features.ObjectLock))
				fmt.Fprintf(tw, "auto accept:\t%s\n", yesNo(u.AutoAccept))
				fmt.Fprintf(tw, "score:\t%d\n", u.Score)
				fmt.Fprintf(tw, "live reservations:\t%d\n", u.LiveReservations)
				fmt.Fprintf(tw, "claimable:\t%s\n", amt(u.Claimable))
				fmt.Fprintf(tw, "claimed:\t%s (fee to treasury %s)\n", amt(u.Settlement.ClaimedNet), amt(u.Settlement.ClaimedFee))
				fmt.Fprintf(tw, "created:\t%s\n", timeHuman(u.CreatedAt))
				tw.Flush()
			})
		},
	}
}

func reservationsQuery(g *globals) *cobra.Command {
	var f client.ReservationFilter
	cmd := &cobra.Command{
		Use: "reservations", Short: "List reservations by consumer, provider, unit or status", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			ctx, cancel := ctx10()
			defer cancel()
			if err := normFlag(unitID, &f.Unit); err != nil {
				return err
			}
			p, err := g.client().Reservations(ctx, f)
			if err != nil {
				return explain(err)
			}
			return g.print(p, func(w io.Writer) {
				tw := table(w)
				fmt.Fprintln(tw, "ID\tUNIT\tSIZE\tTERM\tSTATUS\tEND\tESCROWED uflash\tPAID uflash\tREFUNDED uflash\tCONSUMER")
				for _, r := range p.Reservations {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Unit, bytesHuman(r.Bytes), durHuman(r.Term), r.Status,
						timeHuman(r.End), amtShort(r.Escrowed), amtShort(r.Paid), amtShort(r.Refunded), r.Consumer)
				}
				tw.Flush()
				nextPage(w, p.NextCursor)
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.Consumer, "consumer", "", "only this consumer's reservations (address)")
	fl.StringVar(&f.Provider, "provider", "", "only reservations on this provider's units (address)")
	fl.StringVar(&f.Unit, "unit", "", "only reservations on this unit")
	fl.StringVar(&f.Status, "status", "", "only this status: pending, active, completed, cancelled, rejected, expired")
	pageFlags(cmd, &f.Page)
	return cmd
}

func reservationQuery(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "reservation ID", Short: "A reservation: term, escrow, what it has paid and been refunded", Args: idArgs(resID),
		RunE: func(_ *cobra.Command, args []string) error {
			ctx, cancel := ctx10()
			defer cancel()
			r, err := g.client().Reservation(ctx, args[0])
			if err != nil {
				return explain(err)
			}
			return g.print(r, func(w io.Writer) {
				tw := table(w)
				fmt.Fprintf(tw, "id:\t%s\n", r.ID)
				fmt.Fprintf(tw, "unit:\t%s\n", r.Unit)
				fmt.Fprintf(tw, "provider:\t%s\n", r.Provider)
				fmt.Fprintf(tw, "consumer:\t%s\n", r.Consumer)
				fmt.Fprintf(tw, "status:\t%s\n", r.Status)
				if r.Status == market.ResPending {
					fmt.Fprintf(tw, "accept by:\t%s\n", timeHuman(r.AcceptBy))
				}
				fmt.Fprintf(tw, "size:\t%s (%d bytes)\n", bytesHuman(r.Bytes), r.Bytes)
				fmt.Fprintf(tw, "term:\t%s, %s to %s\n", durHuman(r.Term), timeHuman(r.Start), timeHuman(r.End))
				if r.ClosedAt > 0 {
					fmt.Fprintf(tw, "closed:\t%s\n", timeHuman(r.ClosedAt))
				}
				fmt.Fprintf(tw, "egress:\t%s used of %s\n", bytesHuman(r.EgressUsed), bytesHuman(r.EgressBytes))
				fmt.Fprintf(tw, "stored:\t%s\n", bytesHuman(r.StoredBytes))
				fmt.Fprintf(tw, "storage price:\t%s per GiB-month\n", amt(r.StoragePrice))
				fmt.Fprintf(tw, "egress price:\t%s per GiB\n", amt(r.EgressPrice))
				fmt.Fprintf(tw, "platform fee:\t%s\n", pct(r.FeeBps))
				fmt.Fprintf(tw, "escrowed:\t%s\n", amt(r.Escrowed))
				fmt.Fprintf(tw, "paid:\t%s\n", amt(r.Paid))
				fmt.Fprintf(tw, "refunded:\t%s\n", amt(r.Refunded))
				fmt.Fprintf(tw, "compensation:\t%s\n", amt(r.Compensation))
				if r.CompensationOwed > 0 {
					fmt.Fprintf(tw, "compensation owed:\t%s (tx reservation claim-compensation %s)\n", amt(r.CompensationOwed), r.ID)
				}
				fmt.Fprintf(tw, "remaining escrow:\t%s\n", amt(r.RemainingEscrow))
				fmt.Fprintf(tw, "as of:\t%s\n", timeHuman(r.AsOf))
				tw.Flush()
			})
		},
	}
}

func quoteQuery(g *globals) *cobra.Command {
	var req client.QuoteRequest
	var size, term, egress string
	cmd := &cobra.Command{
		Use: "quote", Short: "The cheapest available units for a size, term and egress allowance, with what each escrows", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			var err error
			if req.Bytes, err = parseSize("size", size); err != nil {
				return err
			}
			if req.Term, err = parseDuration("term", term); err != nil {
				return err
			}
			if req.Egress, err = parseSize("egress", egress); err != nil {
				return err
			}
			ctx, cancel := ctx10()
			defer cancel()
			q, err := g.client().Quote(ctx, req)
			if err != nil {
				return explain(err)
			}
			return g.print(q, func(w io.Writer) {
				fmt.Fprintf(w, "%s for %s with %s egress:\n", bytesHuman(q.Bytes), durHuman(q.Term), bytesHuman(q.Egress))
				if len(q.Quotes) == 0 {
					fmt.Fprintln(w, "no available unit fits")
					return
				}
				tw := table(w)
				fmt.Fprintln(tw, "UNIT\tKIND\tREGION\tCOUNTRY\tSCORE\tFREE\tPRICE uflash/GiB-month\tSTORAGE uflash\tEGRESS uflash\tFEE uflash\tTOTAL uflash")
				for _, it := range q.Quotes {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", it.Unit, it.Kind, it.Region, it.Country, it.Score,
						bytesHuman(it.FreeBytes), amtShort(it.StoragePrice), amtShort(it.Cost.Storage), amtShort(it.Cost.Egress), amtShort(it.Cost.Fee), amtShort(it.Cost.Total))
				}
				tw.Flush()
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&size, "size", "", "capacity: bytes or with a unit (10GiB)")
	fl.StringVar(&term, "term", "", "term: seconds or with a unit (30d)")
	fl.StringVar(&egress, "egress", "0", "egress allowance (50GiB)")
	fl.StringVar(&req.Region, "region", "", "only this region")
	fl.StringVar(&req.Country, "country", "", "only this country")
	fl.StringVar(&req.Kind, "kind", "", "only this kind")
	fl.IntVar(&req.Limit, "limit", 0, "how many quotes (default 5)")
	_ = cmd.MarkFlagRequired("size")
	_ = cmd.MarkFlagRequired("term")
	return cmd
}

// unitStatus is the unit's status, marked when an available unit takes no
// reservations (its provider is under min_unit_stake per live unit).
func unitStatus(u types.UnitView) string {
	if u.Status == market.UnitAvailable && !u.TakesReservations {
		return u.Status + " (paused: provider under min_unit_stake)"
	}
	return u.Status
}
