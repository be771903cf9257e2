package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/params"

	"github.com/flashback-network/flashback/api"
	"github.com/flashback-network/flashback/bridge/daemon"
	"github.com/flashback-network/flashback/chain"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/keyring"
	"github.com/flashback-network/flashback/oracle"
	"github.com/flashback-network/flashback/storage"
)

// demoParams are the dev params with 4 s epochs and the shortest QoS lags,
// so breaches, compensation and scores show within a minute.
func demoParams() params.Params {
	p := chain.DevParams()
	p.EpochSeconds = demoEpochSeconds
	p.SettleLagEpochs = 2 // the smallest lag QoS can still mark breaches within
	p.ScorePeriodEpochs = 2
	p.UptimeWindowEpochs = 4
	p.AcceptTimeout = 600
	return p
}

// startNetwork initializes the demo home (the dev keys; provider B is the
// dev key provider2),
// starts the validator and the REST API, and makes the signers.
func (d *demo) startNetwork(ctx context.Context) (string, error) {
	p := demoParams()
	base, err := freePorts(3, 0)
	if err != nil {
		return "", err
	}
	for i := range d.bridgePorts {
		// S3 and ops ports: the oracles probe through the S3 one (its
		// /_flashback/probe/ path), the ops one can be anywhere.
		if d.bridgePorts[i], err = freePorts(2, 0); err != nil {
			return "", err
		}
	}
	if err := chain.Init(chain.InitOptions{Home: d.home, ChainID: "flashback-demo", Moniker: "demo", Dev: true,
		BlockTime: demoBlockTime, BasePort: base, Params: &p}); err != nil {
		return "", err
	}
	kr, err := keyring.Open(filepath.Join(d.home, "keyring"))
	if err != nil {
		return "", err
	}
	if err := d.serveNode(fmt.Sprintf("127.0.0.1:%d", base+2)); err != nil {
		return "", err
	}
	if err := waitForHeight(ctx, d.c, 2); err != nil {
		return "", err
	}
	key := func(name string) ed25519.PrivateKey {
		k, kerr := kr.PrivKey(name, nil)
		if kerr != nil && err == nil {
			err = fmt.Errorf("key %s: %w", name, kerr)
		}
		return k
	}
	d.alice, d.provA, d.provB, d.orcSigner = d.c.Signer(key("alice")), d.c.Signer(key("provider")), d.c.Signer(key(demoProvider2Key)), d.c.Signer(key("oracle"))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("chain flashback-demo, %s blocks, %d s epochs, score period %d epochs, settle lag %d; API %s",
		demoBlockTime, p.EpochSeconds, p.ScorePeriodEpochs, p.SettleLagEpochs, d.apiURL), nil
}

