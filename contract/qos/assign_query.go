package qos

import (
	"encoding/json"
	"net/url"
	"slices"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/store"
)

// queryEpoch is the epoch= parameter, the current epoch by default.
func queryEpoch(kv store.KV, q url.Values) (int64, error) {
	cur := market.EpochOf(market.LastBlockTime(kv), getQoSParams(kv).Epoch)
	return market.QueryInt(q, "epoch", cur, market.ParsePlainInt)
}

// queryOracleAssignments answers a page of the units assigned to an oracle
// in an epoch (units in id order; the page scans at most the market's scan
// bound of units).
func queryOracleAssignments(kv store.KV, addr string, q url.Values) ([]byte, error) {
	raw, perr := address.Parse(addr)
	if perr != nil {
		return nil, core.Errf(core.CodeInvalidAddress, "%v", perr)
	}
	e, err := queryEpoch(kv, q)
	if err != nil {
		return nil, err
	}
	limit, lerr := market.PageLimit(q)
	if lerr != nil {
		return nil, lerr
	}
	p := getQoSParams(kv)
	set, _ := getEpochSet(kv, e)
	fixed := len(set.oracles) > 0
	page := types.OracleAssignments{Oracle: address.Encode(raw), Epoch: e, Fixed: fixed, Units: []string{}}
	if !fixed {
		return json.Marshal(page)
	}
	page.NextCursor, err = market.ScanPage(kv, market.KeyUnit, q.Get("cursor"), limit, func(suffix []byte) bool {
		n := store.DecodeUint64(suffix)
		u, ok := market.GetUnitN(kv, n)
		if !ok || u.Status == market.UnitDeleted || u.CreatedAt.Unix() >= (e+1)*p.Epoch {
			return false
		}
		owner, _ := address.Parse(u.Provider)
		got, _ := assignedOracles(kv, p, e, n, owner)
		if !slices.ContainsFunc(got, func(o []byte) bool { return string(o) == string(raw) }) {
			return false
		}
		page.Units = append(page.Units, u.ID)
		return true
	})
	if err != nil {
		return nil, err
	}
	return json.Marshal(page)
}

// queryUnitOracles answers the oracles assigned to a unit in an epoch.
func queryUnitOracles(kv store.KV, id string, q url.Values) ([]byte, error) {
	u, found := market.GetUnit(kv, id)
	if !found {
		return nil, core.Errf(core.CodeNotFound, "unit %q not found", id)
	}
	e, err := queryEpoch(kv, q)
	if err != nil {
		return nil, err
	}
	n, _ := market.ParseUnitID(u.ID)
	addrs, fixed, err := AssignedOracles(kv, e, n)
	if err != nil {
		return nil, err
	}
	v := types.UnitOracles{Unit: u.ID, Epoch: e, Fixed: fixed, Oracles: []string{}}
	v.Oracles = append(v.Oracles, addrs...)
	return json.Marshal(v)
}
