package contract

import (
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/params"
	"github.com/flashback-network/flashback/contract/qos"
	"github.com/flashback-network/flashback/contract/store"
)

// checkQoSInvariants verifies the QoS accounting (called from
// checkMarketInvariants after every block): the compensation pool equals
// what active reservations are owed plus dust, exactly; the compensation
// base (bytes and ring) matches the active reservations; the oracle pool
// holds only the slash shares of an epoch still being judged (a backlog,
// epochwork.go); the incremental network totals and provider score sums match
// a full recount.
func checkQoSInvariants(t *testing.T, kv store.KV) {
	t.Helper()
	if b, want := bank.PoolBalance(kv, qos.PoolOracle), qos.PendingOracleRewards(kv); b != want {
		t.Fatalf("oracle pool holds %d after the block, the epoch being judged has %d", b, want)
	}
	active, byStart := checkCompPool(t, kv)
	want, sums := checkUnitsQoS(t, kv, active, byStart)
	checkProvidersAndOracles(t, kv, &want, sums)
	got := qos.GetStats(kv)
	got.Paid, got.Fees, got.Slashed, got.Compensation, got.OracleRewards, got.Rewarded, got.ReputationSlashed = 0, 0, 0, 0, 0, 0, 0
	if got.HoldsResolved+got.HoldsExpired > got.HeldEpochs {
		t.Fatalf("network totals: %d holds resolved + %d expired > %d held", got.HoldsResolved, got.HoldsExpired, got.HeldEpochs)
	}
	got.HeldEpochs, got.HoldsResolved, got.HoldsExpired, got.OutlierSlashed = 0, 0, 0, 0
	if got != want {
		t.Fatalf("network totals %+v, recount %+v", got, want)
	}
}

// checkCompPool checks that the compensation pool holds exactly what the
// active reservations are owed plus dust, and returns the active bytes per
// unit and per unit by compensation start epoch.
func checkCompPool(t *testing.T, kv store.KV) (active map[uint64]uint64, byStart map[uint64]map[int64]uint64) {
	t.Helper()
	dust := qos.GetCompDust(kv)
	if dust.Sign() < 0 || dust.Cmp(qos.CompScale()) >= 0 {
		t.Fatalf("compensation dust %s out of range", dust)
	}
	owed := new(big.Int).Set(dust)
	active, byStart = map[uint64]uint64{}, map[uint64]map[int64]uint64{}
	kv.Iterate(market.KeyRes, store.PrefixEnd(market.KeyRes), func(_, v []byte) bool {
		var r market.Reservation
		mustUnmarshal(t, v, &r)
		if r.Status != market.ResActive {
			return true
		}
		n, _ := market.ParseUnitID(r.Unit)
		o := qos.CompOwed(kv, n, qos.GetUnitQoS(kv, n), &r)
		if o.Sign() < 0 {
			t.Fatalf("%s owed negative compensation %s", r.ID, o)
		}
		owed.Add(owed, o)
		active[n] += r.Bytes
		if byStart[n] == nil {
			byStart[n] = map[int64]uint64{}
		}
		byStart[n][r.CompStart] += r.Bytes
		return true
	})
	if got := new(big.Int).Mul(core.BigFromUint(uint64(bank.PoolBalance(kv, qos.PoolCompensation))), qos.CompScale()); got.Cmp(owed) != 0 {
		t.Fatalf("compensation pool %d (scaled %s) != owed + dust %s", bank.PoolBalance(kv, qos.PoolCompensation), got, owed)
	}
	return active, byStart
}

// checkCompRing checks unit n's compensation ring against the bytes of its
// active reservations by start epoch (epochs after frontier f + 1).
func checkCompRing(t *testing.T, id string, q *qos.UnitQoS, byStart map[int64]uint64, f int64) {
	t.Helper()
	ring := map[int64]uint64{}
	for _, r := range q.CompRing {
		ring[r.Epoch] = r.Bytes
	}
	for s, b := range byStart {
		if s > f+1 && ring[s] != b {
			t.Fatalf("%s: ring[%d] = %d, reservations starting then hold %d", id, s, ring[s], b)
		}
	}
	for s, b := range ring {
		if s > f+1 && byStart[s] != b {
			t.Fatalf("%s: ring[%d] = %d, reservations starting then hold %d", id, s, b, byStart[s])
		}
	}
}

