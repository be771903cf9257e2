package contract

import (
	"encoding/json"
	"net/url"

	"github.com/flashback-network/flashback/address"
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
	ID           string `json:"access_key_id"`
	Reservation  string `json:"reservation"`
	Unit         string `json:"unit"`
	Provider     string `json:"provider"`
	Owner        string `json:"owner"`
	Perm         string `json:"perm"`
	SealedSecret []byte `json:"sealed_secret"`
	CreatedAt    Time   `json:"created_at"`
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
}

func (m *MsgCreateAccessKey) ValidateBasic() error {
	if _, err := parseResID(m.Reservation); err != nil {
		return err
	}
	if !ValidAccessKeyID(m.ID) {
		return Errf(CodeInvalidMessage, "access_key_id %q: want 16-32 characters of A-Z and 0-9", m.ID)
	}
	switch m.Perm {
	case PermRead, PermWrite, PermAdmin:
	default:
		return Errf(CodeInvalidMessage, "perm %q: want read, write or admin", m.Perm)
	}
	if len(m.SealedSecret) < 48 || len(m.SealedSecret) > maxSealedSecret {
		return Errf(CodeInvalidMessage, "sealed_secret is %d bytes: want the secret sealed to the bridge key (48-%d bytes); never send a plaintext secret", len(m.SealedSecret), maxSealedSecret)
	}
	return nil
}

func akKey(id string) []byte { return mkKey(keyAK, []byte(id)) }

func (m *MsgCreateAccessKey) Handle(ctx *Context, signer []byte) error {
	r, ok := GetReservation(ctx.KV, m.Reservation)
	if !ok {
		return Errf(CodeNotFound, "reservation %s does not exist", m.Reservation)
	}
	if r.Consumer != address.Encode(signer) {
		return Errf(CodeUnauthorized, "reservation %s belongs to %s; only its consumer can create keys for it", r.ID, r.Consumer)
	}
	if !r.live() {
		return Errf(CodeWrongState, "reservation %s is %s; keys can only be made for pending or active reservations", r.ID, r.Status)
	}
	if ctx.KV.Get(akKey(m.ID)) != nil {
		return Errf(CodeAlreadyExists, "access key id %s is taken; generate another", m.ID)
	}
	n, _ := parseResID(r.ID)
	count := 0
	resPrefix := mkKey(keyAKRes, be8(n))
	ctx.KV.Iterate(resPrefix, PrefixEnd(resPrefix), func(_, _ []byte) bool { count++; return true })
	if count >= MaxKeysPerReservation {
		return Errf(CodeWrongState, "reservation %s already has %d keys (the maximum); revoke one first", r.ID, count)
	}
	provRaw, err := address.Parse(r.Provider)
	if err != nil {
		return Errf(CodeInternal, "reservation %s provider: %v", r.ID, err)
	}
	k := AccessKey{ID: m.ID, Reservation: r.ID, Unit: r.Unit, Provider: r.Provider, Owner: r.Consumer,
		Perm: m.Perm, SealedSecret: m.SealedSecret, CreatedAt: Time(ctx.Now())}
	setJSON(ctx.KV, akKey(m.ID), &k)
	ctx.KV.Set(mkKey(resPrefix, []byte(m.ID)), []byte{})
	ctx.KV.Set(mkKey(keyAKProv, provRaw, []byte(m.ID)), []byte{})
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
		return Errf(CodeInvalidMessage, "access_key_id %q: want 16-32 characters of A-Z and 0-9", m.ID)
	}
	return nil
}

func (m *MsgRevokeAccessKey) Handle(ctx *Context, signer []byte) error {
	var k AccessKey
	if !getJSON(ctx.KV, akKey(m.ID), &k) {
		return Errf(CodeNotFound, "access key %s does not exist (already revoked, or its reservation ended)", m.ID)
	}
	if k.Owner != address.Encode(signer) {
		return Errf(CodeUnauthorized, "access key %s belongs to %s", m.ID, k.Owner)
	}
	deleteAccessKey(ctx.KV, &k)
	ctx.Emit("access_key_revoked", "access_key_id", m.ID, "reservation", k.Reservation, "provider", k.Provider)
	return nil
}

