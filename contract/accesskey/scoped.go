package accesskey

import (
	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/store"
)

// Scoped keys are read keys another module makes for a reservation and
// drops when it is done with them: the dispute module's key through which
// the assigned oracles re-read a disputed object. They are ordinary records
// (the bridge serves them like any key of the reservation, read only, and
// they go when the reservation ends), owned by the reservation's consumer,
// who sealed the secret to the bridge.

// PutScopedReadKey stores read key id for live reservation resID with its
// secret sealed to the provider's bridge key.
func PutScopedReadKey(ctx *core.Context, resID, id string, sealedSecret []byte, reason string) error {
	if !ValidAccessKeyID(id) {
		return core.Errf(core.CodeInvalidMessage, "access_key_id %q: want 16-32 characters of A-Z and 0-9", id)
	}
	if len(sealedSecret) < 48 || len(sealedSecret) > maxSealedSecret {
		return core.Errf(core.CodeInvalidMessage, "sealed secret is %d bytes: want the secret sealed to the bridge key (48-%d bytes)", len(sealedSecret), maxSealedSecret)
	}
	r, ok := market.GetReservation(ctx.KV, resID)
	if !ok {
		return core.Errf(core.CodeNotFound, "reservation %s does not exist", resID)
	}
	if !r.Live() {
		return core.Errf(core.CodeWrongState, "reservation %s is %s; keys can only be made for pending or active reservations", r.ID, r.Status)
	}
	if ctx.KV.Get(RecordKey(id)) != nil {
		return core.Errf(core.CodeAlreadyExists, "access key id %s is taken; generate another", id)
	}
	n, _ := market.ParseResID(r.ID)
	count := 0
	resPrefix := store.Key(keyAKRes, store.EncodeUint64(n))
	ctx.KV.Iterate(resPrefix, store.PrefixEnd(resPrefix), func(_, _ []byte) bool { count++; return true })
	if count >= MaxKeysPerReservation {
		return core.Errf(core.CodeWrongState, "reservation %s already has %d keys (the maximum); revoke one first", r.ID, count)
	}
	provRaw, err := address.Parse(r.Provider)
	if err != nil {
		return core.Errf(core.CodeInternal, "reservation %s provider: %v", r.ID, err)
	}
	k := AccessKey{ID: id, Reservation: r.ID, Unit: r.Unit, Provider: r.Provider, Owner: r.Consumer,
		Perm: PermRead, SealedSecret: sealedSecret, CreatedAt: core.Time(ctx.Now())}
	store.Set(ctx.KV, RecordKey(id), &k)
	ctx.KV.Set(store.Key(resPrefix, []byte(id)), []byte{})
	ctx.KV.Set(store.Key(keyAKProv, provRaw, []byte(id)), []byte{})
	ctx.Emit("access_key_created", "access_key_id", id, "reservation", r.ID, "unit", r.Unit, "provider", r.Provider, "perm", PermRead, "reason", reason)
	return nil
}

// DropScopedKey deletes key id if it still exists (its reservation may
// have ended, or its owner revoked it, meanwhile).
func DropScopedKey(ctx *core.Context, id, reason string) {
	var k AccessKey
	if !store.Get(ctx.KV, RecordKey(id), &k) {
		return
	}
	deleteAccessKey(ctx.KV, &k)
	ctx.Emit("access_key_revoked", "access_key_id", id, "reservation", k.Reservation, "provider", k.Provider, "reason", reason)
}
