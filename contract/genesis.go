package contract

import (
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
