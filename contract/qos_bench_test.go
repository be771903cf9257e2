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
// long the BeginBlock that processes it (two epochs on) takes.
func (s *qosBench) round(b *testing.B) time.Duration {
	e := s.epoch
	ctx := s.ctx((e+1)*60 + 1)
	BeginBlock(s.kv, ctx.Block)
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
	blk := s.ctx((e+2)*60 + 1).Block
	start := time.Now()
	c := store.NewCache(s.kv)
	ev := BeginBlock(c, blk)
	c.Write()
	d := time.Since(start)
	for _, x := range ev {
		if x.Type == "qos_error" || x.Type == "market_error" {
			b.Fatalf("%s %v", x.Type, x.Attrs)
		}
	}
	EndBlock(s.kv, blk)
	s.epoch = e + 2
	return d
}

var qosBenchSmall, qosBenchLarge *qosBench

// BenchmarkEpochEnd compares the epoch-end work (the BeginBlock that
// judges an epoch: medians, SLA, 10 % breaches with slash and
// compensation, history, stats, oracle payouts) for 1,000 and 10,000
// units with 5 reporters each. Per unit the cost must stay flat.
func BenchmarkEpochEnd(b *testing.B) {
	if qosBenchSmall == nil {
		qosBenchSmall = newQoSBench(b, 1_000)
		qosBenchLarge = newQoSBench(b, 10_000)
	}
	b.ResetTimer()
	var tSmall, tLarge time.Duration
	for i := 0; i < b.N; i++ {
		tSmall += qosBenchSmall.round(b)
		tLarge += qosBenchLarge.round(b)
	}
	b.StopTimer()
	small := float64(tSmall.Nanoseconds()) / float64(b.N) / 1_000
	large := float64(tLarge.Nanoseconds()) / float64(b.N) / 10_000
	b.ReportMetric(small, "ns/unit_1k")
	b.ReportMetric(large, "ns/unit_10k")
	b.ReportMetric(large/small, "ratio_10k/1k")
}
