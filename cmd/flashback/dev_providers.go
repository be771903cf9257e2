package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/flashback-network/flashback/bridge/daemon"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/keyring"
	"github.com/flashback-network/flashback/storage"
)

// devProviderNames are the dev keys of the dev platform's providers. Three
// independent providers, each a local-disk unit behind its own bridge, are
// what a mirrored repository needs to be shown surviving the loss of one.
var devProviderNames = []string{"provider", "provider2", "provider3"}

// devProviderFunding is what a provider key added to an older dev home
// (made before it had three providers) gets from alice: enough to stake.
const devProviderFunding = core.Amount(100_000_000_000)

// devProvider is one provider of the dev platform.
type devProvider struct {
	name string
	key  ed25519.PrivateKey
	// home is the bridge's home (its config and X25519 key); the first
	// provider's is the dev home itself, as before there were three.
	home                string
	s3Addr, metricsAddr string
	unit                string
	cfg                 *daemon.Config
	// funded is false for a key this run added to an older dev home.
	funded bool
}

// loadDevProviders reads (or, in a dev home made before there were three,
// adds) the provider keys and assigns each provider its ports: the S3 and
// metrics addresses of the first, plus the provider's index.
func loadDevProviders(home, s3Addr, metricsAddr string) ([]*devProvider, error) {
	kr, err := keyring.Open(filepath.Join(home, "keyring"))
	if err != nil {
		return nil, err
	}
	var out []*devProvider
	for i, name := range devProviderNames {
		p := &devProvider{name: name, home: home, funded: true}
		if i > 0 {
			p.home = filepath.Join(home, name)
		}
		if p.key, err = kr.PrivKey(name, nil); err != nil {
			if _, showErr := kr.Show(name); showErr == nil {
				return nil, fmt.Errorf("dev key %s: %w", name, err)
			}
			if _, err := kr.Add(name, nil); err != nil {
				return nil, fmt.Errorf("add dev key %s: %w", name, err)
			}
			if p.key, err = kr.PrivKey(name, nil); err != nil {
				return nil, fmt.Errorf("dev key %s: %w", name, err)
			}
			p.funded = false
		}
		if p.s3Addr, err = shiftPort(s3Addr, i); err != nil {
			return nil, fmt.Errorf("--s3-addr: %w", err)
		}
		if p.metricsAddr, err = shiftPort(metricsAddr, i); err != nil {
			return nil, fmt.Errorf("--bridge-metrics-addr: %w", err)
		}
		out = append(out, p)
	}
	return out, nil
}

// shiftPort returns addr with its port increased by n.
func shiftPort(addr string, n int) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	p, err := strconv.Atoi(port)
	if err != nil || p <= 0 || p+n > 65535 {
		return "", fmt.Errorf("port %q of %s cannot be shifted by %d", port, addr, n)
	}
	return net.JoinHostPort(host, strconv.Itoa(p+n)), nil
}

// ensureDevProviders registers, stakes and gives a unit to every dev
// provider that lacks them, and writes each bridge's config.
func ensureDevProviders(ctx context.Context, c *client.Client, alice *client.Signer, apiURL string, provs []*devProvider) error {
	for i, p := range provs {
		signer := c.Signer(p.key)
		if !p.funded {
			if _, err := alice.Send(ctx, signer.Address(), devProviderFunding); err != nil {
				return fmt.Errorf("fund %s: %w", p.name, err)
			}
		}
		name := "dev provider"
		if i > 0 {
			name = fmt.Sprintf("dev provider %d", i+1)
		}
		if err := ensureDevProvider(ctx, c, signer, p.home, name, p.s3Addr); err != nil {
			return err
		}
		unit, err := ensureDevUnit(ctx, c, signer)
		if err != nil {
			return err
		}
		p.unit = unit
		p.cfg = &daemon.Config{Node: apiURL, ProviderKey: p.name, Listen: p.s3Addr, MetricsListen: p.metricsAddr, Region: "us-east-1",
			Units: map[string]storage.Config{unit: {Kind: storage.KindLocal, Local: &storage.LocalConfig{Root: filepath.Join(p.home, "unit-data", unit)}}}}
		if err := daemon.SaveConfig(p.home, p.cfg); err != nil {
			return err
		}
	}
	return nil
}

// ensureDevProvider registers and stakes a dev provider unless it exists.
func ensureDevProvider(ctx context.Context, c *client.Client, prov *client.Signer, bridgeHome, name, s3Addr string) error {
	pub, _, err := daemon.LoadOrCreateKey(bridgeHome)
	if err != nil {
		return err
	}
	endpoint := "http://" + s3Addr
	if have, err := c.Provider(ctx, prov.Address()); client.CodeOf(err) == "not_found" {
		if _, err := prov.Submit(ctx,
			&market.MsgRegisterProvider{Name: name, Description: "local disk of this machine", Website: "https://localhost", Endpoint: endpoint, BridgePubKey: pub[:]},
			&market.MsgStake{Amount: 10_000_000_000}); err != nil {
			return fmt.Errorf("register %s: %w", name, err)
		}
	} else if err != nil {
		return err
	} else if have.Endpoint != endpoint {
		// dev started with another --s3-addr than before: the chain must
		// say where the bridge is now, or clients and oracles go to the old
		// address.
		if _, err := prov.UpdateProvider(ctx, market.MsgUpdateProvider{Endpoint: &endpoint}); err != nil {
			return fmt.Errorf("move %s to %s: %w", name, endpoint, err)
		}
		fmt.Fprintf(os.Stderr, "dev: %s's bridge endpoint moved from %s to %s\n", name, have.Endpoint, endpoint)
	}
	return nil
}

// bridgeURLs are the S3 and metrics URLs of the running dev bridges.
type bridgeURLs struct{ s3, metrics []string }

// runDevBridges runs every provider's bridge until ctx ends or one fails
// (which stops the others), calling ready once all of them serve.
func runDevBridges(ctx context.Context, provs []*devProvider, ready func(bridgeURLs)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	urls := bridgeURLs{s3: make([]string, len(provs)), metrics: make([]string, len(provs))}
	waiting := len(provs)
	errc := make(chan error, len(provs))
	for i, p := range provs {
		onReady := func(s3URL, metricsURL string) {
			mu.Lock()
			urls.s3[i], urls.metrics[i] = s3URL, metricsURL
			waiting--
			all := waiting == 0
			mu.Unlock()
			if all {
				ready(urls)
			}
		}
		go func() {
			err := daemon.Run(ctx, p.home, p.cfg, daemon.Options{ProviderPriv: p.key, Log: os.Stderr, Ready: onReady})
			if err != nil {
				err = fmt.Errorf("%s's bridge: %w", p.name, err)
			}
			errc <- err
		}()
	}
	first := <-errc
	cancel()
	for range len(provs) - 1 {
		if err := <-errc; first == nil {
			first = err
		}
	}
	return first
}
