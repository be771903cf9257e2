package repo

import (
	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/store"
)

// Market is what the repository module reads of the market: the expected
// keeper. The dependency runs one way (repo -> market); the market knows
// nothing of repositories, and a reservation that ends needs no hook here:
// its member shows as degraded the next time it is read.
type Market interface {
	Reservation(kv store.KV, id string) (*market.Reservation, bool)
	Unit(kv store.KV, id string) (*market.Unit, bool)
	Provider(kv store.KV, addr string) (*market.Provider, bool)
	// UnitSuspended reports a unit QoS has suspended for a low score
	// (breaches): its members are degraded.
	UnitSuspended(kv store.KV, unit string) bool
}

// MarketReader is the Market over the market's state. Suspended, when set,
// says whether unit number n is suspended (the app wires it to QoS, which
// this package does not import).
type MarketReader struct {
	Suspended func(kv store.KV, unitN uint64) bool
}

var _ Market = MarketReader{}

func (MarketReader) Reservation(kv store.KV, id string) (*market.Reservation, bool) {
	return market.GetReservation(kv, id)
}

func (MarketReader) Unit(kv store.KV, id string) (*market.Unit, bool) { return market.GetUnit(kv, id) }

func (MarketReader) Provider(kv store.KV, addr string) (*market.Provider, bool) {
	raw, err := address.Parse(addr)
	if err != nil {
		return nil, false
	}
	return market.GetProvider(kv, raw)
}

func (m MarketReader) UnitSuspended(kv store.KV, unit string) bool {
	n, err := market.ParseUnitID(unit)
	if err != nil || m.Suspended == nil {
		return false
	}
	return m.Suspended(kv, n)
}

// Keeper is the repository module.
type Keeper struct {
	mk Market
}

// NewKeeper returns the module over its view of the market.
func NewKeeper(mk Market) *Keeper { return &Keeper{mk: mk} }

// Routes are the repository message types and their handlers.
func (k *Keeper) Routes() []core.Route {
	return []core.Route{
		core.NewRoute(k.handleCreate),
		core.NewRoute(k.handleAddMember),
		core.NewRoute(k.handleRemoveMember),
		core.NewRoute(k.handleReplaceMember),
		core.NewRoute(k.handleMemberSynced),
		core.NewRoute(k.handleSetQuorum),
		core.NewRoute(k.handleDelete),
		core.NewRoute(k.handleCreateKey),
		core.NewRoute(k.handleRevokeKey),
	}
}
