package qos

import (
	"encoding/json"
	"net/url"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/store"
)

// queryStats answers the network totals.
func queryStats(kv store.KV) ([]byte, error) {
	p := getQoSParams(kv)
	now := market.LastBlockTime(kv)
	totals := GetStats(kv)
	v := types.StatsView{NetworkStats: totals.View(), Escrowed: bank.PoolBalance(kv, bank.PoolEscrow), Staked: bank.PoolBalance(kv, bank.PoolStake),
		RewardsPool: bank.PoolBalance(kv, bank.PoolRewards), Treasury: bank.PoolBalance(kv, bank.PoolTreasury),
		CompensationPool: bank.PoolBalance(kv, PoolCompensation), ActiveOracles: ActiveOracles(kv),
		Epoch: market.EpochOf(now, p.Epoch), Frontier: Frontier(kv), AsOf: core.Time(now)}
	return json.Marshal(v)
}

// queryEpochStats answers the per-epoch stats of a range of epochs.
func queryEpochStats(kv store.KV, q url.Values) ([]byte, error) {
	def := int64(-1)
	if b := kv.Get(keySnap); len(b) == 8 {
		def = int64(store.DecodeUint64(b))
	}
	from, to, rerr := epochRange(q, def)
	if rerr != nil {
		return nil, rerr
	}
	page := types.EpochStatsPage{From: from, To: to, Epochs: []types.EpochStats{}}
	kv.Iterate(EpochStatsKey(from), EpochStatsKey(to+1), func(_, v []byte) bool {
		var es EpochStats
		if decodes(v, &es) {
			page.Epochs = append(page.Epochs, es.View())
		}
		return true
	})
	return json.Marshal(page)
}

// queryUnitQoS answers a unit's QoS state and history.
func queryUnitQoS(kv store.KV, id string, q url.Values) ([]byte, error) {
	u, found := market.GetUnit(kv, id)
	if !found {
		return nil, core.Errf(core.CodeNotFound, "unit %q not found", id)
	}
	n, _ := market.ParseUnitID(u.ID)
	qs := GetUnitQoS(kv, n)
	from, to, rerr := epochRange(q, qs.LastEpoch)
	if rerr != nil {
		return nil, rerr
	}
	v := types.UnitQoSView{Unit: u.ID, Provider: u.Provider, Status: u.Status, Score: u.Score, SLA: u.SLA.View(), UnitQoS: qs.View(),
		AgeSeconds: max(market.LastBlockTime(kv)-u.CreatedAt.Unix(), 0), From: from, To: to, History: []types.UnitEpochQoS{}}
	if j := qs.Compliant + qs.Breached; j > 0 {
		v.ComplianceBps = uint32(qs.Compliant * market.BpsDenom / j)
	}
	kv.Iterate(UnitHistKey(n, from), UnitHistKey(n, to+1), func(_, b []byte) bool {
		var h UnitEpochQoS
		if decodes(b, &h) {
			v.History = append(v.History, h.View())
		}
		return true
	})
	return json.Marshal(v)
}

// queryProviderScore answers a provider's score and its units' scores (first page).
func queryProviderScore(kv store.KV, addr string) ([]byte, error) {
	raw, perr := address.Parse(addr)
	if perr != nil {
		return nil, core.Errf(core.CodeInvalidAddress, "%v", perr)
	}
	if _, found := market.GetProvider(kv, raw); !found {
		return nil, core.Errf(core.CodeNotFound, "%s is not a provider", addr)
	}
	var ps ProviderScoreSums
	store.Get(kv, ProvScoreKey(raw), &ps)
	v := types.ProviderScoreView{Provider: address.Encode(raw), Score: ProviderScoreOf(kv, raw), Units: ps.Units, ScoreSum: ps.Sum, PerUnit: []types.UnitScoreItem{}}
	pfx := store.Key(market.KeyProvUnits, raw)
	// Bounded: at most MaxPageSize index entries are read, deleted units
	// included (they stay in the index), so a provider with many deleted
	// units cannot make this query long; the score and sums cover all.
	visited := 0
	kv.Iterate(pfx, store.PrefixEnd(pfx), func(k, _ []byte) bool {
		visited++
		n := store.DecodeUint64(k[len(pfx):])
		if u, ok := market.GetUnitN(kv, n); ok && u.Status != market.UnitDeleted {
			v.PerUnit = append(v.PerUnit, types.UnitScoreItem{Unit: u.ID, Score: u.Score, Status: u.Status, Suspended: GetUnitQoS(kv, n).Suspended})
		}
		return visited < market.MaxPageSize
	})
	return json.Marshal(v)
}

// queryOracles answers a page of oracles (active ones unless all=true).
func queryOracles(kv store.KV, q url.Values) ([]byte, error) {
	limit, lerr := market.PageLimit(q)
	if lerr != nil {
		return nil, lerr
	}
	page := types.OraclesPage{Oracles: []types.OracleView{}}
	var err error
	page.NextCursor, err = market.ScanPage(kv, KeyOracle, q.Get("cursor"), limit, func(suffix []byte) bool {
		o, found := GetOracle(kv, suffix)
		if !found || (!o.Active && q.Get("all") != "true") {
			return false
		}
		page.Oracles = append(page.Oracles, NewOracleView(o))
		return true
	})
	if err != nil {
		return nil, err
	}
	return json.Marshal(page)
}

// queryOracle answers one oracle.
func queryOracle(kv store.KV, addr string) ([]byte, error) {
	raw, perr := address.Parse(addr)
	if perr != nil {
		return nil, core.Errf(core.CodeInvalidAddress, "%v", perr)
	}
	o, found := GetOracle(kv, raw)
	if !found {
		return nil, core.Errf(core.CodeNotFound, "%s is not an oracle", addr)
	}
	return json.Marshal(NewOracleView(o))
}
