package qos

// Stats: network totals kept incrementally (the market's setUnit and
// SetProvider report every change; claims and usage reports the money
// paid), a snapshot per epoch and per-unit QoS history, both bounded to
// history_epochs; and the QoS queries.

import (
	"math"
	"net/url"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/store"
)

// NetworkStats are the network totals.
type NetworkStats struct {
	Providers         uint64      `json:"providers"`
	Units             uint64      `json:"units"`                  // not deleted
	CapacityOffered   uint64      `json:"capacity_offered_bytes"` // of units not deleted
	CapacityReserved  uint64      `json:"capacity_reserved_bytes"`
	CapacityUsed      uint64      `json:"capacity_used_bytes"`
	LiveReservations  uint64      `json:"live_reservations"` // pending or active
	Oracles           uint64      `json:"oracles"`
	Paid              core.Amount `json:"paid"`               // to providers, storage and egress
	Fees              core.Amount `json:"fees"`               // platform fees to the treasury
	Slashed           core.Amount `json:"slashed"`            // SLA breach slashes
	Compensation      core.Amount `json:"compensation"`       // of which to consumers
	OracleRewards     core.Amount `json:"oracle_rewards"`     // slash shares and fee shares
	Rewarded          core.Amount `json:"rewarded"`           // reputation rewards
	ReputationSlashed core.Amount `json:"reputation_slashed"` // reputation slashing
	// Held unit-epochs (hold.go) and outlier slashes (outlier.go).
	HeldEpochs     uint64      `json:"held_epochs"`     // unit-epochs held for want of a quorum
	HoldsResolved  uint64      `json:"holds_resolved"`  // of which judged on late reports
	HoldsExpired   uint64      `json:"holds_expired"`   // of which refunded at expiry
	OutlierSlashed core.Amount `json:"outlier_slashed"` // oracle bond taken for outlier reports
}

// GetStats reads the network totals.
func GetStats(kv store.KV) NetworkStats {
	var s NetworkStats
	store.Get(kv, keyStats, &s)
	return s
}

func statsAdd(kv store.KV, f func(s *NetworkStats)) {
	s := GetStats(kv)
	f(&s)
	store.Set(kv, keyStats, &s)
}

// statsPaid records money paid to a provider and its platform fee.
func statsPaid(kv store.KV, net, fee core.Amount) {
	if net == 0 && fee == 0 {
		return
	}
	statsAdd(kv, func(s *NetworkStats) { s.Paid, s.Fees = satAdd(s.Paid, net), satAdd(s.Fees, fee) })
}

// unitFacts are the unit fields the totals and provider scores use.
type unitFacts struct {
	Provider         string `json:"provider"`
	Capacity         uint64 `json:"capacity_bytes"`
	Reserved         uint64 `json:"reserved_bytes"`
	Used             uint64 `json:"used_bytes"`
	Status           string `json:"status"`
	Score            uint32 `json:"score"`
	LiveReservations uint64 `json:"live_reservations"`
}

// ProviderScore is a provider's running score sums.
type ProviderScoreSums struct {
	Sum   uint64 `json:"sum"`
	Units uint64 `json:"units"`
}

// ProvScoreKey is where a provider's score sums are stored.
func ProvScoreKey(owner []byte) []byte { return store.Key(keyProvScore, owner) }

// ProviderScoreOf is the mean score of the provider's units (50 without).
func ProviderScoreOf(kv store.KV, owner []byte) uint32 {
	var s ProviderScoreSums
	store.Get(kv, ProvScoreKey(owner), &s)
	if s.Units == 0 {
		return market.DefaultScore
	}
	return uint32((s.Sum + s.Units/2) / s.Units)
}

// statsUnitChanged is called by setUnit before it writes u over the record
// at key: it moves the totals and the provider's score sums by the
// difference.
func statsUnitChanged(kv store.KV, key []byte, u *market.Unit) {
	var old unitFacts
	had := false
	if b := kv.Get(key); b != nil {
		var prev market.Unit
		if had = prev.UnmarshalBinary(b) == nil; had {
			old = unitFacts{Provider: prev.Provider, Capacity: prev.Capacity, Reserved: prev.Reserved, Used: prev.Used, Status: prev.Status, Score: prev.Score, LiveReservations: prev.LiveReservations}
		}
	}
	nw := unitFacts{Provider: u.Provider, Capacity: u.Capacity, Reserved: u.Reserved, Used: u.Used, Status: u.Status, Score: u.Score, LiveReservations: u.LiveReservations}
	live := func(f *unitFacts, ok bool) bool { return ok && f.Status != market.UnitDeleted }
	oldLive, newLive := live(&old, had), live(&nw, true)
	if had && old == nw {
		return
	}
	val := func(f *unitFacts, ok, l bool) (units, capacity, reserved, used, res uint64) {
		if !ok {
			return
		}
		if l {
			units, capacity = 1, f.Capacity
		}
		return units, capacity, f.Reserved, f.Used, f.LiveReservations
	}
	ou, oc, or, ous, ol := val(&old, had, oldLive)
	nu, nc, nr, nus, nl := val(&nw, true, newLive)
	if ou != nu || oc != nc || or != nr || ous != nus || ol != nl {
		statsAdd(kv, func(s *NetworkStats) {
			s.Units = satDelta(s.Units, ou, nu)
			s.CapacityOffered = satDelta(s.CapacityOffered, oc, nc)
			s.CapacityReserved = satDelta(s.CapacityReserved, or, nr)
			s.CapacityUsed = satDelta(s.CapacityUsed, ous, nus)
			s.LiveReservations = satDelta(s.LiveReservations, ol, nl)
		})
	}
	if oldLive == newLive && (!oldLive || old.Score == nw.Score) {
		return
	}
	owner, err := address.Parse(u.Provider)
	if err != nil {
		return
	}
	var ps ProviderScoreSums
	k := ProvScoreKey(owner)
	store.Get(kv, k, &ps)
	if oldLive {
		ps.Sum = satSub(ps.Sum, uint64(old.Score))
		ps.Units = satSub(ps.Units, 1)
	}
	if newLive {
		ps.Sum = satAdd(ps.Sum, uint64(nw.Score))
		ps.Units = satAdd(ps.Units, 1)
	}
	store.Set(kv, k, &ps)
}

