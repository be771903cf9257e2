package bank

import (
	"encoding/json"
	"net/url"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/store"
)

// Query answers "account/fb1…" and "supply"; ok is false for other paths.
func Query(kv store.KV, parts []string, _ url.Values) (out []byte, ok bool, err error) {
	switch {
	case len(parts) == 2 && parts[0] == "account":
		raw, err := address.Parse(parts[1])
		if err != nil {
			return nil, true, core.Errf(core.CodeInvalidAddress, "%v", err)
		}
		a := GetAccount(kv, raw)
		out, err = json.Marshal(types.AccountView{Address: address.Encode(raw), Balance: a.Balance, Sequence: a.Sequence})
		return out, true, err
	case len(parts) == 1 && parts[0] == "supply":
		v := types.SupplyView{Supply: Supply(kv), Pools: map[string]core.Amount{}}
		kv.Iterate(keyPool, store.PrefixEnd(keyPool), func(k, _ []byte) bool {
			name := string(k[len(keyPool):])
			v.Pools[name] = PoolBalance(kv, name)
			return true
		})
		out, err = json.Marshal(v)
		return out, true, err
	}
	return nil, false, nil
}

// Routes are the bank's message types and their handlers.
func Routes() []core.Route { return []core.Route{core.NewRoute(handleSend)} }
