package chainview

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flashback-network/flashback/api"
	"github.com/flashback-network/flashback/chain"
	"github.com/flashback-network/flashback/chain/chaintest"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract"
	"github.com/flashback-network/flashback/keyring"
	"github.com/flashback-network/flashback/sealed"
	"github.com/flashback-network/flashback/tx"
)

// benchProvider is a registered provider with one auto-accepting unit,
// count active reservations on it and its bridge's view.
type benchProvider struct {
	signer    *client.Signer
	pub, priv *[sealed.KeySize]byte
	unit      string
	count     int    // active reservations to make
	first     string // one of them, for the timed block's key
	view      *View
}

// BenchmarkChainViewPerBlock measures what a block costs a bridge's chain
// view when its provider has 10,000 active reservations against one with
// 10, on the same real node in the same run. Every timed update processes
// the same block: one tx creating one access key on each provider, so both
// views fetch the changes and one key. Empty blocks are off, so the window
// stays that block (and CometBFT's proof block after it). The full sync the
// view did on every block before it followed changes is reported too
// (sync-ms-*), measured a few times each.
func BenchmarkChainViewPerBlock(b *testing.B) {
	c, keys := startQuietNode(b)
	small := newBenchProvider(b, c, keys("provider"), 10)
	large := newBenchProvider(b, c, keys("bob"), 10_000)
	consumer := c.Signer(keys("alice"))
	small.reserve(b, c, consumer)
	large.reserve(b, c, consumer)

	var syncSmall, syncLarge time.Duration
	const syncRuns = 3
	for i := 0; i < syncRuns; i++ {
		syncSmall += timed(b, small.view.Sync)
		syncLarge += timed(b, large.view.Sync)
	}
	if n := len(large.view.chainRes); n != 10_000 {
		b.Fatalf("large view serves %d reservations, want 10000", n)
	}
	height, smallKey, largeKey := createKeysInOneTx(b, consumer, small, large)

	// b.Loop runs the setup above once however many iterations it takes.
	var perSmall, perLarge time.Duration
	n := 0
	for b.Loop() {
		perSmall += small.updateFrom(b, height-1)
		perLarge += large.updateFrom(b, height-1)
		n++
	}
	for _, k := range []struct {
		v  *View
		id string
	}{{small.view, smallKey}, {large.view, largeKey}} {
		if _, ok := k.v.Keys().Lookup(k.id); !ok {
			b.Fatalf("key %s created at height %d is not served", k.id, height)
		}
	}
	ns := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(n) }
	ms := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 / syncRuns }
	b.ReportMetric(ns(perSmall), "ns/block-10res")
	b.ReportMetric(ns(perLarge), "ns/block-10000res")
	b.ReportMetric(ns(perLarge)/ns(perSmall), "ratio-10000/10")
	b.ReportMetric(ms(syncSmall), "sync-ms-10res")
	b.ReportMetric(ms(syncLarge), "sync-ms-10000res")
}

// startQuietNode starts a dev node that makes blocks only for txs and
// serves the REST API; it returns a client and the dev keys.
func startQuietNode(b *testing.B) (*client.Client, func(string) []byte) {
	home := chaintest.TempHome(b, "viewbench")
	if err := chain.Init(chain.InitOptions{Home: home, ChainID: "viewbench", Dev: true, BlockTime: 50 * time.Millisecond, BasePort: chaintest.FreeBasePort(b)}); err != nil {
		b.Fatal(err)
	}
	cfgPath := filepath.Join(home, "config", "config.toml")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		b.Fatal(err)
	}
	quiet := strings.Replace(string(cfg), "create_empty_blocks = true", "create_empty_blocks = false", 1)
	if quiet == string(cfg) {
		b.Fatal("config.toml has no create_empty_blocks = true to turn off")
	}
	if err := os.WriteFile(cfgPath, []byte(quiet), 0o644); err != nil {
		b.Fatal(err)
	}
	n, err := chain.StartNode(home, chain.NodeOptions{LogLevel: "error"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = n.Stop() })
	srv := httptest.NewServer(api.New(n.RPC))
	b.Cleanup(srv.Close)
	kr, err := keyring.Open(filepath.Join(home, "keyring"))
	if err != nil {
		b.Fatal(err)
	}
	return client.New(srv.URL), func(name string) []byte {
		k, err := kr.PrivKey(name, nil)
		if err != nil {
			b.Fatal(err)
		}
		return k
	}
}

