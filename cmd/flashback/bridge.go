package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/bridge/daemon"
	"github.com/flashback-network/flashback/storage"
)

func bridgeCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bridge",
		Short: "Run the provider's S3 bridge (configure it first with `flashback bridge init`)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			cfg, err := daemon.LoadConfig(g.home)
			if err != nil {
				return err
			}
			if g.node != "" {
				cfg.Node = g.node
			}
			if cfg.Node == "" {
				cfg.Node = g.apiURL()
			}
			priv, err := g.privKey(cfg.ProviderKey)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return daemon.Run(ctx, g.home, cfg, daemon.Options{
				ProviderPriv: priv, Log: os.Stderr,
				Ready: func(s3URL, metricsURL string) {
					fmt.Fprintf(os.Stderr, "bridge ready: S3 %s (oracle probes at %s/_flashback/probe/), metrics %s, following %s\n", s3URL, s3URL, metricsURL, cfg.Node)
				},
			})
		},
	}
	var providerKey, listen, metrics, region, vhost string
	var units []string
	initCmd := &cobra.Command{
		Use:   "init",
		Short: "Write HOME/bridge/config.json and create the bridge's X25519 key; prints the public key to register",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			cfg := &daemon.Config{ProviderKey: providerKey, Listen: listen, MetricsListen: metrics, Region: region,
				VirtualHostDomain: vhost, Node: g.node, Units: map[string]storage.Config{}}
			for _, u := range units {
				id, be, err := parseUnitFlag(u)
				if err != nil {
					return err
				}
				cfg.Units[id] = be
			}
			if err := daemon.SaveConfig(g.home, cfg); err != nil {
				return err
			}
			pub, _, err := daemon.LoadOrCreateKey(g.home)
			if err != nil {
				return err
			}
			out := map[string]string{"config": daemon.ConfigPath(g.home), "bridge_pub_key": daemon.PublicKeyBase64(pub)}
			return g.print(out, func(w io.Writer) {
				fmt.Fprintf(w, "wrote %s\nbridge public key (register it with `flashback tx provider register --bridge-pubkey ...`):\n%s\n", out["config"], out["bridge_pub_key"])
			})
		},
	}
	initCmd.Flags().StringVar(&providerKey, "provider-key", "provider", "keyring key of the provider (signs usage reports)")
	initCmd.Flags().StringVar(&listen, "listen", "127.0.0.1:9000", "S3 listen address; it also serves the oracles' probes under /_flashback/probe/, so register it (as seen from outside) as the provider's --endpoint")
	initCmd.Flags().StringVar(&metrics, "metrics-listen", "127.0.0.1:9100", "listen address for /metrics and /healthz, any port (empty: off)")
	initCmd.Flags().StringVar(&region, "region", "us-east-1", "SigV4 region clients sign for")
	initCmd.Flags().StringVar(&vhost, "virtual-host-domain", "", "serve <bucket>.<domain> virtual-host style too")
	initCmd.Flags().StringArrayVar(&units, "unit", nil, "UNIT=local:DIR, or UNIT=@FILE with a JSON backend config (repeatable)")

	pubkey := &cobra.Command{
		Use: "pubkey", Short: "Print the bridge's X25519 public key (base64)", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			pub, _, err := daemon.LoadOrCreateKey(g.home)
			if err != nil {
				return err
			}
			fmt.Fprintln(g.out, daemon.PublicKeyBase64(pub))
			return nil
		},
	}
	cmd.AddCommand(initCmd, pubkey)
	return cmd
}

// parseUnitFlag reads "unit-1=local:/srv/data" or "unit-1=@s3.json".
func parseUnitFlag(s string) (string, storage.Config, error) {
	id, spec, ok := strings.Cut(s, "=")
	if !ok || id == "" || spec == "" {
		return "", storage.Config{}, fmt.Errorf("--unit %q: want UNIT=local:DIR or UNIT=@FILE", s)
	}
	if path, ok := strings.CutPrefix(spec, "@"); ok {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", storage.Config{}, err
		}
		var c storage.Config
		if err := jsonUnmarshalStrict(b, &c); err != nil {
			return "", storage.Config{}, fmt.Errorf("%s: %w", path, err)
		}
		return id, c, nil
	}
	if dir, ok := strings.CutPrefix(spec, "local:"); ok {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return "", storage.Config{}, err
		}
		return id, storage.Config{Kind: storage.KindLocal, Local: &storage.LocalConfig{Root: abs}}, nil
	}
	return "", storage.Config{}, fmt.Errorf("--unit %q: backend must be local:DIR or @FILE (JSON with kind s3, azure-blob or gcs)", s)
}
