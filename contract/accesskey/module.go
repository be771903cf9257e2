package accesskey

import (
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
)

// Routes are the access key message types and their handlers.
func Routes() []core.Route {
	return []core.Route{
		core.NewRoute(market.NotWhileSettling(handleCreateAccessKey)),
		core.NewRoute(handleRevokeAccessKey),
	}
}

// Hooks drops a reservation's keys when it ends (market.ReservationListener).
type Hooks struct{}

var _ market.ReservationListener = Hooks{}

func (Hooks) ReservationClosed(ctx *core.Context, resID string) { dropReservationKeys(ctx, resID) }
