package main

import (
	"fmt"

	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/qos"

	"github.com/spf13/cobra"
)

type providerFlags struct {
	name, description, website, endpoint, pubKey, keyFile string
}

func (f *providerFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.name, "name", "", "display name (up to 64 bytes)")
	cmd.Flags().StringVar(&f.description, "description", "", "free text (up to 512 bytes)")
	cmd.Flags().StringVar(&f.website, "website", "", "http(s) URL of the provider's site")
	cmd.Flags().StringVar(&f.endpoint, "endpoint", "", "http(s) URL of the provider's bridge (S3 front)")
	cmd.Flags().StringVar(&f.pubKey, "bridge-pubkey", "", "the bridge's X25519 public key, base64 of 32 bytes")
	cmd.Flags().StringVar(&f.keyFile, "bridge-key-file", "", "file holding the bridge's X25519 public key (32 raw bytes, or base64 or hex text)")
}

func providerTxCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "provider", Short: "Register and run a storage provider: stake, units' revenue"}

	var rf providerFlags
	register := leaf(g, "register", "Register the --from key as a storage provider", cobra.NoArgs,
		func(*cobra.Command, []string) (core.Msg, error) {
			key, err := readBridgeKey(rf.pubKey, rf.keyFile)
			if err != nil {
				return nil, err
			}
			if key == nil {
				return nil, fmt.Errorf("the bridge key is required: --bridge-pubkey BASE64 or --bridge-key-file FILE")
			}
			return &market.MsgRegisterProvider{Name: rf.name, Description: rf.description, Website: rf.website, Endpoint: rf.endpoint, BridgePubKey: key}, nil
		})
	rf.add(register)
	_ = register.MarkFlagRequired("name")
	_ = register.MarkFlagRequired("endpoint")

	var uf providerFlags
	update := leaf(g, "update", "Change the provider's name, description, website, bridge endpoint or bridge key", cobra.NoArgs,
		func(cmd *cobra.Command, _ []string) (core.Msg, error) {
			m := &market.MsgUpdateProvider{}
			ch := cmd.Flags().Changed
			if ch("name") {
				m.Name = &uf.name
			}
			if ch("description") {
				m.Description = &uf.description
			}
			if ch("website") {
				m.Website = &uf.website
			}
			if ch("endpoint") {
				m.Endpoint = &uf.endpoint
			}
			key, err := readBridgeKey(uf.pubKey, uf.keyFile)
			if err != nil {
				return nil, err
			}
			m.BridgePubKey = key
			if m.Name == nil && m.Description == nil && m.Website == nil && m.Endpoint == nil && key == nil {
				return nil, fmt.Errorf("nothing to update: give at least one of --name, --description, --website, --endpoint, --bridge-pubkey, --bridge-key-file")
			}
			return m, nil
		})
	uf.add(update)

	stake := leaf(g, "stake AMOUNT", "Bond stake (min_unit_stake per live unit); AMOUNT in uflash or with a unit (1000FLASH)", cobra.ExactArgs(1),
		func(_ *cobra.Command, args []string) (core.Msg, error) {
			a, err := parsePositiveAmount(args[0])
			if err != nil {
				return nil, err
			}
			return &market.MsgStake{Amount: a}, nil
		})
	unstake := leaf(g, "unstake AMOUNT", "Start unbonding stake; it is paid back after unbonding_period and stays slashable until then", cobra.ExactArgs(1),
		func(_ *cobra.Command, args []string) (core.Msg, error) {
			a, err := parsePositiveAmount(args[0])
			if err != nil {
				return nil, err
			}
			return &market.MsgUnstake{Amount: a}, nil
		})
	deregister := leaf(g, "deregister", "Retire the provider (every unit deleted first); all stake starts unbonding", cobra.NoArgs,
		func(*cobra.Command, []string) (core.Msg, error) { return &market.MsgDeregisterProvider{}, nil })
	claim := providerClaimCmd(g)

	related := leaf(g, "declare-related ADDRESS...", "Declare accounts related to the provider (its own oracles, partners): from the next epoch they are never assigned to audit its units; declarations cannot be withdrawn", cobra.MinimumNArgs(1),
		func(_ *cobra.Command, args []string) (core.Msg, error) {
			return &qos.MsgDeclareRelated{Accounts: args}, nil
		})
	cmd.AddCommand(register, update, stake, unstake, deregister, claim, related)
	return cmd
}

// providerClaimCmd is `tx provider claim`: it refuses, before sending
// anything, a claim that would collect nothing (a tx that only pays the
// fee).
func providerClaimCmd(g *globals) *cobra.Command {
	var from, unit string
	cmd := &cobra.Command{
		Use: "claim", Short: "Collect the final revenue of one unit (--unit) or of all the provider's units", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			m := &market.MsgClaim{}
			if unit != "" {
				var err error
				if m.Unit, err = unitID.normalize(unit); err != nil {
					return err
				}
			}
			s, ctx, cancel, err := g.signer(from)
			if err != nil {
				return err
			}
			defer cancel()
			sim, err := s.Simulate(ctx, m)
			if err != nil {
				return explain(err)
			}
			if sim.Code == 0 && !hasEvent(sim.Events, "claim") {
				what := "the provider's units have"
				if m.Unit != "" {
					what = m.Unit + " has"
				}
				return &codedError{code: core.CodeNotFound.Name(), msg: "nothing to claim: " + what + " no unclaimed revenue; nothing sent, no fee charged"}
			}
			res, err := s.Submit(ctx, m)
			return g.printTxOut(res, err, txOut{})
		},
	}
	cmd.Flags().StringVar(&unit, "unit", "", "claim only this unit (default: all units)")
	addFrom(cmd, &from)
	return cmd
}

func hasEvent(evs []core.Event, typ string) bool {
	for _, e := range evs {
		if e.Type == typ {
			return true
		}
	}
	return false
}
