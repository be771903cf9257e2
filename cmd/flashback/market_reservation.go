package main

import (
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/qos"
	"github.com/spf13/cobra"
)

func reserveCmd(g *globals) *cobra.Command {
	var from, size, term, egress, maxPrice, maxEgressPrice string
	cmd := &cobra.Command{
		Use:   "reserve UNIT",
		Short: "Reserve capacity on a unit for a term; storage, egress allowance and fee are escrowed now",
		Long: "Reserve capacity on a unit for a term. The storage cost for the whole term, the egress\n" +
			"allowance and the platform fee are escrowed at once; closing early refunds the unused part.\n" +
			"--max-price (per GiB-month) and --max-egress-price (per GiB) protect against a price change\n" +
			"between quote and commit; they default to the unit's current prices.",
		Args: idArgs(unitID),
		RunE: func(_ *cobra.Command, args []string) error {
			m := &market.MsgReserve{Unit: args[0]}
			var err error
			if m.Bytes, err = parseSize("size", size); err != nil {
				return err
			}
			if m.Term, err = parseDuration("term", term); err != nil {
				return err
			}
			if m.EgressBytes, err = parseSize("egress", egress); err != nil {
				return err
			}
			if err := g.reservePriceLimits(m, maxPrice, maxEgressPrice); err != nil {
				return err
			}
			s, ctx, cancel, err := g.signer(from)
			if err != nil {
				return err
			}
			defer cancel()
			id, res, err := s.Reserve(ctx, *m)
			return g.printTxOut(res, err, txOut{Reservation: id})
		},
	}
	cmd.Flags().StringVar(&size, "size", "", "capacity to reserve: bytes or with a unit (10GiB)")
	cmd.Flags().StringVar(&term, "term", "", "term: seconds or with a unit (30d, 12h, 1mo)")
	cmd.Flags().StringVar(&egress, "egress", "0", "egress allowance: bytes or with a unit (50GiB)")
	cmd.Flags().StringVar(&maxPrice, "max-price", "", "highest storage price per GiB-month you accept (default: the unit's current price)")
	cmd.Flags().StringVar(&maxEgressPrice, "max-egress-price", "", "highest egress price per GiB you accept (default: the unit's current egress price)")
	_ = cmd.MarkFlagRequired("size")
	_ = cmd.MarkFlagRequired("term")
	addFrom(cmd, &from)
	return cmd
}

// reservePriceLimits sets m's price limits from the flags, or from the
// unit's current prices when a flag is empty.
func (g *globals) reservePriceLimits(m *market.MsgReserve, maxPrice, maxEgressPrice string) error {
	var err error
	if maxPrice != "" {
		if m.MaxPrice, err = parseAmountFlag("max-price", maxPrice); err != nil {
			return err
		}
	}
	if maxEgressPrice != "" {
		p, err := parseAmountFlag("max-egress-price", maxEgressPrice)
		if err != nil {
			return err
		}
		m.MaxEgressPrice = &p
	}
	if maxPrice != "" && maxEgressPrice != "" {
		return nil
	}
	ctx, cancel := ctx10()
	defer cancel()
	u, err := g.client().Unit(ctx, m.Unit)
	if err != nil {
		return explain(err)
	}
	if maxPrice == "" {
		m.MaxPrice = u.StoragePrice
	}
	if maxEgressPrice == "" {
		p := u.EgressPrice
		m.MaxEgressPrice = &p
	}
	return nil
}

func reservationTxCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "reservation", Short: "Manage a reservation: accept or reject (provider); close, top up, extend, resize, claim compensation (consumer)"}
	accept := leaf(g, "accept ID", "Accept a pending reservation on your unit; its term starts now", idArgs(resID),
		func(_ *cobra.Command, args []string) (core.Msg, error) {
			var m market.MsgAcceptReservation
			m.Reservation = args[0]
			return &m, nil
		})
	reject := leaf(g, "reject ID", "Reject a pending reservation on your unit; the consumer gets everything back", idArgs(resID),
		func(_ *cobra.Command, args []string) (core.Msg, error) {
			var m market.MsgRejectReservation
			m.Reservation = args[0]
			return &m, nil
		})
	closeCmd := leaf(g, "close ID", "Close your reservation early: settled to now, the unused escrow refunded", idArgs(resID),
		func(_ *cobra.Command, args []string) (core.Msg, error) {
			var m market.MsgCloseReservation
			m.Reservation = args[0]
			return &m, nil
		})
	var egress string
	topup := leaf(g, "topup ID", "Add egress allowance (escrowed at the reservation's egress price)", idArgs(resID),
		func(_ *cobra.Command, args []string) (core.Msg, error) {
			b, err := parseSize("egress", egress)
			if err != nil {
				return nil, err
			}
			return &market.MsgTopUp{Reservation: args[0], EgressBytes: b}, nil
		})
	topup.Flags().StringVar(&egress, "egress", "", "egress to add: bytes or with a unit (10GiB)")
	_ = topup.MarkFlagRequired("egress")
	var term string
	extend := leaf(g, "extend ID", "Lengthen the term at the reservation's own price", idArgs(resID),
		func(_ *cobra.Command, args []string) (core.Msg, error) {
			d, err := parseDuration("term", term)
			if err != nil {
				return nil, err
			}
			return &market.MsgExtend{Reservation: args[0], ExtraSeconds: d}, nil
		})
	extend.Flags().StringVar(&term, "term", "", "time to add: seconds or with a unit (30d)")
	_ = extend.MarkFlagRequired("term")
	var size string
	resize := leaf(g, "resize ID", "Grow the reservation to a new total size for the rest of its term", idArgs(resID),
		func(_ *cobra.Command, args []string) (core.Msg, error) {
			b, err := parseSize("size", size)
			if err != nil {
				return nil, err
			}
			return &market.MsgResize{Reservation: args[0], Bytes: b}, nil
		})
	resize.Flags().StringVar(&size, "size", "", "new total size: bytes or with a unit (20GiB)")
	_ = resize.MarkFlagRequired("size")
	claimComp := leaf(g, "claim-compensation ID", "Collect the SLA-breach compensation your active reservation is owed (fails with not_found when there is none)", idArgs(resID),
		func(_ *cobra.Command, args []string) (core.Msg, error) {
			return &qos.MsgClaimCompensation{Reservation: args[0]}, nil
		})
	cmd.AddCommand(accept, reject, closeCmd, topup, extend, resize, claimComp)
	return cmd
}
