package bank

import (
	"fmt"
	"sort"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/store"
)

// GenesisAccount is a funded account at genesis.
type GenesisAccount struct {
	Address string      `json:"address"`
	Balance core.Amount `json:"balance"`
}

// InitGenesis funds the genesis accounts and pools and records their sum as
// the supply.
func InitGenesis(kv store.KV, accounts []GenesisAccount, pools map[string]core.Amount) error {
	var supply core.Amount
	seen := map[string]bool{}
	for _, a := range accounts {
		raw, err := address.Parse(a.Address)
		if err != nil {
			return fmt.Errorf("genesis account: %w", err)
		}
		if seen[string(raw)] {
			return fmt.Errorf("genesis account %s listed twice", a.Address)
		}
		seen[string(raw)] = true
		SetAccount(kv, raw, Account{Balance: a.Balance})
		if supply, err = core.Add(supply, a.Balance); err != nil {
			return fmt.Errorf("genesis supply: %w", err)
		}
	}
	names := make([]string, 0, len(pools))
	for p := range pools {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		setPool(kv, p, pools[p])
		var err error
		if supply, err = core.Add(supply, pools[p]); err != nil {
			return fmt.Errorf("genesis supply: %w", err)
		}
	}
	setSupply(kv, supply)
	return nil
}

// FundPool creates amt new tokens in pool, raising the supply with it, as
// genesis does for its pools. No message calls it; tests use it to fund
// pools mid-chain.
func FundPool(kv store.KV, pool string, amt core.Amount) error {
	bal, err := core.Add(PoolBalance(kv, pool), amt)
	if err != nil {
		return err
	}
	supply, err := core.Add(Supply(kv), amt)
	if err != nil {
		return err
	}
	setPool(kv, pool, bal)
	setSupply(kv, supply)
	return nil
}