// checkUnitsQoS checks every unit's compensation base and score, and
// recounts the network totals and provider score sums from the units.
func checkUnitsQoS(t *testing.T, kv store.KV, active map[uint64]uint64, byStart map[uint64]map[int64]uint64) (qos.NetworkStats, map[string]qos.ProviderScoreSums) {
	t.Helper()
	f := qos.Frontier(kv)
	want := qos.NetworkStats{}
	sums := map[string]qos.ProviderScoreSums{}
	kv.Iterate(market.KeyUnit, store.PrefixEnd(market.KeyUnit), func(k, v []byte) bool {
		var u market.Unit
		mustUnmarshal(t, v, &u)
		n := store.DecodeUint64(k[len(market.KeyUnit):])
		q := qos.GetUnitQoS(kv, n)
		if q.CompBytes != active[n] {
			t.Fatalf("%s: comp bytes %d, active reservations hold %d", u.ID, q.CompBytes, active[n])
		}
		checkCompRing(t, u.ID, q, byStart[n], f)
		if u.Score != uint32((q.ScoreMilli+500)/1000) {
			t.Fatalf("%s: score %d, qos milli %d", u.ID, u.Score, q.ScoreMilli)
		}
		want.CapacityReserved += u.Reserved
		want.CapacityUsed += u.Used
		want.LiveReservations += u.LiveReservations
		if u.Status != market.UnitDeleted {
			want.Units++
			want.CapacityOffered += u.Capacity
			s := sums[u.Provider]
			s.Sum += uint64(u.Score)
			s.Units++
			sums[u.Provider] = s
		}
		return true
	})
	return want, sums
}

// checkProvidersAndOracles checks the provider score sums against the
// recount from the units and adds providers and oracles to want.
func checkProvidersAndOracles(t *testing.T, kv store.KV, want *qos.NetworkStats, sums map[string]qos.ProviderScoreSums) {
	t.Helper()
	kv.Iterate(market.KeyProvider, store.PrefixEnd(market.KeyProvider), func(k, v []byte) bool {
		var p market.Provider
		mustUnmarshal(t, v, &p)
		if !p.Deregistered {
			want.Providers++
		}
		var ps qos.ProviderScoreSums
		store.Get(kv, qos.ProvScoreKey(k[len(market.KeyProvider):]), &ps)
		if ps != sums[p.Address] {
			t.Fatalf("provider %s score sums %+v, units say %+v", p.Address, ps, sums[p.Address])
		}
		return true
	})
	kv.Iterate(qos.KeyOracle, store.PrefixEnd(qos.KeyOracle), func(_, v []byte) bool {
		var o qos.Oracle
		mustUnmarshal(t, v, &o)
		if o.Active {
			want.Oracles++
		}
		return true
	})
	if want.Oracles != qos.ActiveOracles(kv) {
		t.Fatalf("active oracles %d, records say %d", qos.ActiveOracles(kv), want.Oracles)
	}
}

// qosSim is the state of the QoS property test: a chain with providers,
// consumers and oracles, a seeded rng, each unit's drifting health, and
// how often each message and event happened.
type qosSim struct {
	t         *testing.T
	h         *mkt
	rng       *rand.Rand
	providers []string
	consumers []string
	oracles   []string
	nameOf    map[string]string
	health    map[string]int
	counts    map[string]int
	// silent never reports; friend is an oracle the provider related
	// declared related; selfAuditor is a provider registered as an oracle
	// (qos_prop_oracles_test.go).
	silent, friend, related, selfAuditor string
	reported                             map[string]bool // "unit/epoch" with an accepted report
	unenforced                           map[string]bool // "unit/epoch" too old to refund
	// colluder reports every unit of related (its provider friend) as
	// perfect; held tracks the held unit-epochs (qos_prop_hold_test.go).
	colluder string
	held     map[string]heldTrack
}

