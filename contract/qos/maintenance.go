package qos

import (
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/store"
)

// ---- maintenance ----

// qosNoteMaintenance logs the unit's maintenance window as changed by a
// market/unit_maintenance action at now (market_msgs.go calls it).
func qosNoteMaintenance(kv store.KV, u *market.Unit, action string, now int64) {
	n, _ := market.ParseUnitID(u.ID)
	qs := GetUnitQoS(kv, n)
	q := getQoSParams(kv)
	f := Frontier(kv)
	k := 0
	for _, w := range qs.Maint {
		if w.Start.Unix() > now || w.End.Unix() <= (f+1)*q.Epoch {
			continue // superseded (a new action replaces future windows) or final
		}
		if action == market.MaintenanceEnd && w.End.Unix() > now {
			w.End = core.Time(now)
		}
		qs.Maint[k] = w
		k++
	}
	qs.Maint = qs.Maint[:k]
	if action != market.MaintenanceEnd && u.Maintenance != nil {
		qs.Maint = append(qs.Maint, maintLog{Start: u.Maintenance.Start, End: u.Maintenance.End, AnnouncedAt: core.Time(now)})
		if len(qs.Maint) > 16 {
			qs.Maint = qs.Maint[len(qs.Maint)-16:]
		}
	}
	if len(qs.Maint) == 0 {
		qs.Maint = nil
		kv.Delete(store.Key(keyMaintUnits, store.EncodeUint64(n)))
	} else {
		kv.Set(store.Key(keyMaintUnits, store.EncodeUint64(n)), []byte{})
	}
	SetUnitQoS(kv, n, qs)
}

// maintenanceSweep marks unpaid the newly final epochs covered by announced
// maintenance that no report judged: one unit with a pending window per
// budget item, in unit order from w.MaintNext.
func (qk *Keeper) maintenanceSweep(kv store.KV, blk core.Block, q qosParams, w *epochWork, budget *int, events *[]core.Event) bool {
	keys := keysIn(kv, store.Key(keyMaintUnits, store.EncodeUint64(w.MaintNext)), store.PrefixEnd(keyMaintUnits), more1(*budget))
	more := len(keys) > *budget
	if more {
		keys = keys[:*budget]
	}
	from := max(w.FOld+1, w.Cur-q.Lag, 0)
	for _, k := range keys {
		n := store.DecodeUint64(k[len(keyMaintUnits):])
		isolated(kv, blk, "qos maintenance "+market.UnitIDString(n), events, func(ctx *core.Context) error {
			return qk.sweepUnitMaintenance(ctx, q, n, from, w.FNew)
		})
		w.MaintNext = n + 1
		*budget--
	}
	return more
}

// sweepUnitMaintenance marks unpaid unit n's epochs from..fNew covered by
// its announced windows, then drops the windows that are final.
func (qk *Keeper) sweepUnitMaintenance(ctx *core.Context, q qosParams, n uint64, from, fNew int64) error {
	u, ok := market.GetUnitN(ctx.KV, n)
	qs := GetUnitQoS(ctx.KV, n)
	if ok && u.Status != market.UnitDeleted {
		for e := from; e <= fNew; e++ {
			if !qs.maintained(e, q.Epoch) || market.IsBreached(ctx.KV, n, e) {
				continue
			}
			h := UnitEpochQoS{Epoch: e, Status: QoSMaintenance}
			if err := qk.markUnpaid(ctx, u, e, &h); err != nil {
				return err
			}
			if err := finishUnitEpoch(ctx, q, u, n, qs, &h); err != nil {
				return err
			}
			statsEpochCounts(ctx.KV, e, EpochQoSCounts{Maintenance: 1})
		}
	}
	k := 0
	for _, w := range qs.Maint {
		if ok && u.Status != market.UnitDeleted && w.End.Unix() > (fNew+1)*q.Epoch {
			qs.Maint[k] = w
			k++
		}
	}
	qs.Maint = qs.Maint[:k]
	if k == 0 {
		qs.Maint = nil
		ctx.KV.Delete(store.Key(keyMaintUnits, store.EncodeUint64(n)))
	}
	SetUnitQoS(ctx.KV, n, qs)
	return nil
}
