package contract

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/accesskey"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/store"
)

func sealed() []byte { return bytes.Repeat([]byte{9}, 88) }

func createKey(res, id, perm string) *accesskey.MsgCreateAccessKey {
	return &accesskey.MsgCreateAccessKey{Reservation: res, ID: id, Perm: perm, SealedSecret: sealed()}
}

const testKeyID = "FBTESTKEY0000000001"

func TestAccessKeyMessages(t *testing.T) {
	withKey := func(h *mkt) { h.ok("alice", createKey("res-1", testKeyID, accesskey.PermWrite)) }
	runCases(t, []mktCase{
		{name: "create", signer: "alice", msg: createKey("res-1", testKeyID, accesskey.PermWrite), check: func(t *testing.T, h *mkt) {
			out, err := Query(h.blk, "accesskeys/"+testKeyID)
			if err != nil {
				t.Fatal(err)
			}
			var k accesskey.AccessKey
			if err := json.Unmarshal(out, &k); err != nil {
				t.Fatal(err)
			}
			if k.Reservation != "res-1" || k.Unit != "unit-1" || k.Provider != mktAddr("prov") || k.Owner != mktAddr("alice") || k.Perm != accesskey.PermWrite || !bytes.Equal(k.SealedSecret, sealed()) {
				t.Fatalf("stored key %+v", k)
			}
		}},
		{name: "not the consumer", signer: "bob", msg: createKey("res-1", testKeyID, accesskey.PermRead), code: core.CodeUnauthorized},
		{name: "unknown reservation", signer: "alice", msg: createKey("res-99", testKeyID, accesskey.PermRead), code: core.CodeNotFound},
		{name: "duplicate id", setup: withKey, signer: "alice", msg: createKey("res-1", testKeyID, accesskey.PermRead), code: core.CodeAlreadyExists},
		{name: "bad id", signer: "alice", msg: createKey("res-1", "lowercase-key-id-x", accesskey.PermRead), code: core.CodeInvalidMessage},
		{name: "bad perm", signer: "alice", msg: createKey("res-1", testKeyID, "root"), code: core.CodeInvalidMessage},
		{name: "plaintext-sized secret", signer: "alice", msg: &accesskey.MsgCreateAccessKey{Reservation: "res-1", ID: testKeyID, Perm: accesskey.PermRead, SealedSecret: []byte("short-secret")}, code: core.CodeInvalidMessage},
		{name: "ended reservation", setup: func(h *mkt) { h.ok("alice", &market.MsgCloseReservation{ResRef: market.ResRef{Reservation: "res-1"}}) }, signer: "alice", msg: createKey("res-1", testKeyID, accesskey.PermRead), code: core.CodeWrongState},
		{name: "revoke", setup: withKey, signer: "alice", msg: &accesskey.MsgRevokeAccessKey{ID: testKeyID}, check: func(t *testing.T, h *mkt) {
			if _, err := Query(h.blk, "accesskeys/"+testKeyID); core.CodeOf(err) != core.CodeNotFound {
				t.Fatalf("revoked key still queryable: %v", err)
			}
			out, _ := Query(h.blk, "accesskeys?provider="+mktAddr("prov"))
			if bytes.Contains(out, []byte(testKeyID)) {
				t.Fatalf("revoked key still listed for the provider: %s", out)
			}
		}},
		{name: "revoke someone else's", setup: withKey, signer: "bob", msg: &accesskey.MsgRevokeAccessKey{ID: testKeyID}, code: core.CodeUnauthorized},
		{name: "revoke unknown", signer: "alice", msg: &accesskey.MsgRevokeAccessKey{ID: testKeyID}, code: core.CodeNotFound},
	})
}

// Keys die with their reservation, and listing works by reservation and by
// provider (the bridge's view) with pagination.
func TestAccessKeysLifecycle(t *testing.T) {
	h := fixture(t)
	ids := []string{"FBKEYAAAAAAAAAAAAAA1", "FBKEYAAAAAAAAAAAAAA2", "FBKEYAAAAAAAAAAAAAA3"}
	for _, id := range ids {
		h.ok("alice", createKey("res-1", id, accesskey.PermRead))
	}
	var page types.AccessKeysPage
	out, err := Query(h.blk, "accesskeys?provider="+mktAddr("prov")+"&limit=2")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.AccessKeys) != 2 || page.NextCursor == "" {
		t.Fatalf("first page: %s", out)
	}
	out, err = Query(h.blk, "accesskeys?provider="+mktAddr("prov")+"&limit=2&cursor="+page.NextCursor)
	if err != nil {
		t.Fatal(err)
	}
	var page2 types.AccessKeysPage
	if err := json.Unmarshal(out, &page2); err != nil {
		t.Fatal(err)
	}
	if len(page2.AccessKeys) != 1 || page2.AccessKeys[0].ID != ids[2] || page2.NextCursor != "" {
		t.Fatalf("second page: %s", out)
	}
	// Closing the reservation removes its keys in the same block.
	r := h.ok("alice", &market.MsgCloseReservation{ResRef: market.ResRef{Reservation: "res-1"}})
	revoked := 0
	for _, e := range r.Events {
		if e.Type == "access_key_revoked" {
			revoked++
		}
	}
	if revoked != len(ids) {
		t.Fatalf("%d access_key_revoked events, want %d", revoked, len(ids))
	}
	for _, id := range ids {
		if h.blk.Get(accesskey.RecordKey(id)) != nil {
			t.Fatalf("key %s survived its reservation", id)
		}
	}
	n := 0
	h.blk.Iterate([]byte("ak/"), store.PrefixEnd([]byte("ak/")), func(_, _ []byte) bool { n++; return true })
	if n != 0 {
		t.Fatalf("%d access key index entries left", n)
	}
	if _, err := Query(h.blk, "accesskeys"); core.CodeOf(err) != core.CodeInvalidQuery {
		t.Fatalf("accesskeys without filter: %v", err)
	}
}

func TestAccessKeyLimitPerReservation(t *testing.T) {
	h := fixture(t)
	for i := 0; i < accesskey.MaxKeysPerReservation; i++ {
		h.ok("alice", createKey("res-1", "FBLIMIT"+string(rune('A'+i/26))+string(rune('A'+i%26))+"0000000000", accesskey.PermRead))
	}
	if r := h.exec("alice", createKey("res-1", "FBLIMITZZ0000000000", accesskey.PermRead)); r.Code != core.CodeWrongState {
		t.Fatalf("key over the limit: %s %s", r.Code.Name(), r.Log)
	}
}
