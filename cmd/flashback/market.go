package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/qos"
)

// The market's tx commands: tx provider …, tx unit …, tx reserve,
// tx reservation …. Each signs with --from KEY and waits for the commit.

// marketTxCmds are added under `flashback tx`.
func marketTxCmds(g *globals) []*cobra.Command {
	return []*cobra.Command{providerTxCmd(g), unitTxCmd(g), reserveCmd(g), reservationTxCmd(g)}
}

// txOut is a tx result plus the id of what it created.
type txOut struct {
	*types.TxResult
	Unit        string `json:"unit,omitempty"`
	Reservation string `json:"reservation,omitempty"`
}

// signer returns a Signer for the named key and a context bounding one tx
// (the caller cancels it).
func (g *globals) signer(from string) (*client.Signer, context.Context, context.CancelFunc, error) {
	priv, err := g.privKey(from)
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	return g.client().Signer(priv), ctx, cancel, nil
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

// ---- providers ----

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
			a, err := client.ParseAmount(args[0])
			if err != nil {
				return nil, err
			}
			return &market.MsgStake{Amount: a}, nil
		})
	unstake := leaf(g, "unstake AMOUNT", "Start unbonding stake; it is paid back after unbonding_period and stays slashable until then", cobra.ExactArgs(1),
		func(_ *cobra.Command, args []string) (core.Msg, error) {
			a, err := client.ParseAmount(args[0])
			if err != nil {
				return nil, err
			}
			return &market.MsgUnstake{Amount: a}, nil
		})
	deregister := leaf(g, "deregister", "Retire the provider (every unit deleted first); all stake starts unbonding", cobra.NoArgs,
		func(*cobra.Command, []string) (core.Msg, error) { return &market.MsgDeregisterProvider{}, nil })
	var unit string
	claim := leaf(g, "claim", "Collect the final revenue of one unit (--unit) or of all the provider's units", cobra.NoArgs,
		func(*cobra.Command, []string) (core.Msg, error) { return &market.MsgClaim{Unit: unit}, nil })
	claim.Flags().StringVar(&unit, "unit", "", "claim only this unit (default: all units)")

	cmd.AddCommand(register, update, stake, unstake, deregister, claim)
	return cmd
}

// ---- units ----

type unitFlags struct {
	kind, region, country, capacity, price, egressPrice string
	latency, download, upload                           uint32
	uptime, errorRate                                   string
	durability, versioning, encryption, objectLock      bool
	autoAccept                                          bool
}

// add registers the flags; withPlace adds --kind, --region, --country
// (fixed once the unit exists).
func (f *unitFlags) add(cmd *cobra.Command, withPlace bool) {
	fl := cmd.Flags()
	if withPlace {
		fl.StringVar(&f.kind, "kind", "", "unit kind: s3, azure-blob, gcs, local or function")
		fl.StringVar(&f.region, "region", "", "region name, e.g. eu-central")
		fl.StringVar(&f.country, "country", "", "ISO 3166 alpha-2 country code, e.g. DE")
	}
	fl.StringVar(&f.capacity, "capacity", "", "capacity: bytes or with a unit (1TiB)")
	fl.StringVar(&f.price, "price", "", "storage price per GiB-month (30 days): uflash or with a unit (1.5FLASH)")
	fl.StringVar(&f.egressPrice, "egress-price", "0", "egress price per GiB: uflash or with a unit (0.01FLASH)")
	fl.Uint32Var(&f.latency, "sla-latency-ms", 0, "SLA: max p95 read latency in ms (0: no promise)")
	fl.StringVar(&f.uptime, "sla-uptime", "0", "SLA: min uptime in percent, e.g. 99.9")
	fl.Uint32Var(&f.download, "sla-download-mbps", 0, "SLA: min download throughput, MB/s")
	fl.Uint32Var(&f.upload, "sla-upload-mbps", 0, "SLA: min upload throughput, MB/s")
	fl.StringVar(&f.errorRate, "sla-error-rate", "0", "SLA: max error rate in percent, e.g. 0.1")
	fl.BoolVar(&f.durability, "durability", false, "SLA: every integrity check must pass")
	fl.BoolVar(&f.versioning, "versioning", false, "feature: object versioning")
	fl.BoolVar(&f.encryption, "encryption", false, "feature: encryption at rest")
	fl.BoolVar(&f.objectLock, "object-lock", false, "feature: object lock")
	fl.BoolVar(&f.autoAccept, "auto-accept", false, "start reservations at once instead of waiting for the provider to accept them")
}

