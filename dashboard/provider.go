package dashboard

import (
	"context"
	"errors"
	"net/http"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/core"
)

// changesWindow is how many recent blocks the provider page asks
// /v1/providers/{addr}/changes about.
const changesWindow = 500

// providerPage is the data of provider.html.
type providerPage struct {
	Provider     *types.ProviderView
	Score        *types.ProviderScoreView
	Units        []types.UnitView
	Reservations []types.ReservationView
	Revenue      revenue
	Moves        []scoreMove
	Charts       []chart
	Changes      *client.ProviderChanges
	ChangesSince int64
}

// revenue is what the provider's units earned: storage already claimed,
// storage claimable now, and egress (paid as usage is reported).
type revenue struct {
	Claimed, Claimable, Egress, Total core.Amount
	Overflow                          bool
}

func (h *Handler) provider(ctx context.Context, r *http.Request) (view, error) {
	addr := r.PathValue("address")
	pv, err := h.api.Provider(ctx, addr)
	if err != nil {
		return view{}, err
	}
	sc, err := h.api.ProviderScore(ctx, addr)
	if err != nil {
		return view{}, err
	}
	units, _, err := h.allUnits(ctx, client.UnitFilter{Provider: addr})
	if err != nil {
		return view{}, err
	}
	rs, err := h.api.Reservations(ctx, client.ReservationFilter{Provider: addr, Page: client.Page{Limit: 100}})
	if err != nil {
		return view{}, err
	}
	p := providerPage{Provider: pv, Score: sc, Units: units, Reservations: rs.Reservations, Revenue: sumRevenue(units)}
	qos := map[string]*types.UnitQoSView{}
	for _, u := range units {
		q, err := h.api.UnitQoS(ctx, u.ID, client.EpochRange{})
		if err != nil {
			return view{}, err
		}
		qos[u.ID] = q
	}
	p.Charts, p.Moves = scoreHistory(units, qos)
	if err := h.recentChanges(ctx, &p); err != nil {
		return view{}, err
	}
	return view{Name: "provider", Title: "Provider " + nameOr(pv.Name, pv.Address), Data: p}, nil
}

// recentChanges asks which reservations and access keys of the provider
// changed in the last changesWindow blocks.
func (h *Handler) recentChanges(ctx context.Context, p *providerPage) error {
	st, err := h.api.Status(ctx)
	if err != nil {
		return err
	}
	p.ChangesSince = max(1, st.Height-changesWindow)
	ch, err := h.api.ProviderChanges(ctx, p.Provider.Address, p.ChangesSince)
	var ae *client.Error
	if errors.As(err, &ae) && ae.Status == http.StatusBadRequest {
		return nil // an older node without the window: the section is left out
	}
	p.Changes = ch
	return err
}

func nameOr(name, addr string) string {
	if name != "" {
		return name
	}
	return short(addr)
}

func sumRevenue(units []types.UnitView) revenue {
	var rv revenue
	add := func(to *core.Amount, a core.Amount) {
		s, err := core.Add(*to, a)
		if err != nil {
			rv.Overflow = true
			s = core.MaxAmount
		}
		*to = s
	}
	for _, u := range units {
		add(&rv.Claimed, u.Settlement.ClaimedNet)
		add(&rv.Claimable, u.Claimable)
		add(&rv.Egress, u.Settlement.EgressEarned)
	}
	add(&rv.Total, rv.Claimed)
	add(&rv.Total, rv.Claimable)
	add(&rv.Total, rv.Egress)
	return rv
}