func qosPropParams() params.Params {
	p := testParams()
	p.EpochSeconds = 10
	p.AcceptTimeout = 40
	p.UnbondingPeriod = 100
	p.MaxTerm = 3000
	p.MinUnitStake = 100
	p.MinOracleStake = 10
	p.ScorePeriodEpochs = 3
	p.UptimeWindowEpochs = 4
	p.SlashFractionBps = 200
	p.OracleShareBps = 1000
	p.DecayPerMonth = 2_000_000
	p.HistoryEpochs = 20
	p.ReportGraceEpochs = 1
	p.SettleLagEpochs = 3
	p.MissPenalty = 1
	p.MaxMissed = 6
	p.MissWindowEpochs = 4
	p.OracleJailEpochs = 3
	// Four auditors per unit, so that with the silent one in the set a
	// unit-epoch can still have the three reports outliers are told by.
	p.OraclesPerUnit = 4
	p.OutlierK, p.OutlierWindow, p.OutlierSlash = 1, 4, 3
	return p
}

// newQoSSim funds everyone, registers three providers with three units
// each (random prices) and four of the five oracles.
func newQoSSim(t *testing.T, seed uint64) *qosSim {
	s := &qosSim{t: t, rng: rand.New(rand.NewPCG(seed, seed^0x51a)),
		providers: []string{"p0", "p1", "p2"},
		consumers: []string{"c0", "c1", "c2", "c3", "c4", "c5"},
		oracles:   []string{"o0", "o1", "o2", "o3", "o4"},
		nameOf:    map[string]string{}, health: map[string]int{}, counts: map[string]int{}}
	all := append(append(append([]string{}, s.providers...), s.consumers...), s.oracles...)
	s.h = newMkt(t, qosPropParams(), 50_000_000_000, all...)
	fundRewards(s.h, 1_000_000_000)
	for _, n := range s.providers {
		s.h.ok(n, regProvider(n), &market.MsgStake{Amount: 10_000_000_000})
		for i := 0; i < 3; i++ {
			u := addUnit(core.Amount(100_000+s.rng.IntN(3_000_000)), core.Amount(s.rng.IntN(5000)), 64*gib, s.rng.IntN(3) > 0)
			u.SLA.MaxErrorRateBps = 500
			u.SLA.MinUptimeBps = 9000
			s.h.ok(n, u)
		}
	}
	for _, o := range s.oracles[:4] {
		s.h.ok(o, &qos.MsgRegisterOracle{Stake: 10 + core.Amount(s.rng.IntN(100))})
	}
	for _, n := range all {
		s.nameOf[mktAddr(n)] = n
	}
	s.setupCollusion()
	return s
}

func (s *qosSim) pick(xs []string) string { return xs[s.rng.IntN(len(xs))] }

func (s *qosSim) units() []string {
	var ids []string
	for i := uint64(1); i <= maxSeq(s.h.blk, market.KeySeqUnit); i++ {
		ids = append(ids, market.UnitIDString(i))
	}
	return ids
}

// randomLive is a random live reservation, nil when there is none.
func (s *qosSim) randomLive() *market.Reservation {
	var out []*market.Reservation
	s.h.blk.Iterate(market.KeyRes, store.PrefixEnd(market.KeyRes), func(_, v []byte) bool {
		var r market.Reservation
		mustUnmarshal(s.t, v, &r)
		if r.Live() {
			out = append(out, &r)
		}
		return true
	})
	if len(out) == 0 {
		return nil
	}
	return out[s.rng.IntN(len(out))]
}

// driftHealth moves each unit's health: every third unit stays healthy,
// the next drifts, the last is mostly bad, so some units breach repeatedly.
func (s *qosSim) driftHealth() {
	for _, id := range s.units() {
		n, _ := market.ParseUnitID(id)
		switch n % 3 {
		case 0: // healthy
			s.health[id] = 5
		case 1: // drifting
			s.health[id] = max(-5, min(5, s.health[id]+s.rng.IntN(3)-1))
		default: // mostly bad
			s.health[id] = -3 - s.rng.IntN(2)*s.rng.IntN(2)*8
		}
	}
}

