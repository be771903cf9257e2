package contract

import (
	"crypto/ed25519"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/store"
	"github.com/flashback-network/flashback/tx"
)

// benchState builds, without txs, a market with units spread over 100
// providers and nRes active reservations spread over the units and 1,000
// consumers, with term ends far in the future.
type benchState struct {
	kv       *store.MemKV
	now      int64
	height   int64
	units    int
	nextRes  int
	seqs     map[string]uint64
	lastCons string
}

func newBenchState(b testing.TB, nUnits, nRes int) (*benchState, int) {
	kv := store.NewMemKV()
	p := testParams()
	p.MinUnitStake = 1
	p.MaxTerm = 10 * 365 * 86400
	g := Genesis{Params: p}
	for i := 0; i < 100; i++ {
		g.Accounts = append(g.Accounts, GenesisAccount{Address: mktAddr(fmt.Sprintf("bp%d", i)), Balance: 1 << 50})
	}
	for i := 0; i < 1000; i++ {
		g.Accounts = append(g.Accounts, GenesisAccount{Address: mktAddr(fmt.Sprintf("bc%d", i)), Balance: 1 << 50})
	}
	if err := InitGenesis(kv, g); err != nil {
		b.Fatal(err)
	}
	now := int64(1_700_000_000)
	ctx := &core.Context{KV: kv, Block: core.Block{ChainID: mktChain, Height: 1, Time: time.Unix(now, 0)}}
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < 100; i++ {
		raw := mktRaw(fmt.Sprintf("bp%d", i))
		must(handle(ctx, raw, (regProvider("p"))))
		must(handle(ctx, raw, (&market.MsgStake{Amount: 1 << 40})))
	}
	for i := 0; i < nUnits; i++ {
		must(handle(ctx, mktRaw(fmt.Sprintf("bp%d", i%100)), addUnit(core.Amount(1000+i%5000), 10, 1<<50, true)))
	}
	base := stateBytes(kv)
	for i := 0; i < nRes; i++ {
		m := &market.MsgReserve{Unit: market.UnitIDString(uint64(1 + i%nUnits)), Bytes: gib, Term: 5*365*86400 + int64(i%100000), EgressBytes: gib, MaxPrice: core.MaxAmount}
		must(handle(ctx, mktRaw(fmt.Sprintf("bc%d", i%1000)), m))
	}
	perRes := 0
	if nRes > 0 {
		perRes = (stateBytes(kv) - base) / nRes
	}
	return &benchState{kv: kv, now: now, height: 1, units: nUnits, nextRes: nRes + 1, seqs: map[string]uint64{}}, perRes
}

func stateBytes(kv *store.MemKV) int {
	n := 0
	kv.Iterate(nil, nil, func(k, v []byte) bool { n += len(k) + len(v); return true })
	return n
}

