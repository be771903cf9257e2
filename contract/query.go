package contract

import (
	"encoding/json"
	"strings"

	"github.com/flashback-network/flashback/address"
)

// AccountView is the public JSON view of an account.
type AccountView struct {
	Address  string `json:"address"`
	Balance  Amount `json:"balance"`
	Sequence uint64 `json:"sequence"`
}

// SupplyView reports total supply and the pools.
type SupplyView struct {
	Supply Amount            `json:"supply"`
	Pools  map[string]Amount `json:"pools"`
}

// Query answers a read-only request against kv. Paths look like REST paths
// without the version prefix: "account/fb1…", "params", "supply".
func Query(kv KV, path string) ([]byte, error) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(parts) == 2 && parts[0] == "account":
		raw, err := address.Parse(parts[1])
		if err != nil {
			return nil, Errf(CodeInvalidAddress, "%v", err)
		}
		a := GetAccount(kv, raw)
		return json.Marshal(AccountView{Address: address.Encode(raw), Balance: a.Balance, Sequence: a.Sequence})
	case len(parts) == 1 && parts[0] == "params":
		return json.Marshal(GetParams(kv))
	case len(parts) == 1 && parts[0] == "supply":
		v := SupplyView{Supply: Supply(kv), Pools: map[string]Amount{}}
		kv.Iterate(keyPool, PrefixEnd(keyPool), func(k, _ []byte) bool {
			name := string(k[len(keyPool):])
			v.Pools[name] = PoolBalance(kv, name)
			return true
		})
		return json.Marshal(v)
	}
	return nil, Errf(CodeInvalidQuery, "unknown query path %q", path)
}
