// Package contract is the orchestrator: a deterministic state machine that
// takes signed transactions and block boundaries in and writes state and
// events out. It does no I/O, reads no clock and starts no goroutines; the
// chain package feeds it blocks and persists what it writes.
//
// The app is a handler table: a list of modules, each giving its message
// routes, queries, block hooks and genesis (see New). The modules live in
// their own packages (bank, params, market, qos, accesskey, repo) over the shared
// types of contract/core and the state of contract/store.
package contract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/flashback-network/flashback/contract/accesskey"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/dispute"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/params"
	"github.com/flashback-network/flashback/contract/qos"
	"github.com/flashback-network/flashback/contract/repo"
	"github.com/flashback-network/flashback/contract/store"
	"github.com/flashback-network/flashback/tx"
)

// Module is one entry of the handler table. Every part is optional.
type Module struct {
	Name string
	// Routes are the module's message types and handlers.
	Routes []core.Route
	// BeginBlock and EndBlock run at block boundaries, in table order.
	BeginBlock func(kv store.KV, blk core.Block) []core.Event
	EndBlock   func(kv store.KV, blk core.Block) []core.Event
	// Query answers the paths it knows (ok true) and leaves the rest.
	Query func(kv store.KV, parts []string, q url.Values) (out []byte, ok bool, err error)
	// InitGenesis writes the module's part of the initial state.
	InitGenesis func(kv store.KV, g Genesis) error
}

// App is the contract: the handler table and the keepers it was built from.
// It holds no state of its own; everything lives in the KV handed to it.
type App struct {
	Market  *market.Keeper
	QoS     *qos.Keeper
	modules []Module
	routes  map[string]core.Route
}

// New builds the app. A new module is one more package and one more line
// in the table below.
func New() *App {
	mk := market.NewKeeper(qos.Hooks{}, accesskey.Hooks{})
	qk := qos.NewKeeper(mk)
	rk := repo.NewKeeper(repo.MarketReader{Suspended: func(kv store.KV, n uint64) bool { return qos.GetUnitQoS(kv, n).Suspended }})
	dk := dispute.NewKeeper(disputeOracles{}, mk, disputeKeys{}, qk)
	mk.SetConsumerGate(dispute.Gate{})
	a := FromModules(
		Module{Name: "params", Query: params.Query, InitGenesis: func(kv store.KV, g Genesis) error { return params.InitGenesis(kv, g.Params) }},
		Module{Name: "bank", Routes: bank.Routes(), Query: bank.Query, InitGenesis: func(kv store.KV, g Genesis) error { return bank.InitGenesis(kv, g.Accounts, g.Pools) }},
		Module{Name: "market", Routes: mk.Routes(), BeginBlock: mk.BeginBlock, EndBlock: mk.EndBlock, Query: mk.Query},
		Module{Name: "qos", Routes: qk.Routes(), BeginBlock: qk.BeginBlock, EndBlock: qos.EndBlock, Query: qos.Query},
		Module{Name: "accesskey", Routes: accesskey.Routes(), Query: accesskey.Query},
		Module{Name: "repo", Routes: rk.Routes(), Query: rk.Query},
		Module{Name: "dispute", Routes: dk.Routes(), EndBlock: dk.EndBlock, Query: dk.Query},
	)
	a.Market, a.QoS = mk, qk
	return a
}

// FromModules builds an app from a handler table. Two routes for one
// message type are a programming error: it panics.
func FromModules(modules ...Module) *App {
	a := &App{modules: modules, routes: map[string]core.Route{}}
	for _, m := range a.modules {
		for _, r := range m.Routes {
			if _, dup := a.routes[r.Type]; dup {
				panic("contract: duplicate message type " + r.Type)
			}
			a.routes[r.Type] = r
		}
	}
	return a
}

// defaultApp is the one app the package-level functions use: built once,
// never changed after.
var defaultApp = sync.OnceValue(New)

// MsgTypes lists the message type names, sorted.
func (a *App) MsgTypes() []string {
	out := make([]string, 0, len(a.routes))
	for k := range a.routes {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// MsgTypes lists the message type names of the default app, sorted.
func MsgTypes() []string { return defaultApp().MsgTypes() }

// Wrap encodes a message into the envelope's form under its wire name.
func Wrap(m core.Msg) (tx.Msg, error) {
	if _, ok := defaultApp().routes[m.Type()]; !ok {
		return tx.Msg{}, fmt.Errorf("message type %T is not registered", m)
	}
	return core.Wrap(m)
}

// DecodeMsg turns an envelope message into a validated Msg.
func DecodeMsg(m tx.Msg) (core.Msg, error) { return defaultApp().DecodeMsg(m) }

// DecodeMsg turns an envelope message into a validated Msg.
func (a *App) DecodeMsg(m tx.Msg) (core.Msg, error) {
	route, ok := a.routes[m.Type]
	if !ok {
		return nil, core.Errf(core.CodeUnknownMessage, "unknown message type %q (known: %s)", m.Type, strings.Join(a.MsgTypes(), ", "))
	}
	msg := route.New()
	if err := tx.StrictUnmarshal(m.Value, msg); err != nil {
		return nil, core.Errf(core.CodeInvalidMessage, "%s: %v", m.Type, err)
	}
	if err := msg.ValidateBasic(); err != nil {
		if core.CodeOf(err) == core.CodeInternal {
			return nil, core.Errf(core.CodeInvalidMessage, "%s: %v", m.Type, err)
		}
		return nil, fmt.Errorf("%s: %w", m.Type, err)
	}
	// One message, one encoding: what a wallet shows is what executes
	// (no case-folded or duplicate keys, no alternative number forms).
	if canon, err := json.Marshal(msg); err != nil || !bytes.Equal(canon, m.Value) {
		return nil, core.Errf(core.CodeInvalidMessage, "%s: value is not in canonical form (encode it with compact JSON in field order, as contract.Wrap does)", m.Type)
	}
	return msg, nil
}

// BeginBlock runs the modules' block-start work in table order.
func (a *App) BeginBlock(kv store.KV, blk core.Block) []core.Event {
	var ev []core.Event
	for _, m := range a.modules {
		if m.BeginBlock != nil {
			ev = append(ev, m.BeginBlock(kv, blk)...)
		}
	}
	return ev
}

// EndBlock runs the modules' block-end work (epoch boundaries, expiry
// queues) in table order.
func (a *App) EndBlock(kv store.KV, blk core.Block) []core.Event {
	var ev []core.Event
	for _, m := range a.modules {
		if m.EndBlock != nil {
			ev = append(ev, m.EndBlock(kv, blk)...)
		}
	}
	return ev
}

// BeginBlock runs block-start work.
func BeginBlock(kv store.KV, blk core.Block) []core.Event { return defaultApp().BeginBlock(kv, blk) }

// EndBlock runs block-end work.
func EndBlock(kv store.KV, blk core.Block) []core.Event { return defaultApp().EndBlock(kv, blk) }