func (s *benchState) sign(b testing.TB, name string, m core.Msg) []byte {
	w, err := Wrap(m)
	if err != nil {
		b.Fatal(err)
	}
	seq := s.seqs[name]
	s.seqs[name]++
	raw, err := tx.Sign(tx.Body{ChainID: mktChain, Sequence: seq, Fee: "10", Msgs: []tx.Msg{w}}, mktKeyCached(name))
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

var (
	benchKeys              = map[string]ed25519.PrivateKey{}
	benchSmall, benchLarge *benchState
	benchPerRes            int
)

func mktKeyCached(name string) ed25519.PrivateKey {
	if k, ok := benchKeys[name]; ok {
		return k
	}
	k := mktKey(name)
	benchKeys[name] = k
	return k
}

// block runs one block: a reserve, a usage report, a claim and a close
// (of the reservation made in the previous block), then EndBlock, and
// returns how long it took (signing excluded).
func (s *benchState) block(b testing.TB, i int) time.Duration { return s.blockKV(b, i, s.kv) }

func (s *benchState) blockKV(b testing.TB, i int, kv store.KV) time.Duration {
	s.now += 5
	s.height++
	unit := 1 + (i*7919)%s.units
	prov := fmt.Sprintf("bp%d", (unit-1)%100)
	cons := fmt.Sprintf("bc%d", i%1000)
	txs := [][]byte{
		s.sign(b, cons, &market.MsgReserve{Unit: market.UnitIDString(uint64(unit)), Bytes: gib, Term: 86400, EgressBytes: gib, MaxPrice: core.MaxAmount}),
		s.sign(b, prov, &market.MsgClaim{Unit: market.UnitIDString(uint64(unit))}),
		s.sign(b, "bp0", &market.MsgReportUsage{Reservation: market.ResIDString(1), Epoch: s.now / 60, EgressBytes: 1}),
	}
	if s.lastCons != "" {
		txs = append(txs, s.sign(b, s.lastCons, &market.MsgCloseReservation{ResRef: market.ResRef{Reservation: market.ResIDString(uint64(s.nextRes - 1))}}))
	}
	s.lastCons = cons
	blk := core.Block{ChainID: mktChain, Height: s.height, Time: time.Unix(s.now, 0)}
	start := time.Now()
	c := store.NewCache(kv)
	BeginBlock(c, blk)
	for j, raw := range txs {
		if r := ExecTx(c, blk, raw, Deliver); r.Code != core.CodeOK && j != 2 {
			b.Fatalf("block %d tx %d: %s", i, j, r.Log)
		}
	}
	EndBlock(c, blk)
	c.Write()
	d := time.Since(start)
	s.nextRes++
	return d
}

// BenchmarkEndBlockReservations compares the cost of one block (a few
// market txs, BeginBlock and EndBlock) with 10 and with 1,000,000 active
// reservations over 10,000 units. The ratio is what matters: settlement is
// lazy, so it must stay near 1.
func BenchmarkEndBlockReservations(b *testing.B) {
	bigN := 1_000_000
	if testing.Short() {
		bigN = 0
	}
	// The states are built once per process: the benchmark function runs
	// more than once (b.N = 1 first) and the blocks only add to them.
	start := time.Now()
	if benchSmall == nil {
		benchSmall, _ = newBenchState(b, 10_000, 10)
	}
	if bigN > 0 && benchLarge == nil {
		benchLarge, benchPerRes = newBenchState(b, 10_000, bigN)
	}
	small, perRes := benchSmall, benchPerRes
	var large *benchState
	if bigN > 0 {
		large = benchLarge
	}
	b.Logf("setup %v", time.Since(start))
	b.ResetTimer()
	// Per-block times are kept so the ratio can be taken of the medians:
	// on a shared machine a few blocks hit a GC cycle or lose the core,
	// and the mean of a few hundred blocks moves with them.
	tSmall := make([]time.Duration, 0, b.N)
	var tLarge []time.Duration
	for i := 0; i < b.N; i++ {
		tSmall = append(tSmall, small.block(b, small.nextRes))
		if large != nil {
			tLarge = append(tLarge, large.block(b, large.nextRes))
		}
	}
	b.StopTimer()
	nsSmall := float64(median(tSmall).Nanoseconds())
	b.ReportMetric(nsSmall, "ns/block_10")
	if large != nil {
		nsLarge := float64(median(tLarge).Nanoseconds())
		b.ReportMetric(nsLarge, "ns/block_1M")
		b.ReportMetric(nsLarge/nsSmall, "ratio_1M/10")
		b.ReportMetric(mean(tLarge)/mean(tSmall), "mean_ratio_1M/10")
		b.ReportMetric(float64(perRes), "state_bytes/reservation")
	} else {
		b.Log("1,000,000-reservation case skipped under -short")
	}
}

// median is the middle of ds (which it sorts).
func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}

func mean(ds []time.Duration) float64 {
	var t time.Duration
	for _, d := range ds {
		t += d
	}
	return float64(t) / float64(len(ds))
}
