package contract

import (
	"encoding/json"
	"net/url"
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
// without the version prefix: "account/fb1…", "params", "supply", and the
// market's "providers", "providers/fb1…", "units", "units/unit-1",
// "reservations", "reservations/res-1", "quote" (list paths take a query
// string, e.g. "units?region=eu&sort=price&limit=10"), and QoS's "stats",
// "stats/epochs?from=&to=", "units/unit-1/qos?from=&to=",
// "providers/fb1…/score", "oracles", "oracles/fb1…".
func Query(kv KV, path string) ([]byte, error) {
	var q url.Values
	if i := strings.IndexByte(path, '?'); i >= 0 {
		var err error
		if q, err = url.ParseQuery(path[i+1:]); err != nil {
			return nil, Errf(CodeInvalidQuery, "query string of %q: %v", path, err)
		}
		path = path[:i]
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if out, ok, err := qosQuery(kv, parts, q); ok {
		return out, err
	}
	if out, ok, err := marketQuery(kv, parts, q); ok {
		return out, err
	}
	if out, ok, err := accessKeyQuery(kv, parts, q); ok {
		return out, err
	}
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
