package core

import (
	"time"

	"github.com/flashback-network/flashback/address"

	"github.com/flashback-network/flashback/contract/store"
)

// Block is what the chain tells the contract about the block being executed:
// height, BFT time and the hash of the block before it. The contract never
// reads a wall clock.
type Block struct {
	ChainID string
	Height  int64
	Time    time.Time
	// PrevHash is the hash of the last finalized block (empty before the
	// first): the seed QoS draws each epoch's oracle assignment from. Every
	// node, and a replay, sees the same bytes.
	PrevHash []byte
}

// Event is an ABCI event: a type and ordered attributes. Events are how
// indexers, the bridge and the oracle learn what happened.
type Event struct {
	Type  string `json:"type"`
	Attrs []Attr `json:"attributes"`
}

// Attr is one event attribute.
type Attr struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Context carries the state and block of one execution step. Handlers write
// through KV, which is a Cache: a failing handler's writes are dropped.
type Context struct {
	KV    store.KV
	Block Block
	// Signer is the bech32 address of the tx's signer when the caller
	// encoded it already (ExecPrepared does, off the sequential path).
	Signer string
	events []Event
}

// SignerAddress is the bech32 address of raw, the tx's signer: Signer
// when set, else encoded here.
func (c *Context) SignerAddress(raw []byte) string {
	if c.Signer != "" {
		return c.Signer
	}
	return address.Encode(raw)
}

// Emit records an event. Attributes come in key, value pairs.
func (c *Context) Emit(typ string, kv ...string) {
	ev := Event{Type: typ}
	if len(kv) >= 2 {
		ev.Attrs = make([]Attr, 0, len(kv)/2)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		ev.Attrs = append(ev.Attrs, Attr{Key: kv[i], Value: kv[i+1]})
	}
	c.events = append(c.events, ev)
}

// Events returns the events emitted so far.
func (c *Context) Events() []Event { return c.events }

// Now is the block time in Unix seconds, the unit all contract times use.
func (c *Context) Now() int64 { return c.Block.Time.Unix() }
