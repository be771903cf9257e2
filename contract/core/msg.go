package core

import (
	"encoding/json"
	"fmt"

	"github.com/flashback-network/flashback/tx"
)

// Msg is one action in a transaction. Every message acts for the tx signer:
// authorization is "is the signer allowed to do this to that object". The
// module that owns a message type handles it (see Route).
type Msg interface {
	// Type is the message's wire name, e.g. "market/reserve" (stable, part
	// of the signed tx format).
	Type() string
	// ValidateBasic checks the message alone, without state.
	ValidateBasic() error
}

// Route ties a message type to its module's handler: the handler table of
// the app is a list of routes.
type Route struct {
	// Type is the wire name, the same as New().Type().
	Type string
	// New returns an empty message to decode into.
	New func() Msg
	// Handle applies the message for signer. On error the caller drops the
	// writes made through ctx.
	Handle func(ctx *Context, signer []byte, m Msg) error
}

// NewRoute builds the route of message type *M from its typed handler.
func NewRoute[M any, P interface {
	*M
	Msg
}](handle func(ctx *Context, signer []byte, m P) error) Route {
	return Route{
		Type: P(new(M)).Type(),
		New:  func() Msg { return P(new(M)) },
		Handle: func(ctx *Context, signer []byte, m Msg) error {
			return handle(ctx, signer, m.(P))
		},
	}
}

// Wrap encodes a message into the envelope's form under its wire name.
func Wrap(m Msg) (tx.Msg, error) {
	v, err := json.Marshal(m)
	if err != nil {
		return tx.Msg{}, fmt.Errorf("encode %s: %w", m.Type(), err)
	}
	return tx.Msg{Type: m.Type(), Value: v}, nil
}
