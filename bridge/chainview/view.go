// Package chainview keeps a bridge in step with the chain: which
// reservations of its provider are active (with their quotas and egress
// allowances) and which access keys may use them, opening each key's sealed
// secret with the bridge's X25519 key. It also reports metered usage back
// to the chain once per epoch.
//
// It polls the node's REST API and refreshes on every new block, so a key
// works within one block of its creation and stops within one block of its
// revocation or of its reservation's end.
package chainview

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"time"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/bridge"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/sealed"
)

// View is the chain state one bridge needs.
type View struct {
	c        *client.Client
	provider string
	pub      *[sealed.KeySize]byte
	priv     *[sealed.KeySize]byte

	keys *bridge.StaticKeys
	res  *bridge.StaticReservations

	mu       sync.Mutex
	height   int64
	keyIDs   map[string]bool
	resIDs   map[string]bool
	opened   map[[32]byte]string // sealed secret hash -> secret
	chainRes map[string]types.ReservationView
	// reported is egress this bridge served and already reported on chain;
	// chain egress_used includes it, the bridge's own counter too.
	reported map[string]int64
}

// New returns a view for the provider's bridge with X25519 key pair
// (pub, priv). Call Sync or Run before serving.
func New(c *client.Client, provider string, pub, priv *[sealed.KeySize]byte) *View {
	return &View{
		c: c, provider: provider, pub: pub, priv: priv,
		keys: bridge.NewStaticKeys(), res: bridge.NewStaticReservations(),
		keyIDs: map[string]bool{}, resIDs: map[string]bool{}, opened: map[[32]byte]string{},
		chainRes: map[string]types.ReservationView{}, reported: map[string]int64{},
	}
}

// Keys is the bridge's key source.
func (v *View) Keys() bridge.Keys { return v.keys }

// Reservations is the bridge's reservation source.
func (v *View) Reservations() bridge.Reservations { return v.res }

// Height is the block height of the last sync.
func (v *View) Height() int64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.height
}

// Sync reloads the provider's active reservations and keys from the chain.
func (v *View) Sync(ctx context.Context) error {
	st, err := v.c.Status(ctx)
	if err != nil {
		return err
	}
	active := map[string]types.ReservationView{}
	cursor := ""
	for {
		page, err := v.c.Reservations(ctx, client.ReservationFilter{Page: client.Page{Limit: 100, Cursor: cursor}, Provider: v.provider, Status: market.ResActive})
		if err != nil {
			return fmt.Errorf("list reservations: %w", err)
		}
		for _, r := range page.Reservations {
			active[r.ID] = r
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	var keys []types.AccessKey
	cursor = ""
	for {
		page, err := v.c.AccessKeys(ctx, "", v.provider, cursor)
		if err != nil {
			return fmt.Errorf("list access keys: %w", err)
		}
		keys = append(keys, page.AccessKeys...)
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}

	v.mu.Lock()
	defer v.mu.Unlock()
	newRes := map[string]bool{}
	for id, r := range active {
		newRes[id] = true
		v.chainRes[id] = r
		used := int64(r.EgressUsed) - v.reported[id]
		if used < 0 {
			used = 0
		}
		v.res.Set(bridge.Reservation{ID: id, Unit: r.Unit, QuotaBytes: int64(r.Bytes), EgressBytes: int64(r.EgressBytes), EgressUsed: used})
	}
	for id := range v.resIDs {
		if !newRes[id] {
			v.res.Delete(id)
			delete(v.chainRes, id)
		}
	}
	v.resIDs = newRes

	newKeys := map[string]bool{}
	for _, k := range keys {
		if _, ok := active[k.Reservation]; !ok {
			continue // pending reservations get keys but no service yet
		}
		h := sha256.Sum256(k.SealedSecret)
		secret, ok := v.opened[h]
		if !ok {
			b, err := sealed.Open(k.SealedSecret, v.pub, v.priv)
			if err != nil {
				continue // sealed to another key: not ours to serve
			}
			secret = string(b)
			v.opened[h] = secret
		}
		newKeys[k.ID] = true
		v.keys.Set(bridge.Key{AccessKeyID: k.ID, Secret: secret, Bucket: k.Reservation, Perm: k.Perm})
	}
	for id := range v.keyIDs {
		if !newKeys[id] {
			v.keys.Delete(id)
		}
	}
	v.keyIDs = newKeys
	v.height = st.Height
	return nil
}

// Run syncs on every new block until ctx ends, polling the node's height
// every interval. Errors go to onErr (nil: ignored) and are retried.
func (v *View) Run(ctx context.Context, interval time.Duration, onErr func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		st, err := v.c.Status(ctx)
		if err == nil && st.Height != v.Height() {
			err = v.Sync(ctx)
		}
		if err != nil && onErr != nil && ctx.Err() == nil {
			onErr(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
