package contract

import (
	"fmt"

	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/params"
	"github.com/flashback-network/flashback/contract/store"
)

// Genesis is the contract's initial state (the app_state of genesis.json).
type Genesis struct {
	Params   params.Params         `json:"params"`
	Accounts []bank.GenesisAccount `json:"accounts"`
	// Pools pre-funds pools, e.g. the rewards pool.
	Pools map[string]core.Amount `json:"pools,omitempty"`
}

// GenesisAccount is a funded account at genesis.
type GenesisAccount = bank.GenesisAccount

// InitGenesis writes the initial state, module by module in table order.
func (a *App) InitGenesis(kv store.KV, g Genesis) error {
	for _, m := range a.modules {
		if m.InitGenesis != nil {
			if err := m.InitGenesis(kv, g); err != nil {
				return err
			}
		}
	}
	return nil
}

// InitGenesis writes the initial state with the default app.
func InitGenesis(kv store.KV, g Genesis) error { return defaultApp().InitGenesis(kv, g) }

// StateVersion is the format of the state this contract writes and reads.
// 1: JSON records (flashback up to 0.1); 2: records in the binary codec of
// contract/store; 3: the last block's hash in state, oracle assignments and
// misses, bounded usage reports (a version-2 chain's blocks would replay
// with other results). A node must not run on state of another format: it
// would misread records or replay blocks differently.
const StateVersion = 3

// stateVersionKey is where the chain records the StateVersion of a home.
var stateVersionKey = []byte("meta/state_version")

// WriteStateVersion records StateVersion in kv (at genesis).
func WriteStateVersion(kv store.KV) { store.SetUint64(kv, stateVersionKey, StateVersion) }

// CheckStateVersion reports whether initialized state kv is in StateVersion;
// state written before versions were recorded reads as version 1.
func CheckStateVersion(kv store.KV) error {
	v := store.GetUint64(kv, stateVersionKey)
	if kv.Get(stateVersionKey) == nil {
		v = 1
	}
	if v != StateVersion {
		return fmt.Errorf("the node's state was written by another flashback version (state format %d; this flashback reads format %d) and cannot be read: start over with a new home: move or delete it and run `flashback init` again (a dev chain: `flashback dev --reset`)", v, StateVersion)
	}
	return nil
}
