package client

import (
	"testing"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/core"
)

func ev(typ string, kv ...string) core.Event {
	e := core.Event{Type: typ}
	for i := 0; i+1 < len(kv); i += 2 {
		e.Attrs = append(e.Attrs, core.Attr{Key: kv[i], Value: kv[i+1]})
	}
	return e
}

// TestMoves reads the signer's moves from events and ignores other
// parties' (a provider's reject refunds the consumer, not the signer).
func TestMoves(t *testing.T) {
	me, other := "fb1me", "fb1other"
	res := &types.TxResult{Events: []core.Event{
		ev("tx", "signer", me, "fee", "1000"),
		ev("transfer", "sender", me, "recipient", other, "amount", "50"),
		ev("reservation_created", "id", "res-1", "consumer", me, "escrow", "700"),
		ev("reservation_closed", "id", "res-1", "consumer", me, "refunded", "300"),
		ev("reservation_rejected", "id", "res-2", "consumer", other, "refunded", "999"),
		ev("compensation_paid", "reservation", "res-1", "consumer", me, "amount", "20"),
		ev("claim", "unit", "unit-1", "provider", other, "amount", "5"),
	}}
	moves, err := Moves(res)
	if err != nil {
		t.Fatal(err)
	}
	want := []Move{{What: "fee", Amount: 1000}, {What: "sent", Amount: 50}, {What: "escrowed", Amount: 700, Ref: "res-1"},
		{What: "refunded", Amount: 300, In: true, Ref: "res-1"}, {What: "compensation", Amount: 20, In: true, Ref: "res-1"}}
	if len(moves) != len(want) {
		t.Fatalf("moves %+v, want %+v", moves, want)
	}
	for i := range want {
		if moves[i] != want[i] {
			t.Errorf("move %d: %+v, want %+v", i, moves[i], want[i])
		}
	}
	in, out, err := NetChange(moves)
	if err != nil || in != 320 || out != 1750 || FormatChange(in, out) != "-0.00143 FLASH" {
		t.Fatalf("net %d in %d out %v: %s", in, out, err, FormatChange(in, out))
	}
}
