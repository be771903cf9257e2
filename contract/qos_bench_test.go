package contract

import (
	"fmt"
	"testing"
	"time"

	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/qos"
	"github.com/flashback-network/flashback/contract/store"
)

// qosBench is a chain with nUnits units (one active reservation each, 100
// providers) and 5 oracles that report every unit every epoch.
type qosBench struct {
	kv     *store.MemKV
	units  int
	epoch  int64 // next epoch to report
	height int64
}

const qosBenchOracles = 5

func newQoSBench(b *testing.B, nUnits int) *qosBench {
	kv := store.NewMemKV()
	p := testParams()
	p.MinUnitStake = 1
	p.MaxTerm = 10 * 365 * 86400
	p.MinOracleStake = 1
	p.MaxUnitsPerReport = uint32(nUnits)
	p.OraclesPerUnit = qosBenchOracles // every oracle reports every unit, as before assignments
	g := Genesis{Params: p}
	for i := 0; i < 100; i++ {
		g.Accounts = append(g.Accounts, GenesisAccount{Address: mktAddr(fmt.Sprintf("qp%d", i)), Balance: 1 << 50})
		g.Accounts = append(g.Accounts, GenesisAccount{Address: mktAddr(fmt.Sprintf("qc%d", i)), Balance: 1 << 50})
	}
	for i := 0; i < qosBenchOracles; i++ {
		g.Accounts = append(g.Accounts, GenesisAccount{Address: mktAddr(fmt.Sprintf("qo%d", i)), Balance: 1 << 40})
	}
	if err := InitGenesis(kv, g); err != nil {
		b.Fatal(err)
	}
	now := int64(1_700_000_000)
	s := &qosBench{kv: kv, units: nUnits}
	ctx := s.ctx(now)
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < 100; i++ {
		raw := mktRaw(fmt.Sprintf("qp%d", i))
		must(handle(ctx, raw, regProvider("p")))
		must(handle(ctx, raw, (&market.MsgStake{Amount: 1 << 40})))
	}
	for i := 0; i < nUnits; i++ {
		must(handle(ctx, mktRaw(fmt.Sprintf("qp%d", i%100)), addUnit(core.Amount(1000+i%5000), 10, 1<<50, true)))
		must(handle(ctx, mktRaw(fmt.Sprintf("qc%d", i%100)), (&market.MsgReserve{Unit: market.UnitIDString(uint64(i + 1)), Bytes: gib, Term: 5 * 365 * 86400, MaxPrice: core.MaxAmount})))
	}
	for i := 0; i < qosBenchOracles; i++ {
		must(handle(ctx, mktRaw(fmt.Sprintf("qo%d", i)), (&qos.MsgRegisterOracle{Stake: 10})))
	}
	s.epoch = market.EpochOf(now, 60)
	return s
}

func (s *qosBench) ctx(now int64) *core.Context {
	s.height++
	return &core.Context{KV: s.kv, Block: core.Block{ChainID: mktChain, Height: s.height, Time: time.Unix(now, 0)}}
}

// round reports epoch s.epoch in its next epoch (untimed) and returns how
// long the BeginBlocks that process it (from two epochs on, one a second
// until the work is done: more than MaxEpochWorkPerBlock units take more
// than one) take in all and the longest of them.
func (s *qosBench) round(b *testing.B) (total, longest time.Duration) {
	e := s.epoch
	ctx := s.ctx((e+1)*60 + 1)
	// No BeginBlock in the reporting block: it would fix an oracle set for
	// epoch e+1, which no one reports, and the misses would remove the
	// oracles (each reported epoch's set is fixed by the judging blocks of
	// the round before, all five oracles assigned to every unit).
	ms := make([]qos.UnitMeasurement, s.units)
	for o := 0; o < qosBenchOracles; o++ {
		for i := range ms {
			m := good(market.UnitIDString(uint64(i + 1)))
			m.P95Ms += uint32(o * 3)
			if (i+int(e))%10 == 0 {
				m.P95Ms = 300 // 10 % of the units breach
			}
			ms[i] = m
		}
		if err := handle(ctx, mktRaw(fmt.Sprintf("qo%d", o)), (&qos.MsgReport{Epoch: e, Units: ms})); err != nil {
			b.Fatal(err)
		}
	}
	EndBlock(s.kv, ctx.Block)
	for at := (e+2)*60 + 1; ; at++ {
		blk := s.ctx(at).Block
		start := time.Now()
		c := store.NewCache(s.kv)
		ev := BeginBlock(c, blk)
		c.Write()
		d := time.Since(start)
		total, longest = total+d, max(longest, d)
		for _, x := range ev {
			if x.Type == "qos_error" || x.Type == "market_error" {
				b.Fatalf("%s %v", x.Type, x.Attrs)
			}
		}
		EndBlock(s.kv, blk)
		if _, _, pending := qos.EpochBacklog(s.kv); !pending {
			break
		}
	}
	s.epoch = e + 2
	return total, longest
}

var qosBenchSmall, qosBenchLarge *qosBench

// BenchmarkEpochEnd compares the epoch-end work (the BeginBlocks that
// judge an epoch: medians, SLA, 10 % breaches with slash and
// compensation, history, stats, oracle payouts) for 1,000 and 10,000
// units with 5 reporters each. Per unit the cost must stay flat, and so
// must the longest block: at 10,000 units the work is spread over blocks
// of MaxEpochWorkPerBlock units.
func BenchmarkEpochEnd(b *testing.B) {
	if qosBenchSmall == nil {
		qosBenchSmall = newQoSBench(b, 1_000)
		qosBenchLarge = newQoSBench(b, 10_000)
	}
	b.ResetTimer()
	var tSmall, tLarge, maxSmall, maxLarge time.Duration
	for i := 0; i < b.N; i++ {
		d, m := qosBenchSmall.round(b)
		tSmall, maxSmall = tSmall+d, max(maxSmall, m)
		d, m = qosBenchLarge.round(b)
		tLarge, maxLarge = tLarge+d, max(maxLarge, m)
	}
	b.StopTimer()
	b.ReportMetric(float64(maxSmall.Microseconds())/1000, "ms/longest_block_1k")
	b.ReportMetric(float64(maxLarge.Microseconds())/1000, "ms/longest_block_10k")
	b.ReportMetric(float64(maxLarge)/float64(maxSmall), "ratio_longest_block_10k/1k")
	small := float64(tSmall.Nanoseconds()) / float64(b.N) / 1_000
	large := float64(tLarge.Nanoseconds()) / float64(b.N) / 10_000
	b.ReportMetric(small, "ns/unit_1k")
	b.ReportMetric(large, "ns/unit_10k")
	b.ReportMetric(large/small, "ratio_10k/1k")
}
