package market

import (
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/store"
)

// Quality is what the market asks of the module that judges service quality
// (the qos package implements it). The market calls it; it never imports
// the QoS module, so the dependency runs one way: qos -> market.
type Quality interface {
	// ProviderChanged is called before p is written over the record at key.
	ProviderChanged(kv store.KV, key []byte, p *Provider)
	// UnitChanged is called before u is written over the record at key.
	UnitChanged(kv store.KV, key []byte, u *Unit)
	// SLAChanging is called before a unit's offer changes to sla.
	SLAChanging(kv store.KV, u *Unit, sla SLAOffer, now int64)
	// MaintenanceChanged is called after a unit's maintenance window changed.
	MaintenanceChanged(kv store.KV, u *Unit, action string, now int64)
	// CheckAdmits rejects new reservations on a unit it has suspended.
	CheckAdmits(kv store.KV, u *Unit) error
	// ReservationActivated is called when r starts on u.
	ReservationActivated(kv store.KV, u *Unit, r *Reservation, now int64)
	// ReservationResizing pays r what it is owed before it grows by grow bytes.
	ReservationResizing(ctx *core.Context, u *Unit, r *Reservation, grow uint64) error
	// ReservationFinishing pays r what it is owed as it ends.
	ReservationFinishing(ctx *core.Context, u *Unit, r *Reservation) error
	// ProviderPaid records net paid to a provider and fee to the treasury.
	ProviderPaid(kv store.KV, net, fee core.Amount)
	// CompensationOwed is what r would collect now (for views).
	CompensationOwed(kv store.KV, u *Unit, r *Reservation) core.Amount
}

// ReservationListener hears of reservations that have ended (the access key
// module drops their keys).
type ReservationListener interface {
	ReservationClosed(ctx *core.Context, resID string)
}

// Keeper is the market module: its message handlers, block hooks and
// queries, with the hooks into the modules that build on it.
type Keeper struct {
	quality   Quality
	listeners []ReservationListener
	gate      ConsumerGate // dispute_hooks.go
}

// NewKeeper returns the market with its quality module and listeners.
func NewKeeper(quality Quality, listeners ...ReservationListener) *Keeper {
	return &Keeper{quality: quality, listeners: listeners}
}

func (mk *Keeper) reservationClosed(ctx *core.Context, resID string) {
	for _, l := range mk.listeners {
		l.ReservationClosed(ctx, resID)
	}
}

// Routes are the market's message types and their handlers.
func (mk *Keeper) Routes() []core.Route {
	return []core.Route{
		core.NewRoute(mk.handleRegisterProvider),
		core.NewRoute(mk.handleUpdateProvider),
		core.NewRoute(mk.handleStake),
		core.NewRoute(mk.handleUnstake),
		core.NewRoute(mk.handleDeregisterProvider),
		core.NewRoute(mk.handleAddUnit),
		// Messages that touch a unit's or a reservation's accounts wait
		// while term ends are being settled over several blocks.
		core.NewRoute(NotWhileSettling(mk.handleUpdateUnit)),
		core.NewRoute(NotWhileSettling(mk.handleUnitMaintenance)),
		core.NewRoute(NotWhileSettling(mk.handleDecommissionUnit)),
		core.NewRoute(NotWhileSettling(mk.handleDeleteUnit)),
		core.NewRoute(NotWhileSettling(mk.handleReserve)),
		core.NewRoute(NotWhileSettling(mk.handleAcceptReservation)),
		core.NewRoute(NotWhileSettling(mk.handleRejectReservation)),
		core.NewRoute(NotWhileSettling(handleTopUp)),
		core.NewRoute(NotWhileSettling(handleExtend)),
		core.NewRoute(NotWhileSettling(mk.handleResize)),
		core.NewRoute(NotWhileSettling(mk.handleCloseReservation)),
		core.NewRoute(NotWhileSettling(mk.handleClaim)),
		core.NewRoute(NotWhileSettling(mk.handleReportUsage)),
	}
}
