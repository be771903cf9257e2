package chainview

import (
	"context"
	"fmt"
	"time"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/market"

	"github.com/flashback-network/flashback/client"
)

// listPage is the page size of full syncs (the API's largest).
const listPage = 100

// Sync lists the provider's active reservations and keys and replaces the
// view with them: the first sync, and the fallback after a gap or an error.
func (v *View) Sync(ctx context.Context) error {
	// The changes endpoint with since=0 answers a gap with the committed
	// height; the lists below read state at least that new, so following
	// changes from it misses nothing (a block seen twice applies twice,
	// which is harmless).
	ch, err := v.c.ProviderChanges(ctx, v.provider, 0)
	if err != nil {
		v.markStale()
		return fmt.Errorf("chain height: %w", err)
	}
	active, err := v.listActive(ctx)
	if err != nil {
		v.markStale()
		return err
	}
	keys, err := v.listKeys(ctx, "", v.provider)
	if err != nil {
		v.markStale()
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for id := range v.chainRes {
		if _, ok := active[id]; !ok {
			v.dropReservation(id)
		}
	}
	for _, r := range active {
		v.serveReservation(r)
	}
	listed := make(map[string]bool, len(keys))
	for _, k := range keys {
		listed[k.ID] = true
		v.serveKey(k)
	}
	for id := range v.keyRes {
		if !listed[id] {
			v.dropKey(id)
		}
	}
	v.height, v.synced, v.checked = ch.Height, true, time.Now()
	return nil
}

// markStale makes the next poll a full sync.
func (v *View) markStale() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.synced = false
}

// listActive lists the provider's active reservations, every page.
func (v *View) listActive(ctx context.Context) (map[string]types.ReservationView, error) {
	active := map[string]types.ReservationView{}
	cursor := ""
	for {
		page, err := v.c.Reservations(ctx, client.ReservationFilter{Page: client.Page{Limit: listPage, Cursor: cursor}, Provider: v.provider, Status: market.ResActive})
		if err != nil {
			return nil, fmt.Errorf("list reservations: %w", err)
		}
		for _, r := range page.Reservations {
			active[r.ID] = r
		}
		if page.NextCursor == "" {
			return active, nil
		}
		cursor = page.NextCursor
	}
}

// listKeys lists the access keys of a reservation or of the provider,
// every page.
func (v *View) listKeys(ctx context.Context, reservation, provider string) ([]types.AccessKey, error) {
	var keys []types.AccessKey
	cursor := ""
	for {
		page, err := v.c.AccessKeys(ctx, reservation, provider, cursor)
		if err != nil {
			return nil, fmt.Errorf("list access keys: %w", err)
		}
		keys = append(keys, page.AccessKeys...)
		if page.NextCursor == "" {
			return keys, nil
		}
		cursor = page.NextCursor
	}
}