// measure is an oracle's measurement of unit id by its health, with
// occasional integrity failures and outliers.
func (s *qosSim) measure(id string) qos.UnitMeasurement {
	hl := s.health[id]
	m := qos.UnitMeasurement{Unit: id, Probes: 100, Successes: 100, P50Ms: 40, P95Ms: 120, DownMbps: 40, UpMbps: 30, IntegrityPassed: 5}
	switch {
	case hl < -2:
		m.Successes, m.P95Ms, m.DownMbps = uint32(s.rng.IntN(50)), 900, 2
	case hl < 0:
		m.Successes = 90 + uint32(s.rng.IntN(11))
		m.P95Ms = 150 + uint32(s.rng.IntN(100))
	}
	if s.rng.IntN(30) == 0 {
		m.IntegrityFailed = 1
	}
	if s.rng.IntN(12) == 0 { // outlier
		m.P95Ms *= 5
	}
	m.P50Ms = min(m.P50Ms, m.P95Ms)
	return m
}

// measurements measures each unit assigned to oracle o in epoch e (now
// and then one it is not assigned to), skipping one in skipOneIn.
func (s *qosSim) measurements(o string, e int64, skipOneIn int) []qos.UnitMeasurement {
	var ms []qos.UnitMeasurement
	mine := s.assignedTo(o, e)
	stray := s.rng.IntN(8) == 0
	for _, id := range s.units() {
		if (mine == nil || mine[id] || stray) && s.rng.IntN(skipOneIn) > 0 {
			ms = append(ms, s.measureBy(o, id))
		}
	}
	return ms
}

// oracleReports: most oracles report the epoch that just ended, some the
// one before (within the grace), some not at all.
func (s *qosSim) oracleReports(b int) {
	for _, o := range append(s.oracles, s.selfAuditor) {
		if o != s.silent && s.rng.IntN(10) < 7 {
			e := s.h.now/10 - 1 - int64(s.rng.IntN(4)/3)
			ms := s.measurements(o, e, 10)
			m := &qos.MsgReport{Epoch: e, Units: ms}
			if r := s.h.exec(o, m); r.Code == core.CodeOK {
				s.counts["qos/report"]++
				s.noteReport(m)
			} else if r.Code == core.CodeNotAssigned {
				s.counts["not_assigned"]++
			} else if r.Code == core.CodeInternal {
				s.t.Fatalf("block %d: report: %s", b, r.Log)
			}
		}
	}
}

// reservationMsg is a random consumer or provider action on a live
// reservation (kind 3..6, 8), nil when there is none.
func (s *qosSim) reservationMsg(kind int) (string, core.Msg) {
	r := s.randomLive()
	if r == nil {
		return "", nil
	}
	switch kind {
	case 3:
		return s.nameOf[r.Consumer], &market.MsgCloseReservation{ResRef: market.ResRef{Reservation: r.ID}}
	case 4:
		return s.nameOf[r.Consumer], &market.MsgResize{Reservation: r.ID, Bytes: r.Bytes + uint64(1+s.rng.Int64N(int64(gib)))}
	case 5:
		return s.nameOf[r.Consumer], &qos.MsgClaimCompensation{Reservation: r.ID}
	case 6:
		return s.nameOf[r.Provider], &market.MsgAcceptReservation{ResRef: market.ResRef{Reservation: r.ID}}
	default:
		return s.nameOf[r.Provider], &market.MsgReportUsage{Reservation: r.ID, Epoch: s.h.now / 10, EgressBytes: uint64(s.rng.Int64N(int64(gib)))}
	}
}

