package chain

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/params"
	"github.com/flashback-network/flashback/contract/store"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract"
	"github.com/flashback-network/flashback/tx"
)

// A market on the node's real store (IAVL on goleveldb on disk) with many
// active reservations, driven through FinalizeBlock and Commit with signed
// txs, as a node runs it. Built without txs in memory (like the contract's
// BenchmarkEndBlockReservations), then loaded into the tree in batches.

const (
	resBenchChain     = "res-bench"
	resBenchUnits     = 10_000
	resBenchProviders = 100
	resBenchConsumers = 1000
	// resBenchBatch is how many keys go into the tree per saved version
	// while loading.
	resBenchBatch = 200_000
)

func resBenchKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("chain-res-bench/" + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

func resBenchRaw(name string) []byte {
	return address.Raw(resBenchKey(name).Public().(ed25519.PublicKey))
}

func resBenchParams() params.Params {
	p := params.Default()
	p.TxFee = 10
	p.EpochSeconds = 60
	p.MinUnitStake = 1
	p.UnbondingPeriod = 600
	p.AcceptTimeout = 300
	p.MaxTerm = 10 * 365 * 86400
	return p
}

// buildMarketState writes genesis, providers, units and nRes active
// reservations into a MemKV by calling the handlers directly.
func buildMarketState(b *testing.B, nRes int, now int64) *store.MemKV {
	kv := store.NewMemKV()
	g := contract.Genesis{Params: resBenchParams()}
	for i := range resBenchProviders {
		g.Accounts = append(g.Accounts, contract.GenesisAccount{Address: address.Encode(resBenchRaw(fmt.Sprint("bp", i))), Balance: 1 << 50})
	}
	for i := range resBenchConsumers {
		g.Accounts = append(g.Accounts, contract.GenesisAccount{Address: address.Encode(resBenchRaw(fmt.Sprint("bc", i))), Balance: 1 << 50})
	}
	if err := contract.InitGenesis(kv, g); err != nil {
		b.Fatal(err)
	}
	kv.Set(keyChainID, []byte(resBenchChain))
	contract.WriteStateVersion(kv)
	ctx := &core.Context{KV: kv, Block: core.Block{ChainID: resBenchChain, Height: 1, Time: time.Unix(now, 0)}}
	app := contract.New()
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	for i := range resBenchProviders {
		raw := resBenchRaw(fmt.Sprint("bp", i))
		must(app.Handle(ctx, raw, &market.MsgRegisterProvider{Name: "p", Description: "bench provider", Website: "https://example.com",
			Endpoint: "https://bridge.example.com", BridgePubKey: bytes.Repeat([]byte{7}, 32)}))
		must(app.Handle(ctx, raw, &market.MsgStake{Amount: 1 << 40}))
	}
	for i := range resBenchUnits {
		u := &market.MsgAddUnit{Kind: "local", Region: "eu-west", Country: "DE", Capacity: 1 << 50,
			StoragePrice: core.Amount(1000 + i%5000), EgressPrice: 10, AutoAccept: true,
			SLA: market.SLAOffer{MaxP95LatencyMs: 200, MinUptimeBps: 9900, MinDownloadMbps: 10, MinUploadMbps: 10, MaxErrorRateBps: 100, Durability: true}}
		must(app.Handle(ctx, resBenchRaw(fmt.Sprint("bp", i%resBenchProviders)), u))
	}
	for i := range nRes {
		m := &market.MsgReserve{Unit: fmt.Sprint("unit-", 1+i%resBenchUnits), Bytes: 1 << 30, Term: 5*365*86400 + int64(i%100000),
			EgressBytes: 1 << 30, MaxPrice: core.MaxAmount}
		must(app.Handle(ctx, resBenchRaw(fmt.Sprint("bc", i%resBenchConsumers)), m))
	}
	return kv
}

// loadTree writes kv into an empty store, saving a version every
// resBenchBatch keys so that no single version holds the whole state.
func loadTree(b *testing.B, kv *store.MemKV, s *Store) {
	w := s.Working()
	n := 0
	var err error
	kv.Iterate(nil, nil, func(k, v []byte) bool {
		w.Set(k, v)
		if n++; n%resBenchBatch == 0 {
			_, _, err = s.Commit()
		}
		return err == nil
	})
	if err == nil {
		_, _, err = s.Commit()
	}
	if err != nil {
		b.Fatal(err)
	}
}

// resBench is one market on disk with an app over it.
type resBench struct {
	dir     string
	store   *Store
	app     *App
	now     int64
	seqs    map[string]uint64
	lastRes string // created in the previous block, closed in the next
	lastCon string
	i       int
	remove  bool
}

// openResBench builds (or, when FLASHBACK_BENCH_DIR names a directory
// built before, reopens) a market with nRes reservations on disk.
func openResBench(b *testing.B, nRes int) *resBench {
	start := time.Now()
	now := int64(1_700_000_000)
	dir, keep := os.Getenv("FLASHBACK_BENCH_DIR"), true
	if dir == "" {
		d, err := os.MkdirTemp("", "flashback-res-bench-")
		if err != nil {
			b.Fatal(err)
		}
		dir, keep = d, false
	}
	dir = filepath.Join(dir, fmt.Sprint("res-", nRes))
	_, statErr := os.Stat(dir)
	store, err := OpenStore(dir)
	if err != nil {
		b.Fatal(err)
	}
	if store.Version() == 0 {
		kv := buildMarketState(b, nRes, now)
		loadTree(b, kv, store)
		b.Logf("built %d reservations on disk in %v", nRes, time.Since(start))
	} else if statErr == nil && keep {
		b.Logf("reopened %s at version %d", dir, store.Version())
	}
	app, err := NewApp(store)
	if err != nil {
		b.Fatal(err)
	}
	rb := &resBench{dir: dir, store: store, app: app, now: now, seqs: map[string]uint64{}}
	if !keep {
		rb.remove = true
	}
	if v := store.Version(); v > 0 {
		// Blocks follow on from whatever the store already holds.
		rb.now += 5 * v
	}
	return rb
}

// close closes the store and removes it unless it is kept for later runs.
func (r *resBench) close() {
	if r == nil {
		return
	}
	r.store.Close()
	if r.remove {
		os.RemoveAll(r.dir)
	}
}

func (r *resBench) sign(b *testing.B, name string, m core.Msg) []byte {
	seq, ok := r.seqs[name]
	if !ok {
		kv, err := r.store.Committed()
		if err != nil {
			b.Fatal(err)
		}
		seq = bank.GetAccount(kv, resBenchRaw(name)).Sequence
	}
	r.seqs[name] = seq + 1
	w, err := contract.Wrap(m)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := tx.Sign(tx.Body{ChainID: resBenchChain, Sequence: seq, Fee: "10", Msgs: []tx.Msg{w}}, resBenchKey(name))
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// blockTimes is where one block's time went.
type blockTimes struct{ finalize, commit time.Duration }

// block runs one block like the contract benchmark's: a reserve, a claim,
// a usage report and the close of the previous block's reservation, then
// commits it. Signing is not timed.
func (r *resBench) block(b *testing.B) blockTimes {
	r.i++
	r.now += 5
	unit := 1 + (r.i*7919)%resBenchUnits
	cons := fmt.Sprint("bc", r.i%resBenchConsumers)
	txs := [][]byte{
		r.sign(b, cons, &market.MsgReserve{Unit: fmt.Sprint("unit-", unit), Bytes: 1 << 30, Term: 86400, EgressBytes: 1 << 30, MaxPrice: core.MaxAmount}),
		r.sign(b, fmt.Sprint("bp", (unit-1)%resBenchProviders), &market.MsgClaim{Unit: fmt.Sprint("unit-", unit)}),
		r.sign(b, "bp0", &market.MsgReportUsage{Reservation: "res-1", Epoch: r.now / 60, EgressBytes: 1}),
	}
	if r.lastRes != "" {
		var m market.MsgCloseReservation
		if err := json.Unmarshal(fmt.Appendf(nil, `{"reservation":%q}`, r.lastRes), &m); err != nil {
			b.Fatal(err)
		}
		txs = append(txs, r.sign(b, r.lastCon, &m))
	}
	ctx := context.Background()
	t0 := time.Now()
	res, err := r.app.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Height: r.store.Version() + 1, Time: time.Unix(r.now, 0), Txs: txs})
	if err != nil {
		b.Fatal(err)
	}
	t1 := time.Now()
	if _, err := r.app.Commit(ctx, &abci.RequestCommit{}); err != nil {
		b.Fatal(err)
	}
	t2 := time.Now()
	for j, tr := range res.TxResults {
		// The usage report may land outside its epoch window.
		if tr.Code != 0 && j != 2 {
			b.Fatalf("block %d tx %d: %s", r.i, j, tr.Log)
		}
	}
	r.lastRes, r.lastCon = eventAttr(res.TxResults[0].Events, "reservation_created", "id"), cons
	return blockTimes{finalize: t1.Sub(t0), commit: t2.Sub(t1)}
}

