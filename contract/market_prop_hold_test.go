package contract

import (
	"github.com/flashback-network/flashback/contract/market"
)

// holdAction is QoS holding a recent epoch of a unit, or resolving one it
// holds: released (paid) or marked breached (refunded), sometimes long
// after settle_lag_epochs, when the epoch would be final without the hold.
func (s *mktSim) holdAction() {
	if len(s.held) == 0 || s.rng.IntN(3) == 0 {
		e := s.h.now/10 - 1 - s.rng.Int64N(2)
		id, _ := s.ownUnit(market.UnitAvailable, market.UnitMaintenance, market.UnitDecommissioning)
		if id == "" {
			return
		}
		if err := testApp.Market.MarkEpochHeld(s.h.blk, id, e, s.h.now); err == nil {
			s.held = append(s.held, heldTrack{unit: id, epoch: e})
			s.counts["hold"]++
		}
		return
	}
	i := s.rng.IntN(len(s.held))
	h := s.held[i]
	if _, ok := market.GetUnit(s.h.blk, h.unit); !ok {
		return
	}
	if s.h.now/10-h.epoch > market.ParamsOf(s.h.blk).Lag {
		s.counts["hold_old"]++
	}
	if s.rng.IntN(2) == 0 {
		if err := testApp.Market.ReleaseHeld(s.h.blk, h.unit, h.epoch); err != nil {
			s.t.Fatalf("release %s epoch %d: %v", h.unit, h.epoch, err)
		}
		s.counts["hold_released"]++
	} else {
		if err := testApp.Market.MarkEpochBreached(s.h.blk, h.unit, h.epoch, s.h.now); err != nil {
			s.t.Fatalf("breach held %s epoch %d: %v", h.unit, h.epoch, err)
		}
		s.counts["hold_breached"]++
	}
	s.held = append(s.held[:i], s.held[i+1:]...)
}

// checkHeld: a held epoch stays held (never final, so never claimable)
// until it is resolved, however old it gets.
func (s *mktSim) checkHeld(b int) {
	for _, h := range s.held {
		u, ok := market.GetUnit(s.h.blk, h.unit)
		if ok && !market.IsHeld(u, h.epoch) {
			s.t.Fatalf("block %d: %s epoch %d left its hold unresolved", b, h.unit, h.epoch)
		}
	}
}
