package contract

import (
	"strconv"

	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/qos"
)

// heldTrack is a held unit-epoch the property test follows until the
// chain resolves it.
type heldTrack struct {
	unit  string
	epoch int64
}

// measureBy is oracle o's measurement of unit id: honest, except the
// colluder's, which reports its provider friend's units as perfect.
func (s *qosSim) measureBy(o, id string) qos.UnitMeasurement {
	m := s.measure(id)
	if u, ok := market.GetUnit(s.h.blk, id); ok && o == s.colluder && s.nameOf[u.Provider] == s.related {
		return qos.UnitMeasurement{Unit: id, Probes: 100, Successes: 100, P50Ms: 10, P95Ms: 20, DownMbps: 900, UpMbps: 900, IntegrityPassed: 5}
	}
	return m
}

// lateReports: now and then the assigned oracles of a few held
// unit-epochs (never the silent one) send the reports they owed, late;
// the colluder's say "all fine" for its friend's units.
func (s *qosSim) lateReports(b int) {
	if s.rng.IntN(3) != 0 {
		return
	}
	for _, ref := range qos.HeldUnitEpochs(s.h.blk, 4) {
		id := market.UnitIDString(ref.Unit)
		addrs, fixed, err := qos.AssignedOracles(s.h.blk, ref.Epoch, ref.Unit)
		if err != nil || !fixed {
			continue
		}
		for _, a := range addrs {
			o := s.nameOf[a]
			if o == s.silent || s.rng.IntN(2) == 0 {
				continue
			}
			r := s.h.exec(o, &qos.MsgReport{Epoch: ref.Epoch, Units: []qos.UnitMeasurement{s.measureBy(o, id)}})
			switch r.Code {
			case core.CodeOK:
				s.counts["late_report"]++
			case core.CodeInternal:
				s.t.Fatalf("block %d: late report: %s", b, r.Log)
			}
		}
	}
	// A late report of an epoch that is not held is refused.
	if e := s.h.now/10 - 6; e > 0 {
		id := s.pick(s.units())
		n, _ := market.ParseUnitID(id)
		if !qos.IsHeldEpoch(s.h.blk, n, e) {
			if r := s.h.exec(s.pick(s.oracles), &qos.MsgReport{Epoch: e, Units: []qos.UnitMeasurement{s.measure(id)}}); r.Code == core.CodeOK {
				s.t.Fatalf("block %d: late report of %s epoch %d (not held) accepted", b, id, e)
			}
		}
	}
}

// trackHolds follows the held unit-epochs: while held, the market holds
// their pay (not final, so not claimable; not refunded); a resolution as
// compliant needs a quorum of reports and releases it; a resolution as
// breached and an expiry refund it. So no provider is paid for an epoch
// its assigned oracles left silent unless a quorum of them judged it
// compliant.
func (s *qosSim) trackHolds(b int, evs []core.Event) {
	if s.held == nil {
		s.held = map[string]heldTrack{}
	}
	for _, e := range evs {
		k := attr(e, "unit") + "/" + attr(e, "epoch")
		ep, _ := strconv.ParseInt(attr(e, "epoch"), 10, 64)
		switch e.Type {
		case "qos_hold":
			if attr(e, "unenforced") != "true" {
				s.held[k] = heldTrack{unit: attr(e, "unit"), epoch: ep}
				s.counts["qos_hold"]++
			}
		case "qos_hold_resolved", "qos_hold_expired":
			if _, ok := s.held[k]; !ok {
				s.t.Fatalf("block %d: %s of %s, which was never held", b, e.Type, k)
			}
			delete(s.held, k)
			s.counts[e.Type+"/"+attr(e, "status")]++
			s.checkResolution(b, e, attr(e, "unit"), ep)
		}
	}
	for k, h := range s.held {
		u, _ := market.GetUnit(s.h.blk, h.unit)
		n, _ := market.ParseUnitID(h.unit)
		if u.Status == market.UnitDeleted {
			delete(s.held, k)
			continue
		}
		if !market.IsHeld(u, h.epoch) || !qos.IsHeldEpoch(s.h.blk, n, h.epoch) || market.IsBreached(s.h.blk, n, h.epoch) {
			s.t.Fatalf("block %d: %s left its hold without a resolution (market held %v, qos held %v)", b, k, market.IsHeld(u, h.epoch), qos.IsHeldEpoch(s.h.blk, n, h.epoch))
		}
	}
}

// checkResolution checks one resolution event against the market.
func (s *qosSim) checkResolution(b int, e core.Event, id string, ep int64) {
	u, _ := market.GetUnit(s.h.blk, id)
	n, _ := market.ParseUnitID(id)
	reports, _ := strconv.Atoi(attr(e, "reports"))
	quorum, _ := strconv.Atoi(attr(e, "quorum"))
	breached := market.IsBreached(s.h.blk, n, ep)
	switch {
	case market.IsHeld(u, ep):
		s.t.Fatalf("block %d: %s epoch %d still held after %s", b, id, ep, e.Type)
	case e.Type == "qos_hold_expired" && attr(e, "unenforced") != "true" && !breached:
		s.t.Fatalf("block %d: %s epoch %d expired but not refunded", b, id, ep)
	case e.Type == "qos_hold_resolved" && reports < quorum:
		s.t.Fatalf("block %d: %s epoch %d resolved on %d reports, quorum %d", b, id, ep, reports, quorum)
	case e.Type == "qos_hold_resolved" && (attr(e, "status") == qos.QoSCompliant) == breached:
		s.t.Fatalf("block %d: %s epoch %d resolved %s, breached in the market %v", b, id, ep, attr(e, "status"), breached)
	}
}

// checkHoldsExercised: the run held epochs, resolved some on late
// reports and let others expire.
func (s *qosSim) checkHoldsExercised() {
	if s.counts["qos_hold"] == 0 || s.counts["late_report"] == 0 || s.counts["qos_hold_expired/"] == 0 {
		s.t.Fatalf("holds not exercised: %v", s.counts)
	}
}

// checkOutlierSlashes: every outlier slash is split exactly: sharers x
// each + to_treasury = amount, at most outlier_slash, and never shared
// with the slashed oracle's own account.
func (s *qosSim) checkOutlierSlashes(b int, evs []core.Event) {
	for _, e := range evs {
		if e.Type != "oracle_outlier_slashed" {
			continue
		}
		num := func(k string) uint64 { v, _ := strconv.ParseUint(attr(e, k), 10, 64); return v }
		if num("sharers")*num("each")+num("to_treasury") != num("amount") || num("amount") > uint64(qosPropParams().OutlierSlash) {
			s.t.Fatalf("block %d: outlier slash split %v", b, e.Attrs)
		}
	}
}
