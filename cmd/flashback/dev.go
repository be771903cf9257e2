package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/accesskey"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/chain"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/keyring"
	"github.com/flashback-network/flashback/oracle"
)

// The dev network's ready-made market: the provider's local unit and the
// reservation alice holds on it.
const (
	devUnitSize = 100 << 30
	devResSize  = 10 << 30
	devResTerm  = 30 * 86400
)

func devCmd(g *globals) *cobra.Command {
	var reset bool
	var o runOptions
	var s3Addr, metricsAddr, gatewayAddr string
	var basePort int
	var epochSeconds int64
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run the whole platform locally: a validator, a provider with a local-disk unit behind a bridge, a funded consumer with a ready reservation and S3 key, and the REST API",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			useDefault := !c.Flags().Changed("home") && os.Getenv("FLASHBACK_HOME") == ""
			if useDefault {
				g.home = devDefaultHome()
			}
			if abs, err := filepath.Abs(g.home); err == nil {
				g.home = abs // dev.env's FLASHBACK_HOME must work from any directory
			}
			if reset {
				if err := os.RemoveAll(g.home); err != nil {
					return err
				}
			}
			exists := devHomeExists(g.home)
			ports, err := devListenPorts(g.home, exists, basePort, o.apiAddr, s3Addr, metricsAddr, gatewayAddr)
			if err != nil {
				return err
			}
			if err := ports.check(); err != nil {
				return err
			}
			if !exists {
				io := chain.InitOptions{Home: g.home, ChainID: "flashback-dev", Moniker: "dev", Dev: true, APIAddr: o.apiAddr, BasePort: basePort}
				if epochSeconds > 0 {
					p := chain.DevParams()
					p.EpochSeconds = epochSeconds
					io.Params = &p
				}
				if err := chain.Init(io); err != nil {
					return devStartFailed(g.home, true, err)
				}
			} else if basePort > 0 {
				// A retry with other ports must use them, not the home's.
				if err := chain.SetBasePort(g.home, basePort, o.apiAddr); err != nil {
					return err
				}
			}
			if useDefault {
				if err := recordDevProfile(g.home, o.apiAddr); err != nil {
					fmt.Fprintf(os.Stderr, "dev: could not save the dev profile: %v\n", err)
				}
			}
			var up atomic.Bool
			o.background = func(ctx context.Context, apiURL string) error {
				return runDevPlatform(ctx, g, apiURL, s3Addr, metricsAddr, gatewayAddr, func() { up.Store(true) })
			}
			if err := runNode(g, o); err != nil {
				if up.Load() {
					return err
				}
				return devStartFailed(g.home, !exists, err)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&reset, "reset", false, "delete the dev home and start a fresh chain")
	cmd.Flags().StringVar(&o.apiAddr, "api-addr", "", "REST API listen address (default 127.0.0.1:1317)")
	cmd.Flags().IntVar(&basePort, "base-port", 0, "P2P on this port, CometBFT RPC on +1, REST API on +2 unless --api-addr (default 26656, 26657, 1317; kept in the home for later starts)")
	cmd.Flags().StringVar(&s3Addr, "s3-addr", "127.0.0.1:9000", "the bridge's S3 listen address")
	cmd.Flags().StringVar(&metricsAddr, "bridge-metrics-addr", "127.0.0.1:9100", "the bridge's /metrics listen address")
	cmd.Flags().StringVar(&gatewayAddr, "gateway-addr", "", "the repository gateway's S3 listen address (default: the port after the last bridge's, 127.0.0.1:9003); its admin status listens on the next port")
	cmd.Flags().Int64Var(&epochSeconds, "epoch-seconds", 0, "at first start: the epoch length in seconds (default 10)")
	cmd.Flags().DurationVar(&o.blockTime, "block-time", 0, "block interval (default 500ms)")
	cmd.Flags().StringVar(&o.logLevel, "log-level", "error", "consensus log level: error, info or debug")
	return cmd
}

