package market

import (
	"math"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/store"
)

// The stake rule: a provider needs min_unit_stake bonded per live unit to
// add a unit (handleAddUnit) and keeps it while unstaking (handleUnstake);
// slashes can still take it below. A provider under the rule's need is
// under-staked: its units stop taking reservations (handleReserve refuses
// with insufficient_stake) until it stakes enough again or has fewer live
// units. Nothing is stored: the state follows from the provider record and
// the params, and SetProviderNoting emits the events when a change of
// stake or live units crosses the line.

// Event types of the stake rule, one per live unit of the provider.
const (
	EventReservationsPaused  = "unit_reservations_paused"
	EventReservationsResumed = "unit_reservations_resumed"
)

// StakeNeed is what p needs bonded for its live units (min_unit_stake
// each; the largest amount if that overflows) and whether it falls short.
func StakeNeed(p *Provider, minUnitStake core.Amount) (need core.Amount, short bool) {
	need, err := mulAmount(minUnitStake, p.LiveUnits)
	if err != nil {
		need = core.Amount(math.MaxUint64)
	}
	return need, p.LiveUnits > 0 && p.Stake < need
}

// checkProviderStaked refuses a reservation on u while its provider is
// under-staked.
func checkProviderStaked(kv store.KV, u *Unit, mp Params) error {
	owner, err := address.Parse(u.Provider)
	if err != nil {
		return core.Errf(core.CodeInternal, "unit %s provider: %v", u.ID, err)
	}
	p, ok := GetProvider(kv, owner)
	if !ok {
		return core.Errf(core.CodeNotFound, "provider %s of unit %s not found", u.Provider, u.ID)
	}
	need, short := StakeNeed(p, mp.MinUnitStake)
	if !short {
		return nil
	}
	return core.Errf(core.CodeInsufficientStake,
		"unit %s takes no reservations while its provider %s is under-staked: %d%s bonded, %d live units need %d%s (min_unit_stake %d each); it resumes once the provider stakes %d%s more",
		u.ID, p.Address, p.Stake, core.Denom, p.LiveUnits, need, core.Denom, mp.MinUnitStake, need-p.Stake, core.Denom)
}

// SetProviderNoting is SetProvider for a change of the provider's stake or
// live units: when the change moves it across the stake rule's need, each
// of its live units gets a unit_reservations_paused (now under-staked) or
// unit_reservations_resumed (staked again) event.
func (mk *Keeper) SetProviderNoting(ctx *core.Context, owner []byte, p *Provider) {
	mp := ParamsOf(ctx.KV)
	wasShort := false
	if old, ok := GetProvider(ctx.KV, owner); ok {
		_, wasShort = StakeNeed(old, mp.MinUnitStake)
	}
	mk.SetProvider(ctx.KV, owner, p)
	need, short := StakeNeed(p, mp.MinUnitStake)
	if short == wasShort {
		return
	}
	typ := EventReservationsResumed
	if short {
		typ = EventReservationsPaused
	}
	prefix := store.Key(KeyProvUnits, owner)
	ctx.KV.Iterate(prefix, store.PrefixEnd(prefix), func(k, _ []byte) bool {
		if len(k) != len(prefix)+8 {
			return true
		}
		u, ok := GetUnitN(ctx.KV, store.DecodeUint64(k[len(prefix):]))
		if ok && u.Status != UnitDeleted {
			ctx.Emit(typ, "unit", u.ID, "provider", p.Address, "stake", p.Stake.String(), "need", need.String(),
				"live_units", utoa(p.LiveUnits), "reason", "min_unit_stake")
		}
		return true
	})
}

// UnitTakesReservations reports whether u is available and its provider
// is not under-staked (what the unit views and quotes show).
func UnitTakesReservations(kv store.KV, u *Unit) bool {
	return u.Status == UnitAvailable && checkProviderStaked(kv, u, ParamsOf(kv)) == nil
}
