// Package accesskey is the access key module: S3 credentials a consumer
// creates for a reservation (sealed to the provider's bridge key), revoked
// by the consumer or dropped when the reservation ends.
package accesskey

// The records are stored in the binary codec (codec_*.go, generated).
//go:generate go run ../store/recordgen -out codec.go -addr AccessKey.Provider,AccessKey.Owner -id AccessKey.Reservation=res-,AccessKey.Unit=unit- AccessKey

import (
	"encoding/json"
	"net/url"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/store"
)

// Access keys let S3 clients use a reservation through its provider's
// bridge. The consumer makes the key pair off chain and puts on chain only
// the secret sealed to the bridge's X25519 public key (an anonymous NaCl
// box): the bridge can open it, nobody reading the chain can. A key lives
// while its reservation does; revoking deletes it in the same block.

// Permissions an access key can carry.
const (
	PermRead  = "read"
	PermWrite = "write"
	PermAdmin = "admin"
)

// MaxKeysPerReservation bounds the state (and the work at reservation end).
const MaxKeysPerReservation = 32

// maxSealedSecret is generous for an anonymous box of a 40-byte secret
// (32 ephemeral key + 16 tag + 40 = 88 bytes).
const maxSealedSecret = 256

var (
	keyAK     = []byte("ak/k/") // + id -> AccessKey
	keyAKRes  = []byte("ak/r/") // + reservation number + id -> ""
	keyAKProv = []byte("ak/p/") // + provider raw address + id -> ""
)

// AccessKey is the on-chain record of an S3 access key.
type AccessKey struct {
	ID           string    `json:"access_key_id"`
	Reservation  string    `json:"reservation"`
	Unit         string    `json:"unit"`
	Provider     string    `json:"provider"`
	Owner        string    `json:"owner"`
	Perm         string    `json:"perm"`
	SealedSecret []byte    `json:"sealed_secret"`
	CreatedAt    core.Time `json:"created_at"`
}

