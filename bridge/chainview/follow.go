package chainview

import (
	"context"
	"fmt"
	"time"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"

	"github.com/flashback-network/flashback/client"
)

// Update brings the view to the chain's committed height: one request when
// nothing changed, plus one per reservation or key that did. Before the
// first sync, after an error, and when the node reports a gap it does a
// full Sync instead.
func (v *View) Update(ctx context.Context) error {
	v.mu.Lock()
	synced, since := v.synced, v.height
	v.mu.Unlock()
	if !synced {
		return v.Sync(ctx)
	}
	ch, err := v.c.ProviderChanges(ctx, v.provider, since)
	if err != nil {
		v.markStale()
		return fmt.Errorf("changes since %d: %w", since, err)
	}
	if ch.Gap {
		return v.Sync(ctx)
	}
	if ch.Height == since {
		v.mu.Lock()
		v.checked = time.Now()
		v.mu.Unlock()
		return nil
	}
	if err := v.apply(ctx, ch); err != nil {
		v.markStale()
		return fmt.Errorf("changes %d..%d: %w", since+1, ch.Height, err)
	}
	v.mu.Lock()
	v.height, v.checked = ch.Height, time.Now()
	v.mu.Unlock()
	return nil
}

// apply fetches each changed reservation, then each changed key, and
// updates the view with what the chain holds now. Reservations go first so
// that a key of a reservation accepted in the same window finds it served.
func (v *View) apply(ctx context.Context, ch *client.ProviderChanges) error {
	for _, id := range ch.Reservations {
		if err := v.refreshReservation(ctx, id); err != nil {
			return err
		}
	}
	for _, id := range ch.AccessKeys {
		if err := v.refreshKey(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// refreshReservation serves a reservation while it is an active one of the
// provider and drops it (and its keys) otherwise. A reservation served for
// the first time brings its keys, created while it was still pending.
func (v *View) refreshReservation(ctx context.Context, id string) error {
	r, err := v.c.Reservation(ctx, id)
	if client.IsCode(err, core.CodeNotFound) {
		v.mu.Lock()
		v.dropReservation(id)
		v.mu.Unlock()
		return nil
	}
	if err != nil {
		return fmt.Errorf("reservation %s: %w", id, err)
	}
	live := r.Status == market.ResActive && r.Provider == v.provider
	v.mu.Lock()
	_, served := v.chainRes[id]
	v.mu.Unlock()
	var keys []types.AccessKey
	if live && !served {
		if keys, err = v.listKeys(ctx, id, ""); err != nil {
			return fmt.Errorf("keys of reservation %s: %w", id, err)
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if !live {
		v.dropReservation(id)
		return nil
	}
	v.serveReservation(*r)
	for _, k := range keys {
		v.serveKey(k)
	}
	return nil
}

// refreshKey serves a key that exists on a served reservation and drops a
// revoked one.
func (v *View) refreshKey(ctx context.Context, id string) error {
	k, err := v.c.AccessKey(ctx, id)
	if client.IsCode(err, core.CodeNotFound) {
		v.mu.Lock()
		v.dropKey(id)
		v.mu.Unlock()
		return nil
	}
	if err != nil {
		return fmt.Errorf("access key %s: %w", id, err)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.serveKey(*k)
	return nil
}
