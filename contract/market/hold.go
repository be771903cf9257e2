package market

// Held epochs (issue 13; QoS side in qos/hold.go).
//
// When a unit-epoch has no quorum of its assigned oracles, QoS holds its
// pay instead of refunding it at once: MarkEpochHeld flags the epoch's
// ring entry Held. A held entry is not final (the provider cannot claim
// it) and it stays in the ring past settle_lag_epochs (trimRing keeps
// it) until QoS resolves it: ReleaseHeld (compliant: the entry becomes
// final like any other, the provider is paid) or MarkEpochBreached
// (non-compliant or expired: the unit's share is dropped, the
// reservations are not charged for it). A reservation that settles while
// an epoch it spans is held (it ends, or grows) cannot wait for the
// evidence: its share of the held epoch is not charged (refunded) and is
// taken out of the unit's accrual, so a held epoch is never paid before
// a quorum judged it compliant. All of it is O(ring) per unit, nothing
// per reservation.

import (
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/store"
)

// isHeld reports whether the ring holds epoch e's pay.
func isHeld(s *Settlement, e int64) bool {
	i := ringIndex(s, e, false)
	return i >= 0 && s.Ring[i].Held
}

// IsHeld reports whether epoch e of the unit is held.
func IsHeld(u *Unit, e int64) bool { return isHeld(&u.Settlement, e) }

// heldSeconds is the number of seconds in [a, b) in held epochs.
func heldSeconds(s *Settlement, a, b, epoch int64) int64 {
	var n int64
	for _, r := range s.Ring {
		if !r.Held {
			continue
		}
		lo, hi := max(r.Epoch*epoch, a), min((r.Epoch+1)*epoch, b)
		if hi > lo {
			n += hi - lo
		}
	}
	return n
}

// MarkEpochHeld holds the pay of the unit's epoch e until ReleaseHeld or
// MarkEpochBreached resolves it. e must be a past epoch no older than
// settle_lag_epochs (else CodeWrongState: it is final already).
func (mk *Keeper) MarkEpochHeld(kv store.KV, unitID string, e int64, now int64) error {
	mp := ParamsOf(kv)
	u, ok := GetUnit(kv, unitID)
	if !ok {
		return core.Errf(core.CodeNotFound, "unit %s not found", unitID)
	}
	cur := EpochOf(now, mp.Epoch)
	if e >= cur || e < cur-mp.Lag || e < 0 {
		return core.Errf(core.CodeWrongState, "epoch %d cannot be held now (current epoch %d, allowed %d..%d)", e, cur, max(cur-mp.Lag, 0), cur-1)
	}
	n, _ := ParseUnitID(u.ID)
	if IsBreached(kv, n, e) {
		return core.Errf(core.CodeAlreadyExists, "epoch %d of unit %s is already marked breached", e, unitID)
	}
	if u.Settlement.AccruedTo.Unix() < now {
		accrueUnit(u, now, mp)
	}
	s := &u.Settlement
	s.Ring[ringIndex(s, e, true)].Held = true
	mk.setUnit(kv, u)
	return nil
}

// ReleaseHeld ends the hold of the unit's epoch e as compliant: what the
// ring still holds of it becomes final (claimable) once it is older than
// settle_lag_epochs. A hold already resolved is left alone.
func (mk *Keeper) ReleaseHeld(kv store.KV, unitID string, e int64) error {
	u, ok := GetUnit(kv, unitID)
	if !ok {
		return core.Errf(core.CodeNotFound, "unit %s not found", unitID)
	}
	s := &u.Settlement
	i := ringIndex(s, e, false)
	if i < 0 || !s.Ring[i].Held {
		return nil
	}
	s.Ring[i].Held = false
	mp := ParamsOf(kv)
	trimRing(s, EpochOf(s.AccruedTo.Unix(), mp.Epoch)-mp.Lag)
	mk.setUnit(kv, u)
	return nil
}
