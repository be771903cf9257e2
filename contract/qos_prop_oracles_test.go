package contract

import (
	"fmt"
	"github.com/flashback-network/flashback/contract/store"

	"strconv"

	"slices"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/qos"
)

// setupCollusion makes o3 the silent oracle, declares o2 related to p0
// (a friend the provider must never be audited by) and registers p1 as an
// oracle (a provider auditing itself).
func (s *qosSim) setupCollusion() {
	s.silent, s.friend, s.related, s.selfAuditor = "o3", "o2", "p0", "p1"
	s.colluder = "o1"
	s.h.ok(s.related, &qos.MsgDeclareRelated{Accounts: []string{mktAddr(s.friend)}})
	s.h.ok(s.selfAuditor, &qos.MsgRegisterOracle{Stake: 1_000})
}

// assignedTo is the set of units assigned to oracle o in epoch e, nil when
// e assigns none (the rule of before).
func (s *qosSim) assignedTo(o string, e int64) map[string]bool {
	var mine map[string]bool
	for _, id := range s.units() {
		n, _ := market.ParseUnitID(id)
		addrs, fixed, err := qos.AssignedOracles(s.h.blk, e, n)
		if err != nil || !fixed {
			continue
		}
		if mine == nil {
			mine = map[string]bool{}
		}
		mine[id] = slices.Contains(addrs, mktAddr(o))
	}
	return mine
}

// checkAssignments checks the current and the previous epoch's draws: at
// most oracles_per_unit per unit, never the unit's owner, never an
// account it declared related (from the epoch after the declaration,
// which the first set follows).
func (s *qosSim) checkAssignments(b int) {
	for _, e := range []int64{s.h.now / 10, s.h.now/10 - 1} {
		for _, id := range s.units() {
			n, _ := market.ParseUnitID(id)
			addrs, fixed, err := qos.AssignedOracles(s.h.blk, e, n)
			if err != nil {
				s.t.Fatalf("block %d: assignment of %s: %v", b, id, err)
			}
			if !fixed {
				continue
			}
			s.counts["assigned_unit_epochs"]++
			u, _ := market.GetUnit(s.h.blk, id)
			if len(addrs) > int(qosPropParams().OraclesPerUnit) || slices.Contains(addrs, u.Provider) {
				s.t.Fatalf("block %d: %s (owner %s) epoch %d assigned %v", b, id, s.nameOf[u.Provider], e, addrs)
			}
			if s.nameOf[u.Provider] == s.related && slices.Contains(addrs, mktAddr(s.friend)) {
				s.t.Fatalf("block %d: %s assigned its owner's related account in epoch %d", b, id, e)
			}
		}
	}
}

// countOracleEvent counts misses, jails and removals, the silent oracle's
// apart.
func (s *qosSim) countOracleEvent(e core.Event) {
	s.counts[e.Type]++
	for _, a := range e.Attrs {
		if a.Key == "oracle" && a.Value == mktAddr(s.silent) {
			s.counts[e.Type+"/silent"]++
		}
	}
}

// checkSilentPenalized: the silent oracle was assigned units (it is in
// every set while eligible), so it lost bond for its misses, and no one
// ever saw a report of it.
func (s *qosSim) checkSilentPenalized() {
	raw, _ := address.Parse(mktAddr(s.silent))
	o, _ := qos.GetOracle(s.h.blk, raw)
	if o.Reports != 0 {
		s.t.Fatalf("silent oracle has %d reports", o.Reports)
	}
	if s.counts["oracle_missed/silent"] == 0 || o.Missed == 0 || o.Penalized == 0 {
		s.t.Fatalf("silent oracle never penalized: %+v, events %v", o, s.counts)
	}
	if s.counts["assigned_unit_epochs"] == 0 || s.counts["not_assigned"] == 0 || s.counts["silent_unit_epochs_unpaid"] == 0 {
		s.t.Fatalf("assignment not exercised: %v", s.counts)
	}
}

// noteReport records the unit-epochs of an accepted report.
func (s *qosSim) noteReport(m core.Msg) {
	r, ok := m.(*qos.MsgReport)
	if !ok {
		return
	}
	if s.reported == nil {
		s.reported = map[string]bool{}
	}
	for _, u := range r.Units {
		s.reported[u.Unit+"/"+strconv.FormatInt(r.Epoch, 10)] = true
	}
}

// checkSilentUnpaid: every unit-epoch made final by the block just begun
// whose assigned oracles all stayed silent is unpaid (marked breached in
// the settlement index, its consumers refunded), unless the epoch was too
// old for the market to refund (unenforced, or settle_lag_epochs old after
// a halt) or in announced maintenance (unpaid by the maintenance sweep).
func (s *qosSim) checkSilentUnpaid(b int, before int64, evs []core.Event) {
	if s.unenforced == nil {
		s.unenforced = map[string]bool{}
	}
	unenforced := s.unenforced // the work may span blocks
	for _, e := range evs {
		if (e.Type == "qos_unpaid_silent" || e.Type == "qos_hold") && attr(e, "unenforced") == "true" {
			unenforced[attr(e, "unit")+"/"+attr(e, "epoch")] = true
		}
	}
	if _, _, pending := qos.EpochBacklog(s.h.blk); pending {
		return // checked once the work is done
	}
	p := qosPropParams()
	// Epochs settle_lag_epochs before the current one are final in the
	// market: no one can refund them any more (a halt), as before.
	oldest := s.h.now/p.EpochSeconds - p.SettleLagEpochs
	for e := max(before+1, oldest); e <= qos.Frontier(s.h.blk); e++ {
		for _, id := range s.units() {
			n, _ := market.ParseUnitID(id)
			addrs, fixed, _ := qos.AssignedOracles(s.h.blk, e, n)
			u, _ := market.GetUnit(s.h.blk, id)
			k := id + "/" + strconv.FormatInt(e, 10)
			if !fixed || s.reported[k] || unenforced[k] || u.Status == market.UnitDeleted || u.CreatedAt.Unix() >= e*p.EpochSeconds {
				continue
			}
			if qs := qos.GetUnitQoS(s.h.blk, n); qos.MaintainedIn(qs, e, p.EpochSeconds) {
				continue
			}
			// Held (neither paid nor refunded, hold.go) or refunded.
			held := market.IsHeld(u, e) && qos.IsHeldEpoch(s.h.blk, n, e)
			if !market.IsBreached(s.h.blk, n, e) && !held {
				s.t.Fatalf("block %d: %s epoch %d: assigned %v all silent, yet the epoch is paid (hist %s)", b, id, e, addrs, histOf(s, n, e))
			}
			s.counts["silent_unit_epochs_unpaid"]++
		}
	}
}

func attr(e core.Event, k string) string {
	for _, a := range e.Attrs {
		if a.Key == k {
			return a.Value
		}
	}
	return ""
}

func histOf(s *qosSim, n uint64, e int64) string {
	var h qos.UnitEpochQoS
	if !store.Get(s.h.blk, qos.UnitHistKey(n, e), &h) {
		return "none"
	}
	return fmt.Sprintf("%+v", h)
}