func newBenchProvider(b *testing.B, c *client.Client, priv []byte, count int) *benchProvider {
	ctx := context.Background()
	p := &benchProvider{signer: c.Signer(priv), count: count}
	var err error
	if p.pub, p.priv, err = sealed.GenerateKey(); err != nil {
		b.Fatal(err)
	}
	params, err := c.Params(ctx)
	if err != nil {
		b.Fatal(err)
	}
	steps := []func() error{
		func() error {
			_, err := p.signer.RegisterProvider(ctx, contract.MsgRegisterProvider{Name: "bench", Endpoint: "http://127.0.0.1:1", BridgePubKey: p.pub[:]})
			return err
		},
		func() error { _, err := p.signer.Stake(ctx, params.MinUnitStake); return err },
		func() (err error) {
			p.unit, _, err = p.signer.AddUnit(ctx, contract.MsgAddUnit{Kind: "local", Region: "eu-central", Country: "DE",
				Capacity: 1 << 50, StoragePrice: 1, EgressPrice: 1, AutoAccept: true})
			return err
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			b.Fatalf("set up provider %s: %v", p.signer.Address(), err)
		}
	}
	p.view = New(c, p.signer.Address(), p.pub, p.priv)
	return p
}

// reserve makes p.count reservations on the provider's unit, 32 per tx,
// every tx sent without waiting so a block takes many; it waits for the last.
func (p *benchProvider) reserve(b *testing.B, c *client.Client, consumer *client.Signer) {
	ctx := context.Background()
	want := p.count
	for done := 0; done < want; done += tx.MaxMsgs {
		var msgs []contract.Msg
		for i := done; i < min(done+tx.MaxMsgs, want); i++ {
			msgs = append(msgs, &contract.MsgReserve{Unit: p.unit, Bytes: 1 << 20, Term: 86400, MaxPrice: 1})
		}
		raw, err := consumer.Sign(ctx, "", msgs...)
		if err != nil {
			b.Fatal(err)
		}
		wait := done+tx.MaxMsgs >= want
		if _, err := c.BroadcastTx(ctx, raw, wait); err != nil {
			b.Fatalf("reserve batch at %d: %v", done, err)
		}
	}
	page, err := c.Reservations(ctx, client.ReservationFilter{Provider: p.signer.Address(), Status: contract.ResActive, Page: client.Page{Limit: 1}})
	if err != nil || len(page.Reservations) == 0 {
		b.Fatalf("provider %s has no active reservation after reserving: %v", p.signer.Address(), err)
	}
	p.first = page.Reservations[0].ID
}

// createKeysInOneTx creates one access key on a reservation of each
// provider in one tx and returns its height and the key ids.
func createKeysInOneTx(b *testing.B, consumer *client.Signer, small, large *benchProvider) (int64, string, string) {
	var ids []string
	var msgs []contract.Msg
	for _, p := range []*benchProvider{small, large} {
		id, _, sealedSecret, err := client.NewAccessKey(p.pub[:])
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, id)
		msgs = append(msgs, &contract.MsgCreateAccessKey{Reservation: p.first, ID: id, Perm: contract.PermWrite, SealedSecret: sealedSecret})
	}
	res, err := consumer.Submit(context.Background(), msgs...)
	if err != nil {
		b.Fatalf("create keys: %v", err)
	}
	return res.Height, ids[0], ids[1]
}

// updateFrom times one update of the view from height since.
func (p *benchProvider) updateFrom(b *testing.B, since int64) time.Duration {
	p.view.mu.Lock()
	p.view.height = since
	p.view.mu.Unlock()
	return timed(b, p.view.Update)
}

func timed(b *testing.B, f func(context.Context) error) time.Duration {
	start := time.Now()
	if err := f(context.Background()); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}
