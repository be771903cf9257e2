package main

import (
	"fmt"

	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"

	"github.com/spf13/cobra"
)

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
	decommission := leaf(g, "decommission UNIT", "Stop new reservations on a unit; existing ones run to term", idArgs(unitID),
		func(_ *cobra.Command, args []string) (core.Msg, error) {
			return &market.MsgDecommissionUnit{Unit: args[0]}, nil
		})
	del := leaf(g, "delete UNIT", "Delete a decommissioned unit after its last reservation ended (its revenue is claimed)", idArgs(unitID),
		func(_ *cobra.Command, args []string) (core.Msg, error) {
			return &market.MsgDeleteUnit{Unit: args[0]}, nil
		})
	cmd.AddCommand(unitAddCmd(g), unitUpdateCmd(g), unitMaintenanceCmd(g), decommission, del)
	return cmd
}

// unitAddCmd is `tx unit add`: publish a unit with its terms.
func unitAddCmd(g *globals) *cobra.Command {
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
	return add
}

// unitUpdateCmd is `tx unit update`: change the terms given by flags.
func unitUpdateCmd(g *globals) *cobra.Command {
	var uf unitFlags
	update := leaf(g, "update UNIT", "Change a unit's capacity, prices, SLA, features or auto-accept (new terms apply to new reservations)", idArgs(unitID),
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
	return update
}

// unitMaintenanceCmd is `tx unit maintenance`: start, end or announce a
// maintenance window.
func unitMaintenanceCmd(g *globals) *cobra.Command {
	var fromTime, until string
	maintenance := leaf(g, "maintenance UNIT start|end|announce",
		"Put a unit into maintenance (start --until T), back (end), or announce a future window (announce --from-time T --until T)",
		idArgs(unitID, nil),
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
	return maintenance
}