// ValidAccessKeyID reports whether s has the shape of an access key id:
// 16 to 32 characters of A-Z and 0-9, like AWS key ids.
func ValidAccessKeyID(s string) bool {
	if len(s) < 16 || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// MsgCreateAccessKey registers a key for one of the signer's reservations.
type MsgCreateAccessKey struct {
	Reservation  string `json:"reservation"`
	ID           string `json:"access_key_id"`
	Perm         string `json:"perm"`
	SealedSecret []byte `json:"sealed_secret"`

	// resN is Reservation's number, parsed once by ValidateBasic.
	resN uint64
}

func (m *MsgCreateAccessKey) ValidateBasic() error {
	n, err := market.ParseResID(m.Reservation)
	if err != nil {
		return err
	}
	m.resN = n
	if !ValidAccessKeyID(m.ID) {
		return core.Errf(core.CodeInvalidMessage, "access_key_id %q: want 16-32 characters of A-Z and 0-9", m.ID)
	}
	switch m.Perm {
	case PermRead, PermWrite, PermAdmin:
	default:
		return core.Errf(core.CodeInvalidMessage, "perm %q: want read, write or admin", m.Perm)
	}
	if len(m.SealedSecret) < 48 || len(m.SealedSecret) > maxSealedSecret {
		return core.Errf(core.CodeInvalidMessage, "sealed_secret is %d bytes: want the secret sealed to the bridge key (48-%d bytes); never send a plaintext secret", len(m.SealedSecret), maxSealedSecret)
	}
	return nil
}

// RecordKey is where access key id is stored.
func RecordKey(id string) []byte { return store.Key(keyAK, []byte(id)) }

func handleCreateAccessKey(ctx *core.Context, signer []byte, m *MsgCreateAccessKey) error {
	n, err := market.ResNumber(m.resN, m.Reservation)
	if err != nil {
		return err
	}
	r, ok := market.GetReservationN(ctx.KV, n)
	if !ok {
		return core.Errf(core.CodeNotFound, "reservation %s does not exist", m.Reservation)
	}
	if r.Consumer != address.Encode(signer) {
		return core.Errf(core.CodeUnauthorized, "reservation %s belongs to %s; only its consumer can create keys for it", r.ID, r.Consumer)
	}
	if !r.Live() {
		return core.Errf(core.CodeWrongState, "reservation %s is %s; keys can only be made for pending or active reservations", r.ID, r.Status)
	}
	if ctx.KV.Get(RecordKey(m.ID)) != nil {
		return core.Errf(core.CodeAlreadyExists, "access key id %s is taken; generate another", m.ID)
	}
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
	k := AccessKey{ID: m.ID, Reservation: r.ID, Unit: r.Unit, Provider: r.Provider, Owner: r.Consumer,
		Perm: m.Perm, SealedSecret: m.SealedSecret, CreatedAt: core.Time(ctx.Now())}
	store.Set(ctx.KV, RecordKey(m.ID), &k)
	ctx.KV.Set(store.Key(resPrefix, []byte(m.ID)), []byte{})
	ctx.KV.Set(store.Key(keyAKProv, provRaw, []byte(m.ID)), []byte{})
	ctx.Emit("access_key_created", "access_key_id", m.ID, "reservation", r.ID, "unit", r.Unit, "provider", r.Provider, "perm", m.Perm)
	return nil
}

// MsgRevokeAccessKey deletes a key; the bridge stops accepting it within a
// block.
type MsgRevokeAccessKey struct {
	ID string `json:"access_key_id"`
}

func (m *MsgRevokeAccessKey) ValidateBasic() error {
	if !ValidAccessKeyID(m.ID) {
		return core.Errf(core.CodeInvalidMessage, "access_key_id %q: want 16-32 characters of A-Z and 0-9", m.ID)
	}
	return nil
}

func handleRevokeAccessKey(ctx *core.Context, signer []byte, m *MsgRevokeAccessKey) error {
	var k AccessKey
	if !store.Get(ctx.KV, RecordKey(m.ID), &k) {
		return core.Errf(core.CodeNotFound, "access key %s does not exist (already revoked, or its reservation ended)", m.ID)
	}
	if k.Owner != address.Encode(signer) {
		return core.Errf(core.CodeUnauthorized, "access key %s belongs to %s", m.ID, k.Owner)
	}
	deleteAccessKey(ctx.KV, &k)
	ctx.Emit("access_key_revoked", "access_key_id", m.ID, "reservation", k.Reservation, "provider", k.Provider)
	return nil
}

func deleteAccessKey(kv store.KV, k *AccessKey) {
	n, _ := market.ParseResID(k.Reservation)
	provRaw, _ := address.Parse(k.Provider)
	kv.Delete(RecordKey(k.ID))
	kv.Delete(store.Key(keyAKRes, store.EncodeUint64(n), []byte(k.ID)))
	kv.Delete(store.Key(keyAKProv, provRaw, []byte(k.ID)))
}

// dropReservationKeys deletes every key of a reservation that has ended;
// at most MaxKeysPerReservation of them.
func dropReservationKeys(ctx *core.Context, resID string) {
	n, err := market.ParseResID(resID)
	if err != nil {
		return
	}
	prefix := store.Key(keyAKRes, store.EncodeUint64(n))
	var ids []string
	ctx.KV.Iterate(prefix, store.PrefixEnd(prefix), func(k, _ []byte) bool {
		ids = append(ids, string(k[len(prefix):]))
		return true
	})
	for _, id := range ids {
		var k AccessKey
		if store.Get(ctx.KV, RecordKey(id), &k) {
			deleteAccessKey(ctx.KV, &k)
			ctx.Emit("access_key_revoked", "access_key_id", id, "reservation", resID, "provider", k.Provider, "reason", "reservation_ended")
		}
	}
}

// queryAccessKeys lists keys by reservation or by provider (the bridge's
// view), paginated by key id.
func queryAccessKeys(kv store.KV, q url.Values) ([]byte, error) {
	var prefix []byte
	switch {
	case q.Get("reservation") != "":
		n, err := market.ParseResID(q.Get("reservation"))
		if err != nil {
			return nil, core.Errf(core.CodeInvalidQuery, "%v", err)
		}
		prefix = store.Key(keyAKRes, store.EncodeUint64(n))
	case q.Get("provider") != "":
		raw, err := address.Parse(q.Get("provider"))
		if err != nil {
			return nil, core.Errf(core.CodeInvalidAddress, "provider: %v", err)
		}
		prefix = store.Key(keyAKProv, raw)
	default:
		return nil, core.Errf(core.CodeInvalidQuery, "accesskeys needs reservation= or provider=")
	}
	limit, err := market.PageLimit(q)
	if err != nil {
		return nil, err
	}
	page := types.AccessKeysPage{AccessKeys: []types.AccessKey{}}
	page.NextCursor, err = market.ScanPage(kv, prefix, q.Get("cursor"), limit, func(suffix []byte) bool {
		var ak AccessKey
		if !store.Get(kv, RecordKey(string(suffix)), &ak) {
			return false
		}
		page.AccessKeys = append(page.AccessKeys, ak.View())
		return true
	})
	if err != nil {
		return nil, err
	}
	return json.Marshal(page)
}

// Query answers "accesskeys" (by reservation or owner) and
// "accesskeys/ID"; ok is false for other paths.
func Query(kv store.KV, parts []string, q url.Values) ([]byte, bool, error) {
	switch {
	case len(parts) == 1 && parts[0] == "accesskeys":
		out, err := queryAccessKeys(kv, q)
		return out, true, err
	case len(parts) == 2 && parts[0] == "accesskeys":
		var k AccessKey
		if !store.Get(kv, RecordKey(parts[1]), &k) {
			return nil, true, core.Errf(core.CodeNotFound, "access key %s does not exist", parts[1])
		}
		out, err := json.Marshal(k.View())
		return out, true, err
	}
	return nil, false, nil
}