// statsProviderChanged is called by setProvider before it writes p.
func statsProviderChanged(kv store.KV, key []byte, p *market.Provider) {
	var old market.Provider
	was := false
	if b := kv.Get(key); b != nil && old.UnmarshalBinary(b) == nil {
		was = !old.Deregistered
	}
	if is := !p.Deregistered; is != was {
		statsAdd(kv, func(s *NetworkStats) {
			if is {
				s.Providers = satAdd(s.Providers, 1)
			} else {
				s.Providers = satSub(s.Providers, 1)
			}
		})
	}
}

// EpochQoSCounts are one epoch's unit outcomes.
type EpochQoSCounts struct {
	Reported    uint64 `json:"units_reported"`
	Compliant   uint64 `json:"compliant"`
	Breached    uint64 `json:"breached"`
	NoQuorum    uint64 `json:"no_quorum"`
	Maintenance uint64 `json:"maintenance"`
}

func (c *EpochQoSCounts) add(o EpochQoSCounts) {
	c.Reported = satAdd(c.Reported, o.Reported)
	c.Compliant = satAdd(c.Compliant, o.Compliant)
	c.Breached = satAdd(c.Breached, o.Breached)
	c.NoQuorum = satAdd(c.NoQuorum, o.NoQuorum)
	c.Maintenance = satAdd(c.Maintenance, o.Maintenance)
}

// EpochStats is the network at the end of an epoch (written at the first
// block after it) and the QoS outcome of its units (added when its reports
// are processed, one or two epochs later).
type EpochStats struct {
	Epoch int64     `json:"epoch"`
	Time  core.Time `json:"time"` // block time of the snapshot; zero (null in JSON) if none was taken
	NetworkStats
	Escrowed    core.Amount    `json:"escrowed"`
	Staked      core.Amount    `json:"staked"`
	RewardsPool core.Amount    `json:"rewards_pool"`
	Treasury    core.Amount    `json:"treasury"`
	QoS         EpochQoSCounts `json:"qos"`
}

// EpochStatsKey is where the stats of epoch e are stored.
func EpochStatsKey(e int64) []byte { return store.Key(keyEpochStats, store.EncodeUint64(uint64(e))) }

// pruneBefore deletes the keys in [prefix, prefix+be8(e)).
func pruneBefore(kv store.KV, prefix []byte, e int64) {
	if e <= 0 {
		return
	}
	var keys [][]byte
	kv.Iterate(prefix, store.Key(prefix, store.EncodeUint64(uint64(e))), func(k, _ []byte) bool {
		keys = append(keys, append([]byte(nil), k...))
		return true
	})
	for _, k := range keys {
		kv.Delete(k)
	}
}

// snapshotEpoch writes the stats of the epoch that just ended, as of time at.
func snapshotEpoch(kv store.KV, at int64, q qosParams, cur int64, events *[]core.Event) {
	e := cur - 1
	if e < 0 {
		return
	}
	if b := kv.Get(keySnap); len(b) == 8 && int64(store.DecodeUint64(b)) >= e {
		return
	}
	prev := int64(-1)
	if b := kv.Get(keySnap); len(b) == 8 {
		prev = int64(store.DecodeUint64(b))
	}
	kv.Set(keySnap, store.EncodeUint64(uint64(e)))
	var es EpochStats
	store.Get(kv, EpochStatsKey(e), &es)
	es.Epoch, es.Time, es.NetworkStats = e, core.Time(at), GetStats(kv)
	es.Escrowed, es.Staked = bank.PoolBalance(kv, bank.PoolEscrow), bank.PoolBalance(kv, bank.PoolStake)
	es.RewardsPool, es.Treasury = bank.PoolBalance(kv, bank.PoolRewards), bank.PoolBalance(kv, bank.PoolTreasury)
	store.Set(kv, EpochStatsKey(e), &es)
	if prev < 0 {
		pruneBefore(kv, keyEpochStats, e-q.History+1)
		return
	}
	// Entries of epochs that fell out of the kept history (by key, no scan).
	for x := max(prev-q.History+1, e-q.History-q.History+1, 0); x <= e-q.History; x++ {
		kv.Delete(EpochStatsKey(x))
	}
}