func eventAttr(evs []abci.Event, typ, key string) string {
	for _, e := range evs {
		if e.Type != typ {
			continue
		}
		for _, a := range e.Attributes {
			if a.Key == key {
				return a.Value
			}
		}
	}
	return ""
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// resBenches holds the two markets across the benchmark's runs (the
// harness calls it with b.N = 1 first); building the large one takes
// minutes.
var resBenches struct{ small, large *resBench }

// TestMain closes (and removes) the benchmark's stores after every run.
func TestMain(m *testing.M) {
	code := m.Run()
	resBenches.small.close()
	resBenches.large.close()
	os.Exit(code)
}

// BenchmarkBlockReservationsOnDisk compares one block's cost (FinalizeBlock
// with signed market txs, cache written into the tree, Commit) on the
// node's store with 10 and with 1,000,000 active reservations (set
// FLASHBACK_BENCH_RES for another size, FLASHBACK_BENCH_DIR to keep the
// built stores for the next run). Target: ratio_1M/10 <= 1.5.
func BenchmarkBlockReservationsOnDisk(b *testing.B) {
	bigN := 1_000_000
	if s := os.Getenv("FLASHBACK_BENCH_RES"); s != "" {
		if _, err := fmt.Sscan(s, &bigN); err != nil {
			b.Fatalf("FLASHBACK_BENCH_RES=%q: %v", s, err)
		}
	}
	if testing.Short() {
		b.Skip("builds a store of 1,000,000 reservations")
	}
	rb := &resBenches
	if rb.small == nil {
		rb.small = openResBench(b, 10)
		rb.large = openResBench(b, bigN)
		// Warm the caches, as on a node that has been running.
		for range 300 {
			rb.small.block(b)
			rb.large.block(b)
		}
	}
	b.ResetTimer()
	var small, large []blockTimes
	for range b.N {
		small = append(small, rb.small.block(b))
		large = append(large, rb.large.block(b))
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	med := func(ts []blockTimes, part func(blockTimes) time.Duration) time.Duration {
		ds := make([]time.Duration, len(ts))
		for i, t := range ts {
			ds[i] = part(t)
		}
		return median(ds)
	}
	total := func(t blockTimes) time.Duration { return t.finalize + t.commit }
	fin := func(t blockTimes) time.Duration { return t.finalize }
	com := func(t blockTimes) time.Duration { return t.commit }
	b.ReportMetric(ms(med(small, total)), "ms/block_10")
	b.ReportMetric(ms(med(large, total)), "ms/block_1M")
	b.ReportMetric(ms(med(small, fin)), "finalize-ms_10")
	b.ReportMetric(ms(med(large, fin)), "finalize-ms_1M")
	b.ReportMetric(ms(med(small, com)), "commit-ms_10")
	b.ReportMetric(ms(med(large, com)), "commit-ms_1M")
	b.ReportMetric(float64(med(large, total))/float64(med(small, total)), "ratio_1M/10")
}
