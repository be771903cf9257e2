package contract

import (
	"net/url"
	"strings"

	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/store"
)

// Query answers a read-only request against kv. Paths look like REST paths
// without the version prefix: "account/fb1…", "params", "supply", and the
// market's "providers", "providers/fb1…", "units", "units/unit-1",
// "reservations", "reservations/res-1", "quote" (list paths take a query
// string, e.g. "units?region=eu&sort=price&limit=10"), and QoS's "stats",
// "stats/epochs?from=&to=", "units/unit-1/qos?from=&to=",
// "providers/fb1…/score", "oracles", "oracles/fb1…".
func (a *App) Query(kv store.KV, path string) ([]byte, error) {
	var q url.Values
	if i := strings.IndexByte(path, '?'); i >= 0 {
		var err error
		if q, err = url.ParseQuery(path[i+1:]); err != nil {
			return nil, core.Errf(core.CodeInvalidQuery, "query string of %q: %v", path, err)
		}
		path = path[:i]
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for _, m := range a.modules {
		if m.Query == nil {
			continue
		}
		if out, ok, err := m.Query(kv, parts, q); ok {
			return out, err
		}
	}
	return nil, core.Errf(core.CodeInvalidQuery, "unknown query path %q", path)
}

// Query answers a read-only request with the default app.
func Query(kv store.KV, path string) ([]byte, error) { return defaultApp().Query(kv, path) }
