// Package chainview keeps a bridge in step with the chain: which
// reservations of its provider are active (with their quotas and egress
// allowances) and which access keys may use them, opening each key's sealed
// secret with the bridge's X25519 key. It also reports metered usage back
// to the chain once per epoch.
//
// It lists everything once (Sync), then follows the chain: on every poll it
// asks the node what changed for its provider since the last height it saw
// (GET /v1/providers/{address}/changes) and fetches only those reservations
// and keys, so a block costs one request plus one per changed record, however
// many reservations the provider has. A key works within one block of its
// creation and stops within one block of its revocation or of its
// reservation's end. On a gap (the node cannot say what changed), on an
// error, and after a restart it lists everything once again.
package chainview

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/flashback-network/flashback/api/types"

	"github.com/flashback-network/flashback/bridge"
	"github.com/flashback-network/flashback/client"
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

	mu sync.Mutex
	// height is the committed height the view reflects; synced is false
	// until a full sync succeeds and again after any error, so the next
	// poll lists everything instead of trusting a view that missed changes.
	height   int64
	synced   bool
	checked  time.Time                  // when the view last matched the chain (a poll that succeeded)
	resKeys  map[string]map[string]bool // served reservation -> its served keys
	keyRes   map[string]string          // served key -> its reservation
	opened   map[[32]byte]string        // sealed secret hash -> secret
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
		resKeys: map[string]map[string]bool{}, keyRes: map[string]string{}, opened: map[[32]byte]string{},
		chainRes: map[string]types.ReservationView{}, reported: map[string]int64{},
	}
}

// Keys is the bridge's key source.
func (v *View) Keys() bridge.Keys { return v.keys }

// Reservations is the bridge's reservation source.
func (v *View) Reservations() bridge.Reservations { return v.res }

// Freshness says whether the view is synced and when it last matched the
// chain's committed state: the bridge's sync lag.
func (v *View) Freshness() (synced bool, at time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.synced, v.checked
}

// Height is the block height the view reflects.
func (v *View) Height() int64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.height
}

// Run follows the chain until ctx ends, polling every interval. Errors go
// to onErr (nil: ignored); the poll after an error lists everything again.
func (v *View) Run(ctx context.Context, interval time.Duration, onErr func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := v.Update(ctx); err != nil && onErr != nil && ctx.Err() == nil {
			onErr(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// serveReservation makes an active reservation of the provider servable
// with its current quota and allowance. The bridge counts its own egress,
// so it gets the chain's egress_used minus what it reported itself. The
// caller holds mu.
func (v *View) serveReservation(r types.ReservationView) {
	v.chainRes[r.ID] = r
	if v.resKeys[r.ID] == nil {
		v.resKeys[r.ID] = map[string]bool{}
	}
	used := max(int64(r.EgressUsed)-v.reported[r.ID], 0)
	v.res.Set(bridge.Reservation{ID: r.ID, Unit: r.Unit, QuotaBytes: int64(r.Bytes), EgressBytes: int64(r.EgressBytes), EgressUsed: used})
}

// dropReservation stops serving a reservation and every key of it. The
// caller holds mu.
func (v *View) dropReservation(id string) {
	for k := range v.resKeys[id] {
		v.dropKey(k)
	}
	delete(v.resKeys, id)
	delete(v.chainRes, id)
	v.res.Delete(id)
}

// serveKey makes a key of a served reservation usable, opening its sealed
// secret (once per secret). A key sealed to another bridge key is not ours
// to serve and is left out. The caller holds mu.
func (v *View) serveKey(k types.AccessKey) {
	keys, live := v.resKeys[k.Reservation]
	if !live || k.Provider != v.provider {
		v.dropKey(k.ID) // pending reservations get keys but no service yet
		return
	}
	h := sha256.Sum256(k.SealedSecret)
	secret, ok := v.opened[h]
	if !ok {
		b, err := sealed.Open(k.SealedSecret, v.pub, v.priv)
		if err != nil {
			v.dropKey(k.ID)
			return
		}
		secret = string(b)
		v.opened[h] = secret
	}
	if old, ok := v.keyRes[k.ID]; ok && old != k.Reservation {
		delete(v.resKeys[old], k.ID)
	}
	keys[k.ID] = true
	v.keyRes[k.ID] = k.Reservation
	v.keys.Set(bridge.Key{AccessKeyID: k.ID, Secret: secret, Bucket: k.Reservation, Perm: k.Perm})
}

// dropKey stops serving a key. The caller holds mu.
func (v *View) dropKey(id string) {
	if res, ok := v.keyRes[id]; ok {
		delete(v.resKeys[res], id)
		delete(v.keyRes, id)
	}
	v.keys.Delete(id)
}