// serveNode starts the node on the home and the REST API on apiAddr.
func (d *demo) serveNode(apiAddr string) error {
	ln, err := net.Listen("tcp", apiAddr)
	if err != nil {
		return fmt.Errorf("REST API address: %w", err)
	}
	d.node, err = chain.StartNode(d.home, chain.NodeOptions{BlockTime: demoBlockTime, LogOutput: d.logFile})
	if err != nil {
		ln.Close()
		return err
	}
	d.srv = &http.Server{Handler: api.New(d.node.RPC), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	go func() { _ = d.srv.Serve(ln) }()
	d.apiURL = "http://" + ln.Addr().String()
	d.rep.API = d.apiURL
	d.c = client.New(d.apiURL)
	return nil
}

func (d *demo) bridgeHome(i int) string {
	return filepath.Join(d.home, fmt.Sprintf("bridge-%c", 'a'+i))
}

// registerProviders has provider A (healthy, local disk) and provider B
// (an S3 unit its bridge cannot reach) register, stake and add a unit.
func (d *demo) registerProviders(ctx context.Context) (string, error) {
	var ids [2]string
	for i, prov := range []*client.Signer{d.provA, d.provB} {
		pub, _, err := daemon.LoadOrCreateKey(d.bridgeHome(i))
		if err != nil {
			return "", err
		}
		name := []string{"Acme Disk (healthy)", "Flaky Storage (misconfigured)"}[i]
		price := []core.Amount{demoPriceA, demoPriceB}[i]
		if _, err := prov.Submit(ctx,
			&market.MsgRegisterProvider{Name: name, Description: "flashback demo provider", Website: "https://localhost",
				Endpoint: fmt.Sprintf("http://127.0.0.1:%d", d.bridgePorts[i]), BridgePubKey: pub[:]},
			&market.MsgStake{Amount: demoStake}); err != nil {
			return "", fmt.Errorf("register %s: %w", name, err)
		}
		if ids[i], _, err = prov.AddUnit(ctx, market.MsgAddUnit{Kind: []string{"local", "s3"}[i], Region: "local", Country: "US",
			Capacity: demoUnitSize, StoragePrice: price, EgressPrice: 10_000, AutoAccept: true,
			SLA: market.SLAOffer{MaxP95LatencyMs: 2000, MinUptimeBps: 9000, MinDownloadMbps: 1, MinUploadMbps: 1, MaxErrorRateBps: 1000, Durability: true}}); err != nil {
			return "", fmt.Errorf("add unit of %s: %w", name, err)
		}
	}
	d.unitA, d.unitB = ids[0], ids[1]
	d.rep.Units["a"], d.rep.Units["b"] = d.unitA, d.unitB
	return fmt.Sprintf("A %s: unit %s (local disk); B %s: unit %s (its bridge points it at an unreachable S3 endpoint)",
		short(d.provA.Address()), d.unitA, short(d.provB.Address()), d.unitB), nil
}

// bridgeConfigs are the two bridges: A over a local directory, B over an
// S3 endpoint where nothing listens (the SLA failure on purpose).
func (d *demo) bridgeConfigs() []*daemon.Config {
	return []*daemon.Config{
		{Node: d.apiURL, ProviderKey: "provider", Listen: fmt.Sprintf("127.0.0.1:%d", d.bridgePorts[0]),
			MetricsListen: fmt.Sprintf("127.0.0.1:%d", d.bridgePorts[0]+1), Region: "us-east-1",
			Units: map[string]storage.Config{d.unitA: {Kind: storage.KindLocal, Local: &storage.LocalConfig{Root: filepath.Join(d.bridgeHome(0), "unit-data")}}}},
		{Node: d.apiURL, ProviderKey: demoProvider2Key, Listen: fmt.Sprintf("127.0.0.1:%d", d.bridgePorts[1]),
			MetricsListen: fmt.Sprintf("127.0.0.1:%d", d.bridgePorts[1]+1), Region: "us-east-1",
			// The SLA failure on purpose: nothing listens on port 1.
			Units: map[string]storage.Config{d.unitB: {Kind: storage.KindS3, S3: &storage.S3Config{Endpoint: "http://127.0.0.1:1", Bucket: "gone",
				PathStyle: true, AccessKeyID: "demo", SecretAccessKey: "demo"}}}},
	}
}

// startBridgesAndOracle runs both bridges and the oracle until the demo
// ends, and waits until both bridges serve.
func (d *demo) startBridgesAndOracle(ctx context.Context) (string, error) {
	cfgs := d.bridgeConfigs()
	kr, err := keyring.Open(filepath.Join(d.home, "keyring"))
	if err != nil {
		return "", err
	}
	if err := d.startBridges(ctx, kr, cfgs); err != nil {
		return "", err
	}
	d.s3A = "http://" + cfgs[0].Listen
	okey, err := kr.PrivKey("oracle", nil)
	if err != nil {
		return "", err
	}
	orc := oracle.New(d.apiURL, okey, oracle.Options{Pings: 5, ProbeBytes: 256 << 10, BudgetPerUnit: 4 << 20, Timeout: 2 * time.Second})
	orc.Interval = 250 * time.Millisecond
	orc.Log = func(format string, args ...any) { fmt.Fprintf(d.logw, "oracle: "+format+"\n", args...) }
	p, err := d.c.Params(ctx)
	if err != nil {
		return "", err
	}
	if _, err := orc.EnsureRegistered(ctx, oracleBond(p)); err != nil {
		return "", err
	}
	d.wg.Add(1)
	go func() { defer d.wg.Done(); _ = orc.Run(d.ctx) }()
	return fmt.Sprintf("bridge A at %s, bridge B at http://%s; oracle %s staked %s", d.s3A, cfgs[1].Listen, short(orc.Address()), client.FormatAmount(oracleBond(p))), nil
}

// startBridges saves each bridge's config in its home and runs it for the
// whole demo; it returns once every bridge is ready or one failed.
func (d *demo) startBridges(ctx context.Context, kr *keyring.Keyring, cfgs []*daemon.Config) error {
	ready := make(chan string, len(cfgs))
	errc := make(chan error, len(cfgs))
	for i, cfg := range cfgs {
		if err := daemon.SaveConfig(d.bridgeHome(i), cfg); err != nil {
			return err
		}
		priv, err := kr.PrivKey(cfg.ProviderKey, nil)
		if err != nil {
			return err
		}
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			err := daemon.Run(d.ctx, d.bridgeHome(i), cfg, daemon.Options{ProviderPriv: priv, Log: d.logw,
				Ready: func(s3URL, _ string) { ready <- s3URL }})
			if err != nil && !errors.Is(err, context.Canceled) {
				errc <- err
			}
		}()
	}
	for range cfgs {
		select {
		case <-ready:
		case err := <-errc:
			return fmt.Errorf("bridge: %w", err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
