package qos

import (
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/store"
)

// Keeper is the QoS module: oracles, reports, SLA enforcement, scores,
// rewards and stats. It builds on the market (it reads and marks units,
// reservations and providers through the market's keeper); the market
// calls back into it only through market.Quality, which Hooks implements.
type Keeper struct {
	market    *market.Keeper
	workLimit int // epoch-end items per block (epochwork.go); <= 0: none
}

// NewKeeper returns the QoS module over the market.
func NewKeeper(m *market.Keeper) *Keeper { return &Keeper{market: m, workLimit: MaxEpochWorkPerBlock} }

// Routes are the QoS message types and their handlers.
func (qk *Keeper) Routes() []core.Route {
	return []core.Route{
		core.NewRoute(handleRegisterOracle),
		core.NewRoute(handleDeregisterOracle),
		core.NewRoute(handleReport),
		core.NewRoute(handleDeclareRelated),
		core.NewRoute(handleUnjailOracle),
		core.NewRoute(market.NotWhileSettling(handleClaimCompensation)),
	}
}

// Hooks is what the market calls into QoS for (market.Quality): stats,
// score sums, the SLA and maintenance history, suspension and the
// compensation index. It holds no state.
type Hooks struct{}

var _ market.Quality = Hooks{}

func (Hooks) ProviderChanged(kv store.KV, key []byte, p *market.Provider) {
	statsProviderChanged(kv, key, p)
}

func (Hooks) UnitChanged(kv store.KV, key []byte, u *market.Unit) { statsUnitChanged(kv, key, u) }

func (Hooks) SLAChanging(kv store.KV, u *market.Unit, sla market.SLAOffer, now int64) {
	qosNoteSLA(kv, u, sla, now)
}

func (Hooks) MaintenanceChanged(kv store.KV, u *market.Unit, action string, now int64) {
	qosNoteMaintenance(kv, u, action, now)
}

func (Hooks) CheckAdmits(kv store.KV, u *market.Unit) error { return checkNotSuspended(kv, u) }

func (Hooks) ReservationActivated(kv store.KV, u *market.Unit, r *market.Reservation, now int64) {
	compOnActivate(kv, u, r, now)
}

func (Hooks) ReservationResizing(ctx *core.Context, u *market.Unit, r *market.Reservation, grow uint64) error {
	return compOnResize(ctx, u, r, grow)
}

func (Hooks) ReservationFinishing(ctx *core.Context, u *market.Unit, r *market.Reservation) error {
	return compOnFinish(ctx, u, r)
}

func (Hooks) ProviderPaid(kv store.KV, net, fee core.Amount) { statsPaid(kv, net, fee) }

func (Hooks) CompensationOwed(kv store.KV, u *market.Unit, r *market.Reservation) core.Amount {
	return compOwedAmount(kv, u, r)
}