func deleteAccessKey(kv KV, k *AccessKey) {
	n, _ := parseResID(k.Reservation)
	provRaw, _ := address.Parse(k.Provider)
	kv.Delete(akKey(k.ID))
	kv.Delete(mkKey(keyAKRes, be8(n), []byte(k.ID)))
	kv.Delete(mkKey(keyAKProv, provRaw, []byte(k.ID)))
}

// dropReservationKeys deletes every key of a reservation that has ended;
// at most MaxKeysPerReservation of them.
func dropReservationKeys(ctx *Context, resID string) {
	n, err := parseResID(resID)
	if err != nil {
		return
	}
	prefix := mkKey(keyAKRes, be8(n))
	var ids []string
	ctx.KV.Iterate(prefix, PrefixEnd(prefix), func(k, _ []byte) bool {
		ids = append(ids, string(k[len(prefix):]))
		return true
	})
	for _, id := range ids {
		var k AccessKey
		if getJSON(ctx.KV, akKey(id), &k) {
			deleteAccessKey(ctx.KV, &k)
			ctx.Emit("access_key_revoked", "access_key_id", id, "reservation", resID, "provider", k.Provider, "reason", "reservation_ended")
		}
	}
}

// AccessKeysPage is the "accesskeys" query result.
type AccessKeysPage struct {
	AccessKeys []AccessKey `json:"access_keys"`
	NextCursor string      `json:"next_cursor"`
}

// queryAccessKeys lists keys by reservation or by provider (the bridge's
// view), paginated by key id.
func queryAccessKeys(kv KV, q url.Values) ([]byte, error) {
	var prefix []byte
	switch {
	case q.Get("reservation") != "":
		n, err := parseResID(q.Get("reservation"))
		if err != nil {
			return nil, Errf(CodeInvalidQuery, "%v", err)
		}
		prefix = mkKey(keyAKRes, be8(n))
	case q.Get("provider") != "":
		raw, err := address.Parse(q.Get("provider"))
		if err != nil {
			return nil, Errf(CodeInvalidAddress, "provider: %v", err)
		}
		prefix = mkKey(keyAKProv, raw)
	default:
		return nil, Errf(CodeInvalidQuery, "accesskeys needs reservation= or provider=")
	}
	limit, err := pageLimit(q)
	if err != nil {
		return nil, err
	}
	page := AccessKeysPage{AccessKeys: []AccessKey{}}
	page.NextCursor, err = scanPage(kv, prefix, q.Get("cursor"), limit, func(suffix []byte) bool {
		var ak AccessKey
		if !getJSON(kv, akKey(string(suffix)), &ak) {
			return false
		}
		page.AccessKeys = append(page.AccessKeys, ak)
		return true
	})
	if err != nil {
		return nil, err
	}
	return json.Marshal(page)
}

func accessKeyQuery(kv KV, parts []string, q url.Values) ([]byte, bool, error) {
	switch {
	case len(parts) == 1 && parts[0] == "accesskeys":
		out, err := queryAccessKeys(kv, q)
		return out, true, err
	case len(parts) == 2 && parts[0] == "accesskeys":
		var k AccessKey
		if !getJSON(kv, akKey(parts[1]), &k) {
			return nil, true, Errf(CodeNotFound, "access key %s does not exist", parts[1])
		}
		out, err := json.Marshal(k)
		return out, true, err
	}
	return nil, false, nil
}

func init() {
	Register("accesskey/create", func() Msg { return new(MsgCreateAccessKey) })
	Register("accesskey/revoke", func() Msg { return new(MsgRevokeAccessKey) })
}