// runDevPlatform provisions the dev market (once; later runs reuse it) and
// runs the providers' bridges and the repository gateway until ctx ends.
func runDevPlatform(ctx context.Context, g *globals, apiURL, s3Addr, metricsAddr, gatewayAddr string, onUp func()) error {
	c := client.New(apiURL)
	if err := waitForHeight(ctx, c, 2); err != nil {
		return err
	}
	keys, err := loadDevKeys(g.home)
	if err != nil {
		return err
	}
	alice := c.Signer(keys.alice)
	provs, err := loadDevProviders(g.home, s3Addr, metricsAddr)
	if err != nil {
		return err
	}
	if err := ensureDevProviders(ctx, c, alice, apiURL, provs); err != nil {
		return err
	}
	resID, err := ensureDevReservation(ctx, c, alice, provs[0].unit)
	if err != nil {
		return err
	}
	envPath := filepath.Join(g.home, "dev.env")
	env, err := ensureDevEnv(ctx, g, c, alice, resID, envPath, apiURL, s3Addr)
	if err != nil {
		return err
	}
	if gatewayAddr == "" {
		if gatewayAddr, err = shiftPort(s3Addr, len(provs)); err != nil {
			return fmt.Errorf("--s3-addr: %w", err)
		}
	}
	repo, err := ensureDevRepo(ctx, g, c, alice, provs, resID, env)
	if err != nil {
		return err
	}
	repo.gatewayAddr = gatewayAddr
	if repo.adminAddr, err = shiftPort(gatewayAddr, 1); err != nil {
		return fmt.Errorf("--gateway-addr: %w", err)
	}
	env["FLASHBACK_GATEWAY_URL"] = "http://" + gatewayAddr
	env["FLASHBACK_GATEWAY_ADMIN_URL"] = "http://" + repo.adminAddr
	if err := writeEnvFile(envPath, env); err != nil {
		return err
	}
	// The oracle: probes the units through the bridges every epoch and reports.
	orc := oracle.New(apiURL, keys.oracle, oracle.Options{Pings: 5, ProbeBytes: 256 << 10, BudgetPerUnit: 4 << 20})
	orc.Log = func(format string, args ...any) { fmt.Fprintf(os.Stderr, "oracle: "+format+"\n", args...) }
	p, err := c.Params(ctx)
	if err != nil {
		return err
	}
	if _, err := orc.EnsureRegistered(ctx, oracleBond(p)); err != nil {
		return fmt.Errorf("register dev oracle: %w", err)
	}

	market := devMarket{apiURL: apiURL, providers: provs, reservation: resID, consumer: alice.Address(),
		accessKeyID: env["AWS_ACCESS_KEY_ID"], envPath: envPath, oracle: orc.Address(), repo: repo, epochSeconds: p.EpochSeconds}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	gwErr := make(chan error, 1)
	err = runDevBridges(ctx, provs, func(urls bridgeURLs) {
		// Probe only once the bridges serve, or startup reads as downtime.
		go func() { _ = orc.Run(ctx) }()
		_ = watchDisputes(ctx, orc, keys.oracle) // dispute.go
		// The gateway, in chain mode, once its members' bridges serve.
		go func() {
			err := runGateway(ctx, devGatewayConfig(g, apiURL, repo, alice.Address()),
				gatewayRun{owner: alice, ready: func(string, string, int) { printDevBanner(g, market, urls); onUp() }})
			if err != nil && ctx.Err() == nil {
				gwErr <- fmt.Errorf("dev gateway: %w", err)
				cancel()
			}
		}()
	})
	select {
	case e := <-gwErr:
		return e
	default:
		return err
	}
}

// devKeys are the dev keyring's unencrypted keys the platform signs with
// (the providers' are loaded by loadDevProviders).
type devKeys struct{ alice, oracle ed25519.PrivateKey }

func loadDevKeys(home string) (devKeys, error) {
	kr, err := keyring.Open(filepath.Join(home, "keyring"))
	if err != nil {
		return devKeys{}, err
	}
	var keys devKeys
	for _, k := range []struct {
		name string
		priv *ed25519.PrivateKey
	}{{"alice", &keys.alice}, {"oracle", &keys.oracle}} {
		if *k.priv, err = kr.PrivKey(k.name, nil); err != nil {
			return devKeys{}, fmt.Errorf("dev key %s: %w", k.name, err)
		}
	}
	return keys, nil
}

// ensureDevUnit returns the provider's available unit, adding a local one if
// there is none.
func ensureDevUnit(ctx context.Context, c *client.Client, prov *client.Signer) (string, error) {
	units, err := c.Units(ctx, client.UnitFilter{Provider: prov.Address(), Status: market.UnitAvailable})
	if err != nil {
		return "", err
	}
	var unit string
	if len(units.Units) > 0 {
		unit = units.Units[0].ID
	} else {
		if unit, _, err = prov.AddUnit(ctx, market.MsgAddUnit{Kind: "local", Region: "local", Country: "US", Capacity: devUnitSize,
			StoragePrice: 1_000_000, EgressPrice: 10_000, AutoAccept: true,
			SLA: market.SLAOffer{MaxP95LatencyMs: 1000, MinUptimeBps: 9000, MinDownloadMbps: 1, MinUploadMbps: 1, MaxErrorRateBps: 500, Durability: true}}); err != nil {
			return "", fmt.Errorf("add dev unit: %w", err)
		}
	}
	return unit, nil
}

