package repo

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"net/url"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/store"
)

// Query answers "repos" (owner=, gateway= hex key, status=, paginated),
// "repos/OWNER/NAME", "repo-keys" (owner=, repo=) and "repo-keys/ID"; ok is
// false for other paths.
func (k *Keeper) Query(kv store.KV, parts []string, q url.Values) ([]byte, bool, error) {
	var out []byte
	var err error
	switch {
	case len(parts) == 1 && parts[0] == "repos":
		out, err = k.queryRepos(kv, q)
	case len(parts) == 3 && parts[0] == "repos":
		out, err = k.queryRepo(kv, parts[1], parts[2])
	case len(parts) == 1 && parts[0] == "repo-keys":
		out, err = queryKeys(kv, q)
	case len(parts) == 2 && parts[0] == "repo-keys":
		key, ok := GetKey(kv, parts[1])
		if !ok {
			return nil, true, core.Errf(core.CodeNotFound, "repo key %s does not exist", parts[1])
		}
		out, err = json.Marshal(key.View())
	default:
		return nil, false, nil
	}
	return out, true, err
}

func parseOwner(s string) ([]byte, error) {
	raw, err := address.Parse(s)
	if err != nil {
		return nil, core.Errf(core.CodeInvalidAddress, "owner %q: %v", s, err)
	}
	return raw, nil
}

func (k *Keeper) queryRepo(kv store.KV, owner, name string) ([]byte, error) {
	raw, err := parseOwner(owner)
	if err != nil {
		return nil, err
	}
	r, ok := Get(kv, raw, name)
	if !ok {
		return nil, core.Errf(core.CodeNotFound, "%s has no repository named %q", owner, name)
	}
	return json.Marshal(k.View(kv, r))
}

// queryRepos lists repositories: all, an owner's, or those a gateway key
// serves (both filters may be combined), optionally only those whose
// computed status is status=.
func (k *Keeper) queryRepos(kv store.KV, q url.Values) ([]byte, error) {
	var owner, gw []byte
	var err error
	if s := q.Get("owner"); s != "" {
		if owner, err = parseOwner(s); err != nil {
			return nil, err
		}
	}
	if s := q.Get("gateway"); s != "" {
		if gw, err = hex.DecodeString(s); err != nil || len(gw) != 32 {
			return nil, core.Errf(core.CodeInvalidQuery, "gateway=%q: want the gateway's 32-byte X25519 public key in hex", s)
		}
	}
	status := q.Get("status")
	if status != "" && status != types.HealthOK && status != types.HealthDegraded {
		return nil, core.Errf(core.CodeInvalidQuery, "status=%q: want ok or degraded", status)
	}
	// The suffix after prefix is what is left of (owner raw + name).
	var prefix, fixedOwner []byte
	switch {
	case gw != nil:
		prefix, fixedOwner = store.Key(keyRepoGW, gw, owner), owner
	case owner != nil:
		prefix, fixedOwner = store.Key(keyRepo, owner), owner
	default:
		prefix = keyRepo
	}
	limit, err := market.PageLimit(q)
	if err != nil {
		return nil, err
	}
	page := types.ReposPage{Repos: []types.Repo{}}
	page.NextCursor, err = market.ScanPage(kv, prefix, q.Get("cursor"), limit, func(suffix []byte) bool {
		full := suffix
		if fixedOwner != nil {
			full = store.Key(fixedOwner, suffix)
		}
		if len(full) <= address.Len {
			return false
		}
		r, ok := Get(kv, full[:address.Len], string(full[address.Len:]))
		if !ok {
			return false
		}
		v := k.View(kv, r)
		if status != "" && v.Status != status {
			return false
		}
		page.Repos = append(page.Repos, v)
		return true
	})
	if err != nil {
		return nil, err
	}
	return json.Marshal(page)
}

// queryKeys lists an owner's repo keys, of one repository with repo=.
func queryKeys(kv store.KV, q url.Values) ([]byte, error) {
	if q.Get("owner") == "" {
		return nil, core.Errf(core.CodeInvalidQuery, "repo-keys needs owner= (and optionally repo=)")
	}
	owner, err := parseOwner(q.Get("owner"))
	if err != nil {
		return nil, err
	}
	prefix := store.Key(keyRepoKeys, owner)
	if name := q.Get("repo"); name != "" {
		prefix = keysPrefix(owner, name)
	}
	limit, err := market.PageLimit(q)
	if err != nil {
		return nil, err
	}
	page := types.RepoKeysPage{Keys: []types.RepoKey{}}
	page.NextCursor, err = market.ScanPage(kv, prefix, q.Get("cursor"), limit, func(suffix []byte) bool {
		if i := bytes.IndexByte(suffix, 0); i >= 0 { // owner-wide: name 0x00 id
			suffix = suffix[i+1:]
		}
		key, ok := GetKey(kv, string(suffix))
		if !ok {
			return false
		}
		page.Keys = append(page.Keys, key.View())
		return true
	})
	if err != nil {
		return nil, err
	}
	return json.Marshal(page)
}
