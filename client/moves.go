package client

// Money moves: what a tx did to its signer's balance, read from the tx's
// events, so a CLI can say "escrowed 1.2 FLASH, fee 0.01 FLASH" and the sum
// equals the balance change a query shows.

import (
	"fmt"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/core"
)

// Move is one amount in or out of the signer's balance.
type Move struct {
	// What: fee, sent, received, escrowed, refunded, claimed,
	// compensation, staked.
	What   string      `json:"what"`
	Amount core.Amount `json:"amount"`
	// In is true for money credited to the signer, false for debited.
	In bool `json:"in"`
	// Ref names what the move is about (a reservation or unit id), if any.
	Ref string `json:"ref,omitempty"`
}

// moveRule maps an event type to a move of the signer's balance: the
// amount is attribute amountKey, and the move is the signer's only when
// attribute partyKey names the signer ("" means the event is always the
// signer's own, e.g. a top-up of its reservation).
type moveRule struct {
	what, amountKey, partyKey, refKey string
	in                                bool
}

var moveRules = map[string][]moveRule{
	"tx":                   {{what: "fee", amountKey: "fee", partyKey: "signer"}},
	"transfer":             {{what: "sent", amountKey: "amount", partyKey: "sender"}, {what: "received", amountKey: "amount", partyKey: "recipient", in: true}},
	"reservation_created":  {{what: "escrowed", amountKey: "escrow", partyKey: "consumer", refKey: "id"}},
	"reservation_topup":    {{what: "escrowed", amountKey: "escrow", refKey: "id"}},
	"reservation_extended": {{what: "escrowed", amountKey: "escrow", refKey: "id"}},
	"reservation_resized":  {{what: "escrowed", amountKey: "escrow", refKey: "id"}},
	"claim":                {{what: "claimed", amountKey: "amount", partyKey: "provider", refKey: "unit", in: true}},
	"compensation_paid":    {{what: "compensation", amountKey: "amount", partyKey: "consumer", refKey: "reservation", in: true}},
	"stake":                {{what: "staked", amountKey: "amount", partyKey: "provider"}},
	"oracle_registered":    {{what: "staked", amountKey: "stake", partyKey: "oracle"}},
}

// Refunds are every "reservation_<status>" event carrying "refunded" (a
// close, a rejection, an expiry) credited to the consumer.
var refundRule = moveRule{what: "refunded", amountKey: "refunded", partyKey: "consumer", refKey: "id", in: true}

// Moves returns the signer's balance moves in res (the signer is the tx
// event's "signer"), in event order.
func Moves(res *types.TxResult) ([]Move, error) {
	signer := EventAttr(res, "tx", "signer")
	if signer == "" {
		return nil, nil
	}
	var out []Move
	for _, e := range res.Events {
		rules := moveRules[e.Type]
		if len(rules) == 0 && hasAttr(e, "refunded") && len(e.Type) > len("reservation_") && e.Type[:len("reservation_")] == "reservation_" {
			rules = []moveRule{refundRule}
		}
		for _, r := range rules {
			if r.partyKey != "" && attr(e, r.partyKey) != signer {
				continue
			}
			v := attr(e, r.amountKey)
			if v == "" {
				continue
			}
			a, err := core.ParseAmount(v)
			if err != nil {
				return nil, fmt.Errorf("tx %s: %s %s %q: %w", res.Hash, e.Type, r.amountKey, v, err)
			}
			if a == 0 && r.what != "fee" {
				continue
			}
			out = append(out, Move{What: r.what, Amount: a, In: r.in, Ref: attr(e, r.refKey)})
		}
	}
	return out, nil
}

// NetChange sums moves into what came in and what went out; the balance
// changed by in - out.
func NetChange(moves []Move) (in, out core.Amount, err error) {
	for _, m := range moves {
		if m.In {
			in, err = core.Add(in, m.Amount)
		} else {
			out, err = core.Add(out, m.Amount)
		}
		if err != nil {
			return 0, 0, err
		}
	}
	return in, out, nil
}

// FormatChange writes in - out as a signed amount: "+1.5 FLASH", "-0.01 FLASH".
func FormatChange(in, out core.Amount) string {
	if in >= out {
		return "+" + FormatAmount(in-out)
	}
	return "-" + FormatAmount(out-in)
}

func attr(e core.Event, key string) string {
	if key == "" {
		return ""
	}
	for _, a := range e.Attrs {
		if a.Key == key {
			return a.Value
		}
	}
	return ""
}

func hasAttr(e core.Event, key string) bool {
	for _, a := range e.Attrs {
		if a.Key == key {
			return true
		}
	}
	return false
}
