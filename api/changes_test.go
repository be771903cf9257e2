package api_test

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"slices"
	"testing"

	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract"
)

// TestProviderChanges runs two providers on a real node and checks that
// each one's changes list its own reservations and keys, including events
// that do not name the provider (accept, top-up), and never the other's.
func TestProviderChanges(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	sn := startSpecNode(t)
	ctx := context.Background()
	alice := sn.signers["alice"]
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	unitOf := func(prov *client.Signer) string {
		key, err := ecdh.X25519().GenerateKey(rand.Reader)
		must("bridge key", err)
		_, err = prov.RegisterProvider(ctx, contract.MsgRegisterProvider{Name: "changes", Endpoint: "http://127.0.0.1:1", BridgePubKey: key.PublicKey().Bytes()})
		must("register", err)
		_, err = prov.Stake(ctx, sn.params.MinUnitStake)
		must("stake", err)
		id, _, err := prov.AddUnit(ctx, contract.MsgAddUnit{Kind: "local", Region: "eu", Country: "DE", Capacity: 1 << 40, StoragePrice: 1, EgressPrice: 1})
		must("add unit", err)
		return id
	}
	mine, theirs := sn.signers["provider"], sn.signers["bob"]
	unitMine, unitTheirs := unitOf(mine), unitOf(theirs)
	st, err := sn.c.Status(ctx)
	must("status", err)
	since := st.Height

	reserve := func(unit string) string {
		id, _, err := alice.Reserve(ctx, contract.MsgReserve{Unit: unit, Bytes: 1 << 20, Term: 86400, MaxPrice: 1})
		must("reserve", err)
		return id
	}
	resMine, resTheirs := reserve(unitMine), reserve(unitTheirs)
	_, err = mine.AcceptReservation(ctx, resMine)
	must("accept", err)
	_, err = theirs.AcceptReservation(ctx, resTheirs)
	must("accept", err)
	keyMine, err := alice.CreateAccessKey(ctx, resMine, contract.PermRead)
	must("key", err)
	_, err = alice.CreateAccessKey(ctx, resTheirs, contract.PermRead)
	must("key", err)

	ch, err := sn.c.ProviderChanges(ctx, mine.Address(), since)
	must("changes", err)
	if ch.Gap || ch.Since != since || ch.Height <= since {
		t.Fatalf("changes since %d: %+v, want no gap and a later height", since, ch)
	}
	if !slices.Equal(ch.Reservations, []string{resMine}) || !slices.Equal(ch.AccessKeys, []string{keyMine.AccessKeyID}) {
		t.Errorf("changes of %s: reservations %v keys %v, want [%s] [%s]", mine.Address(), ch.Reservations, ch.AccessKeys, resMine, keyMine.AccessKeyID)
	}

	// An event without the provider (top-up) alone still names the
	// reservation; the other provider's top-up does not show.
	_, err = alice.TopUp(ctx, resTheirs, 1<<20)
	must("top up", err)
	_, err = alice.TopUp(ctx, resMine, 1<<20)
	must("top up", err)
	next, err := sn.c.ProviderChanges(ctx, mine.Address(), ch.Height)
	must("changes", err)
	if !slices.Equal(next.Reservations, []string{resMine}) || len(next.AccessKeys) != 0 {
		t.Errorf("changes after top-ups: %+v, want only %s", next, resMine)
	}
	idle, err := sn.c.ProviderChanges(ctx, mine.Address(), next.Height)
	must("changes", err)
	if idle.Gap || len(idle.Reservations)+len(idle.AccessKeys) != 0 {
		t.Errorf("changes since the last answer: %+v, want none", idle)
	}

	for _, s := range []int64{0, next.Height + 1000} {
		g, err := sn.c.ProviderChanges(ctx, mine.Address(), s)
		must("changes", err)
		if !g.Gap {
			t.Errorf("changes since %d (node at %d): want gap, got %+v", s, g.Height, g)
		}
	}
}