// randomMsg is one random message and its signer (nil when the drawn
// action has nothing to act on).
func (s *qosSim) randomMsg() (string, core.Msg) {
	switch k := s.rng.IntN(16); k {
	case 0, 1, 2, 12, 13:
		ids := s.units()
		return s.pick(s.consumers), &market.MsgReserve{Unit: s.pick(ids), Bytes: uint64(1 + s.rng.Int64N(int64(4*gib))), Term: 1 + s.rng.Int64N(600), EgressBytes: uint64(s.rng.Int64N(int64(gib))), MaxPrice: core.MaxAmount}
	case 3, 4, 5, 6, 8:
		return s.reservationMsg(k)
	case 7:
		return s.pick(s.providers), &market.MsgClaim{}
	case 9:
		id := s.pick(s.units())
		u, _ := market.GetUnit(s.h.blk, id)
		acts := []string{"announce", "announce", "start", "end"}
		return s.nameOf[u.Provider], &market.MsgUnitMaintenance{Unit: id, Action: s.pick(acts), WindowStart: s.h.now + s.rng.Int64N(20), WindowEnd: s.h.now + 20 + s.rng.Int64N(40)}
	case 10:
		o := s.pick(s.oracles)
		if s.rng.IntN(3) == 0 {
			return o, &qos.MsgUnjailOracle{}
		} else if s.rng.IntN(2) == 0 {
			return o, &qos.MsgRegisterOracle{Stake: 10 + core.Amount(s.rng.IntN(100))}
		} else if s.rng.IntN(4) == 0 {
			return o, &qos.MsgDeregisterOracle{}
		}
		return "", nil
	case 11:
		return s.pick(s.providers), &market.MsgUnstake{Amount: core.Amount(s.rng.IntN(5000))}
	default:
		// Reports for the epoch that just ended (sometimes the one before).
		e := s.h.now/10 - 1 - int64(s.rng.IntN(2))
		if o := s.pick(s.oracles); o != s.silent {
			if ms := s.measurements(o, e, 5); len(ms) > 0 {
				return o, &qos.MsgReport{Epoch: e, Units: ms}
			}
		}
		return "", nil
	}
}

// randomTraffic sends up to six random messages; none may fail internally.
func (s *qosSim) randomTraffic(b int) {
	for i := s.rng.IntN(7); i > 0; i-- {
		signer, m := s.randomMsg()
		if m == nil {
			continue
		}
		name := m.Type()
		if r := s.h.exec(signer, m); r.Code == core.CodeOK {
			s.counts[name]++
			s.noteReport(m)
		} else if r.Code == core.CodeInternal || strings.Contains(r.Log, "internal") {
			s.t.Fatalf("block %d: %s by %s: internal error: %s", b, name, signer, r.Log)
		}
	}
}

// endBlock ends the block (now and then skipping epochs), fails on any
// module error event, counts the QoS events and checks every invariant.
func (s *qosSim) endBlock(b int) {
	dt := 1 + s.rng.Int64N(8)
	if s.rng.IntN(40) == 0 {
		dt = 35 // skip epochs now and then
	}
	before := qos.Frontier(s.h.blk)
	evs := qnext(s.h, dt)
	s.checkSilentUnpaid(b, before, evs)
	s.trackHolds(b, evs)
	s.checkOutlierSlashes(b, evs)
	for _, e := range evs {
		switch e.Type {
		case "qos_error", "market_error":
			s.t.Fatalf("block %d: %s %v", b, e.Type, e.Attrs)
		case "oracle_missed", "oracle_jailed", "oracle_removed":
			s.countOracleEvent(e)
		case "sla_breach", "compensation_paid", "unit_score", "oracle_reward", "reputation_reward", "reputation_slash", "unit_suspended", "qos_no_quorum", "oracle_unbonded", "oracle_outlier_slashed", "qos_hold_too_long":
			s.counts[e.Type]++
		}
	}
	checkMarketInvariants(s.t, s.h.blk, s.h.now)
	s.checkAssignments(b)
}

// TestQoSProperty drives random market traffic, oracle reports (honest,
// noisy, failing and outlying), maintenance and oracle churn over many
// epochs and checks every invariant after every block.
func TestQoSProperty(t *testing.T) {
	seed := uint64(20261124)
	blocks := 800
	if testing.Short() {
		blocks = 250
	}
	s := newQoSSim(t, seed)
	for b := 0; b < blocks; b++ {
		s.driftHealth()
		s.oracleReports(b)
		s.lateReports(b)
		s.randomTraffic(b)
		s.endBlock(b)
	}
	t.Logf("seed %d, %d blocks: %v", seed, blocks, s.counts)
	s.checkSilentPenalized()
	s.checkHoldsExercised()
	if testing.Short() {
		return
	}
	for _, k := range []string{"qos/report", "sla_breach", "compensation_paid", "unit_score", "oracle_reward", "qos/claim_compensation", "market/resize", "reputation_reward"} {
		if s.counts[k] < 2 {
			t.Errorf("property test exercised %q only %d times", k, s.counts[k])
		}
	}
}