// sla overlays the changed SLA flags on base.
func (f *unitFlags) sla(changed func(string) bool, base market.SLAOffer) (market.SLAOffer, error) {
	s := base
	var err error
	if changed("sla-latency-ms") {
		s.MaxP95LatencyMs = f.latency
	}
	if changed("sla-uptime") {
		if s.MinUptimeBps, err = parsePercentBps("sla-uptime", f.uptime); err != nil {
			return s, err
		}
	}
	if changed("sla-download-mbps") {
		s.MinDownloadMbps = f.download
	}
	if changed("sla-upload-mbps") {
		s.MinUploadMbps = f.upload
	}
	if changed("sla-error-rate") {
		if s.MaxErrorRateBps, err = parsePercentBps("sla-error-rate", f.errorRate); err != nil {
			return s, err
		}
	}
	if changed("durability") {
		s.Durability = f.durability
	}
	return s, nil
}

// features overlays the changed feature flags on base.
func (f *unitFlags) features(changed func(string) bool, base market.Features) market.Features {
	if changed("versioning") {
		base.Versioning = f.versioning
	}
	if changed("encryption") {
		base.EncryptionAtRest = f.encryption
	}
	if changed("object-lock") {
		base.ObjectLock = f.objectLock
	}
	return base
}

var slaFlags = []string{"sla-latency-ms", "sla-uptime", "sla-download-mbps", "sla-upload-mbps", "sla-error-rate", "durability"}
var featureFlags = []string{"versioning", "encryption", "object-lock"}

func anyChanged(changed func(string) bool, names []string) bool {
	for _, n := range names {
		if changed(n) {
			return true
		}
	}
	return false
}

func unitTxCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "unit", Short: "Publish and manage data units"}

	var af unitFlags
	var addFromKey string
	add := &cobra.Command{
		Use:   "add",
		Short: "Publish a data unit (needs min_unit_stake bonded per unit)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			capacity, err := parseSize("capacity", af.capacity)
			if err != nil {
				return err
			}
			price, err := parseAmountFlag("price", af.price)
			if err != nil {
				return err
			}
			egress, err := parseAmountFlag("egress-price", af.egressPrice)
			if err != nil {
				return err
			}
			all := func(string) bool { return true }
			sla, err := af.sla(all, market.SLAOffer{})
			if err != nil {
				return err
			}
			m := &market.MsgAddUnit{Kind: af.kind, Region: af.region, Country: af.country, Capacity: capacity,
				StoragePrice: price, EgressPrice: egress, SLA: sla, Features: af.features(all, market.Features{}), AutoAccept: af.autoAccept}
			s, ctx, cancel, err := g.signer(addFromKey)
			if err != nil {
				return err
			}
			defer cancel()
			id, res, err := s.AddUnit(ctx, *m)
			return g.printTxOut(res, err, txOut{Unit: id})
		},
	}
	af.add(add, true)
	addFrom(add, &addFromKey)
	for _, f := range []string{"kind", "region", "country", "capacity", "price"} {
		_ = add.MarkFlagRequired(f)
	}

	var uf unitFlags
	update := leaf(g, "update UNIT", "Change a unit's capacity, prices, SLA, features or auto-accept (new terms apply to new reservations)", cobra.ExactArgs(1),
		func(cmd *cobra.Command, args []string) (core.Msg, error) {
			ch := cmd.Flags().Changed
			m := &market.MsgUpdateUnit{Unit: args[0]}
			if ch("capacity") {
				c, err := parseSize("capacity", uf.capacity)
				if err != nil {
					return nil, err
				}
				m.Capacity = &c
			}
			if ch("price") {
				p, err := parseAmountFlag("price", uf.price)
				if err != nil {
					return nil, err
				}
				m.StoragePrice = &p
			}
			if ch("egress-price") {
				p, err := parseAmountFlag("egress-price", uf.egressPrice)
				if err != nil {
					return nil, err
				}
				m.EgressPrice = &p
			}
			if ch("auto-accept") {
				m.AutoAccept = &uf.autoAccept
			}
			if anyChanged(ch, slaFlags) || anyChanged(ch, featureFlags) {
				// The SLA and features are replaced as a whole: start from
				// the unit's current ones.
				ctx, cancel := ctx10()
				defer cancel()
				u, err := g.client().Unit(ctx, args[0])
				if err != nil {
					return nil, explain(err)
				}
				if anyChanged(ch, slaFlags) {
					s, err := uf.sla(ch, market.SLAOffer(u.SLA))
					if err != nil {
						return nil, err
					}
					m.SLA = &s
				}
				if anyChanged(ch, featureFlags) {
					f := uf.features(ch, market.Features(u.Features))
					m.Features = &f
				}
			}
			if m.Capacity == nil && m.StoragePrice == nil && m.EgressPrice == nil && m.SLA == nil && m.Features == nil && m.AutoAccept == nil {
				return nil, fmt.Errorf("nothing to update: give at least one of --capacity, --price, --egress-price, --sla-*, --durability, --versioning, --encryption, --object-lock, --auto-accept")
			}
			return m, nil
		})
	uf.add(update, false)

	var fromTime, until string
	maintenance := leaf(g, "maintenance UNIT start|end|announce",
		"Put a unit into maintenance (start --until T), back (end), or announce a future window (announce --from-time T --until T)",
		cobra.ExactArgs(2),
		func(_ *cobra.Command, args []string) (core.Msg, error) {
			m := &market.MsgUnitMaintenance{Unit: args[0], Action: args[1]}
			switch args[1] {
			case market.MaintenanceEnd:
			case market.MaintenanceStart, market.MaintenanceAnnounce:
				if until == "" {
					return nil, fmt.Errorf("%s needs --until (RFC 3339, unix seconds, or +DURATION such as +2h)", args[1])
				}
				if args[1] == market.MaintenanceAnnounce && fromTime == "" {
					return nil, fmt.Errorf("announce needs --from-time and --until")
				}
				var err error
				if fromTime != "" {
					if m.WindowStart, err = parseTime("from-time", fromTime); err != nil {
						return nil, err
					}
				}
				if m.WindowEnd, err = parseTime("until", until); err != nil {
					return nil, err
				}
			default:
				return nil, fmt.Errorf("action %q: want start, end or announce", args[1])
			}
			return m, nil
		})
	maintenance.Flags().StringVar(&fromTime, "from-time", "", "window start: RFC 3339, unix seconds or +DURATION (start: default now)")
	maintenance.Flags().StringVar(&until, "until", "", "window end: RFC 3339, unix seconds or +DURATION")

	decommission := leaf(g, "decommission UNIT", "Stop new reservations on a unit; existing ones run to term", cobra.ExactArgs(1),
		func(_ *cobra.Command, args []string) (core.Msg, error) {
			return &market.MsgDecommissionUnit{Unit: args[0]}, nil
		})
	del := leaf(g, "delete UNIT", "Delete a decommissioned unit after its last reservation ended (its revenue is claimed)", cobra.ExactArgs(1),
		func(_ *cobra.Command, args []string) (core.Msg, error) {
			return &market.MsgDeleteUnit{Unit: args[0]}, nil
		})
	cmd.AddCommand(add, update, maintenance, decommission, del)
	return cmd
}

// ---- reservations ----