// ensureDevReservation returns alice's active reservation on unit, reserving
// one if she has none.
func ensureDevReservation(ctx context.Context, c *client.Client, alice *client.Signer, unit string) (string, error) {
	rs, err := c.Reservations(ctx, client.ReservationFilter{Consumer: alice.Address(), Unit: unit, Status: market.ResActive})
	if err != nil {
		return "", err
	}
	var resID string
	if len(rs.Reservations) > 0 {
		resID = rs.Reservations[0].ID
	} else {
		if resID, _, err = alice.Reserve(ctx, market.MsgReserve{Unit: unit, Bytes: devResSize, Term: devResTerm, EgressBytes: devResSize, MaxPrice: 1_000_000}); err != nil {
			return "", fmt.Errorf("dev reservation: %w", err)
		}
	}
	return resID, nil
}

// ensureDevEnv writes envPath for the reservation, creating a new S3 key
// unless the file holds one the chain still knows.
func ensureDevEnv(ctx context.Context, g *globals, c *client.Client, alice *client.Signer, resID, envPath, apiURL, s3Addr string) (map[string]string, error) {
	env, _ := readEnvFile(envPath)
	if keys, err := c.AccessKeys(ctx, resID, "", ""); err != nil || !hasKey(keys, env["AWS_ACCESS_KEY_ID"]) || env["FLASHBACK_BUCKET"] != resID {
		k, err := alice.CreateAccessKey(ctx, resID, accesskey.PermWrite)
		if err != nil {
			return nil, fmt.Errorf("dev access key: %w", err)
		}
		env = map[string]string{"AWS_ACCESS_KEY_ID": k.AccessKeyID, "AWS_SECRET_ACCESS_KEY": k.Secret}
		// Also where `flashback cp/ls/rm` look for keys.
		if err := g.saveS3Key(resID, storedFromCreated(k)); err != nil {
			return nil, err
		}
	}
	// The CLI reads FLASHBACK_HOME and FLASHBACK_NODE, so after
	// `source dev.env` every flashback command talks to this platform.
	env["FLASHBACK_HOME"] = g.home
	env["FLASHBACK_NODE"] = apiURL
	env["FLASHBACK_API"] = apiURL
	env["AWS_ENDPOINT_URL"] = "http://" + s3Addr
	env["AWS_REGION"] = "us-east-1"
	env["AWS_DEFAULT_REGION"] = "us-east-1"
	env["FLASHBACK_BUCKET"] = resID
	if err := writeEnvFile(envPath, env); err != nil {
		return nil, err
	}
	return env, nil
}

func waitForHeight(ctx context.Context, c *client.Client, h int64) error {
	for {
		st, err := c.Status(ctx)
		if err == nil && st.Height >= h {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func hasKey(p *types.AccessKeysPage, id string) bool {
	if p == nil || id == "" {
		return false
	}
	for _, k := range p.AccessKeys {
		if k.ID == id {
			return true
		}
	}
	return false
}

func readEnvFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	out := map[string]string{}
	if err != nil {
		return out, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimPrefix(strings.TrimSpace(line), "export ")
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(k, "#") {
			out[k] = strings.Trim(v, `'"`)
		}
	}
	return out, nil
}

// writeEnvFile writes KEY=value lines a shell can source (0600: it holds
// the S3 secret).
func writeEnvFile(path string, env map[string]string) error {
	var b strings.Builder
	b.WriteString("# Flashback dev platform: source this file to use the S3 endpoint and API.\n")
	for _, k := range []string{"FLASHBACK_HOME", "FLASHBACK_NODE", "FLASHBACK_API", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION", "FLASHBACK_BUCKET",
		"FLASHBACK_GATEWAY_URL", "FLASHBACK_GATEWAY_ADMIN_URL", "FLASHBACK_REPO", "FLASHBACK_REPO_ACCESS_KEY_ID", "FLASHBACK_REPO_SECRET_ACCESS_KEY"} {
		fmt.Fprintf(&b, "export %s='%s'\n", k, env[k])
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return err
	}
	return os.Chmod(path, 0o600)
}

// oracleBond is what the dev and demo oracles bond: min_oracle_stake plus
// room for 20 miss penalties, so that a few probes lost to a slow machine
// jail the oracle (after max_missed) rather than remove it.
func oracleBond(p *types.Params) core.Amount {
	extra, err := core.MulDiv(uint64(p.MissPenalty), 20, 1)
	if err != nil {
		return p.MinOracleStake
	}
	bond, err := core.Add(p.MinOracleStake, core.Amount(extra))
	if err != nil {
		return p.MinOracleStake
	}
	return bond
}
