package chain_test

import (
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/chain"
	"github.com/flashback-network/flashback/contract"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/params"
	"github.com/flashback-network/flashback/tx"
)

// BenchmarkSignedSends measures signed bank sends through the ABCI app on a
// disk-backed IAVL store: CheckTx throughput, FinalizeBlock throughput and
// Commit latency, with blocks of 1000 txs from 1000 accounts. The baseline,
// measured in the same run on the same txs, is bare ed25519 verification:
// the part of a tx's cost no state layout can remove. Target: FinalizeBlock
// handles >= 1.4 times as many txs per second as one core verifies
// (finalize/verify-rate), since it verifies on every core.
func BenchmarkSignedSends(b *testing.B) {
	const perBlock = 1000
	app, blocks, decoded := signedSendsSetup(b, perBlock, b.N)
	ctx := context.Background()
	var stdVerify, verify, check, finalize, commit time.Duration
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		tStd := time.Now()
		for _, d := range decoded[n] {
			if !ed25519.Verify(d.Tx.PubKey, tx.SignBytes(d.Tx.Body), d.Tx.Signature) {
				b.Fatal("bad tx")
			}
		}
		t0 := time.Now()
		stdVerify += t0.Sub(tStd)
		for _, d := range decoded[n] {
			if !d.VerifySignature() {
				b.Fatal("bad tx")
			}
		}
		t1 := time.Now()
		for _, raw := range blocks[n] {
			res, _ := app.CheckTx(ctx, &abci.RequestCheckTx{Tx: raw})
			if res.Code != 0 {
				b.Fatalf("check: %s", res.Log)
			}
		}
		t2 := time.Now()
		res, err := app.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Height: int64(n + 1), Time: time.Unix(1_800_000_000+int64(n), 0), Txs: blocks[n]})
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res.TxResults {
			if r.Code != 0 {
				b.Fatalf("deliver: %s", r.Log)
			}
		}
		t3 := time.Now()
		if _, err := app.Commit(ctx, &abci.RequestCommit{}); err != nil {
			b.Fatal(err)
		}
		t4 := time.Now()
		verify += t1.Sub(t0)
		check += t2.Sub(t1)
		finalize += t3.Sub(t2)
		commit += t4.Sub(t3)
	}
	b.StopTimer()
	txs := float64(b.N * perBlock)
	b.ReportMetric(txs/verify.Seconds(), "verify-tx/s")
	b.ReportMetric(txs/stdVerify.Seconds(), "stdlib-verify-tx/s")
	b.ReportMetric(txs/check.Seconds(), "checktx-tx/s")
	b.ReportMetric(txs/finalize.Seconds(), "finalize-tx/s")
	b.ReportMetric(txs/(finalize+commit).Seconds(), "block-tx/s")
	b.ReportMetric(float64(commit.Milliseconds())/float64(b.N), "commit-ms/block")
	// Target >= 1.4: FinalizeBlock (signatures batch-verified on every core,
	// then executed in order) beats bare one-by-one verification on one core.
	b.ReportMetric(verify.Seconds()/finalize.Seconds(), "finalize/verify-rate")
}

// signedSendsSetup returns an app on a disk store whose genesis funds
// perBlock accounts, nBlocks blocks of perBlock signed sends (each account
// sends once per block), and the same txs decoded for the verify baseline.
func signedSendsSetup(b *testing.B, perBlock, nBlocks int) (app *chain.App, blocks [][][]byte, decoded [][]*tx.Decoded) {
	keys := make([]ed25519.PrivateKey, perBlock)
	var g contract.Genesis
	g.Params = params.Default()
	for i := range keys {
		var seed [32]byte
		binary.BigEndian.PutUint64(seed[:], uint64(i)+1)
		keys[i] = ed25519.NewKeyFromSeed(seed[:])
		g.Accounts = append(g.Accounts, contract.GenesisAccount{Address: address.FromPubKey(keys[i].Public().(ed25519.PublicKey)), Balance: 1 << 40})
	}
	store, err := chain.OpenStore(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	app, err = chain.NewApp(store)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	state, _ := json.Marshal(g)
	if _, err := app.InitChain(ctx, &abci.RequestInitChain{ChainId: "bench", AppStateBytes: state}); err != nil {
		b.Fatal(err)
	}
	blocks = make([][][]byte, nBlocks)
	for n := range blocks {
		blocks[n] = make([][]byte, perBlock)
		for i := range keys {
			to := address.FromPubKey(keys[(i+1)%perBlock].Public().(ed25519.PublicKey))
			m, _ := contract.Wrap(&bank.MsgSend{To: to, Amount: 1})
			raw, err := tx.Sign(tx.Body{ChainID: "bench", Sequence: uint64(n), Fee: g.Params.TxFee.String(), Msgs: []tx.Msg{m}}, keys[i])
			if err != nil {
				b.Fatal(err)
			}
			blocks[n][i] = raw
		}
	}

	// The baseline verifies already decoded txs one by one on one core, with
	// the verifier the chain uses (stdlib-verify-tx/s: crypto/ed25519).
	decoded = make([][]*tx.Decoded, nBlocks)
	for n := range blocks {
		for _, raw := range blocks[n] {
			d, err := tx.Decode(raw)
			if err != nil {
				b.Fatal(err)
			}
			decoded[n] = append(decoded[n], d)
		}
	}
	return app, blocks, decoded
}