func reserveCmd(g *globals) *cobra.Command {
	var from, size, term, egress, maxPrice string
	cmd := &cobra.Command{
		Use:   "reserve UNIT",
		Short: "Reserve capacity on a unit for a term; storage, egress allowance and fee are escrowed now",
		Long: "Reserve capacity on a unit for a term. The storage cost for the whole term, the egress\n" +
			"allowance and the platform fee are escrowed at once; closing early refunds the unused part.\n" +
			"--max-price (per GiB-month) protects against a price change between quote and commit;\n" +
			"it defaults to the unit's current price.",
		Args: cobra.ExactArgs(1),
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
			if maxPrice != "" {
				if m.MaxPrice, err = parseAmountFlag("max-price", maxPrice); err != nil {
					return err
				}
			} else {
				ctx, cancel := ctx10()
				defer cancel()
				u, err := g.client().Unit(ctx, args[0])
				if err != nil {
					return explain(err)
				}
				m.MaxPrice = u.StoragePrice
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
	_ = cmd.MarkFlagRequired("size")
	_ = cmd.MarkFlagRequired("term")
	addFrom(cmd, &from)
	return cmd
}

func reservationTxCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "reservation", Short: "Manage a reservation: accept or reject (provider); close, top up, extend, resize, claim compensation (consumer)"}
	accept := leaf(g, "accept ID", "Accept a pending reservation on your unit; its term starts now", cobra.ExactArgs(1),
		func(_ *cobra.Command, args []string) (core.Msg, error) {
			var m market.MsgAcceptReservation
			m.Reservation = args[0]
			return &m, nil
		})
	reject := leaf(g, "reject ID", "Reject a pending reservation on your unit; the consumer gets everything back", cobra.ExactArgs(1),
		func(_ *cobra.Command, args []string) (core.Msg, error) {
			var m market.MsgRejectReservation
			m.Reservation = args[0]
			return &m, nil
		})
	closeCmd := leaf(g, "close ID", "Close your reservation early: settled to now, the unused escrow refunded", cobra.ExactArgs(1),
		func(_ *cobra.Command, args []string) (core.Msg, error) {
			var m market.MsgCloseReservation
			m.Reservation = args[0]
			return &m, nil
		})
	var egress string
	topup := leaf(g, "topup ID", "Add egress allowance (escrowed at the reservation's egress price)", cobra.ExactArgs(1),
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
	extend := leaf(g, "extend ID", "Lengthen the term at the reservation's own price", cobra.ExactArgs(1),
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
	resize := leaf(g, "resize ID", "Grow the reservation to a new total size for the rest of its term", cobra.ExactArgs(1),
		func(_ *cobra.Command, args []string) (core.Msg, error) {
			b, err := parseSize("size", size)
			if err != nil {
				return nil, err
			}
			return &market.MsgResize{Reservation: args[0], Bytes: b}, nil
		})
	resize.Flags().StringVar(&size, "size", "", "new total size: bytes or with a unit (20GiB)")
	_ = resize.MarkFlagRequired("size")
	claimComp := leaf(g, "claim-compensation ID", "Collect the SLA-breach compensation your active reservation is owed (fails with not_found when there is none)", cobra.ExactArgs(1),
		func(_ *cobra.Command, args []string) (core.Msg, error) {
			return &qos.MsgClaimCompensation{Reservation: args[0]}, nil
		})
	cmd.AddCommand(accept, reject, closeCmd, topup, extend, resize, claimComp)
	return cmd
}

// printTxOut prints a tx result with the id it created (out's Unit or
// Reservation) and returns err explained.
func (g *globals) printTxOut(res *types.TxResult, err error, out txOut) error {
	if res == nil {
		return explain(err)
	}
	out.TxResult = res
	perr := g.print(out, func(w io.Writer) {
		fmt.Fprintf(w, "tx %s committed at height %d: %s\n", res.Hash, res.Height, res.CodeName)
		if res.Code != 0 {
			fmt.Fprintf(w, "  %s\n", res.Log)
			return
		}
		if out.Unit != "" {
			fmt.Fprintf(w, "unit: %s\n", out.Unit)
		}
		if out.Reservation != "" {
			fmt.Fprintf(w, "reservation: %s (status %s, escrowed %s)\n", out.Reservation,
				client.EventAttr(res, "reservation_created", "status"), escrowText(client.EventAttr(res, "reservation_created", "escrow")))
		}
	})
	if err == nil {
		err = perr
	}
	return explain(err)
}

func escrowText(s string) string {
	a, err := core.ParseAmount(s)
	if err != nil {
		return s
	}
	return amt(a)
}