// statsEpochCounts adds unit outcomes to epoch e's stats.
func statsEpochCounts(kv store.KV, e int64, c EpochQoSCounts) {
	if b := kv.Get(keySnap); len(b) == 8 && e <= int64(store.DecodeUint64(b))-getQoSParams(kv).History {
		return // already out of the kept history
	}
	es := EpochStats{Epoch: e}
	store.Get(kv, EpochStatsKey(e), &es)
	es.QoS.add(c)
	store.Set(kv, EpochStatsKey(e), &es)
}

// UnitHistKey is where unit n's QoS history entry of epoch e is stored.
func UnitHistKey(n uint64, e int64) []byte {
	return store.Key(keyUnitHist, store.EncodeUint64(n), store.EncodeUint64(uint64(e)))
}

// writeUnitHistory writes the entry and deletes the ones that fell out of
// the kept history since the unit's previous entry (qs.HistLast): only
// the entries there are visited (not every epoch of the range, which after
// a halt is history_epochs of them per unit), O(1) amortized per entry.
func writeUnitHistory(kv store.KV, q qosParams, n uint64, qs *UnitQoS, h *UnitEpochQoS) {
	store.Set(kv, UnitHistKey(n, h.Epoch), h)
	if qs.HistLast >= 0 {
		from := max(qs.HistLast-q.History+1, 0)
		to := h.Epoch - q.History // inclusive
		from = max(from, to-q.History+1)
		if from <= to {
			for _, k := range keysIn(kv, UnitHistKey(n, from), UnitHistKey(n, to+1), math.MaxInt) {
				kv.Delete(k)
			}
		}
	}
	qs.HistLast = max(qs.HistLast, h.Epoch)
}

// ---- queries ----

// NewOracleView is the REST view of o.
func NewOracleView(o *Oracle) types.OracleView {
	v := types.OracleView{Oracle: o.View(), UnbondingTotal: o.UnbondingTotal()}
	if v.Unbonding == nil {
		v.Unbonding = []types.UnbondingEntry{}
	}
	return v
}

// epochRange reads from= and to= (epochs), defaulting to the last 100
// up to def, and caps the span at 1,000 epochs.
func epochRange(q url.Values, def int64) (int64, int64, error) {
	to, err := market.QueryInt(q, "to", max(def, 0), market.ParsePlainInt)
	if err != nil {
		return 0, 0, err
	}
	from, err := market.QueryInt(q, "from", max(to-99, 0), market.ParsePlainInt)
	if err != nil {
		return 0, 0, err
	}
	if from > to {
		return 0, 0, core.Errf(core.CodeInvalidQuery, "from=%d is after to=%d", from, to)
	}
	if to-from >= 1000 {
		from = to - 999
	}
	return from, to, nil
}

// Query answers the QoS query paths; ok is false for other paths.
func Query(kv store.KV, parts []string, q url.Values) (out []byte, ok bool, err error) {
	switch {
	case len(parts) == 1 && parts[0] == "stats":
		out, err = queryStats(kv)
	case len(parts) == 2 && parts[0] == "stats" && parts[1] == "epochs":
		out, err = queryEpochStats(kv, q)
	case len(parts) == 3 && parts[0] == "units" && parts[2] == "qos":
		out, err = queryUnitQoS(kv, parts[1], q)
	case len(parts) == 3 && parts[0] == "providers" && parts[2] == "score":
		out, err = queryProviderScore(kv, parts[1])
	case len(parts) == 1 && parts[0] == "oracles":
		out, err = queryOracles(kv, q)
	case len(parts) == 2 && parts[0] == "oracles":
		out, err = queryOracle(kv, parts[1])
	case len(parts) == 3 && parts[0] == "oracles" && parts[2] == "assignments":
		out, err = queryOracleAssignments(kv, parts[1], q)
	case len(parts) == 3 && parts[0] == "units" && parts[2] == "oracles":
		out, err = queryUnitOracles(kv, parts[1], q)
	default:
		return nil, false, nil
	}
	return out, true, err
}

// decodes reports whether b decodes into r.
func decodes(b []byte, r store.Record) bool { return r.UnmarshalBinary(b) == nil }

// HistoryPrefixes are the key ranges of the QoS history kept for
// history_epochs (per-epoch stats and per-unit epoch entries), in key order:
// the node archives them as they fall out of state.
func HistoryPrefixes() [][]byte {
	return [][]byte{append([]byte(nil), keyEpochStats...), append([]byte(nil), keyUnitHist...)}
}
