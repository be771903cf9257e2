package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/gateway"
	"github.com/flashback-network/flashback/gateway/chaindir"
)

// Defaults of the gateway's chain mode, under the home.
const defaultGatewayListen = "127.0.0.1:9300"

func defaultGatewayKeyFile(home string) string { return filepath.Join(home, "gateway", "key.json") }
func defaultGatewayState(home string) string   { return filepath.Join(home, "gateway", "state") }

// gatewayFlags are the serve flags; they override the config file's.
type gatewayFlags struct {
	config, keyFile, listen, stateDir string
	ownerSecret, adminListen, from    string
	owners                            []string
}

// gatewayCmd is `flashback gateway`: the consumer's S3 endpoint for
// repositories (package gateway), in chain mode (repositories and keys
// from the repo module, sealed to the gateway's key) or from a static
// config file.
func gatewayCmd(g *globals) *cobra.Command {
	var f gatewayFlags
	cmd := &cobra.Command{
		Use:   "gateway [--config FILE] [--gateway-key-file F] [--listen ADDR] [--state-dir DIR]",
		Short: "Serve repositories (one bucket across several reservations) over S3",
		Long: "Serve each repository as an S3 bucket over its members' bridges: mirror repositories keep every\n" +
			"object on every member (write quorum, failover reads, repair queue), normal ones show each member\n" +
			"as a top-level folder.\n\n" +
			"Chain mode (the default without --config, or with node_url and gateway_key_file in it): the\n" +
			"repositories whose gateway key is this gateway's, their members and repo keys are read from the\n" +
			"node (--node) and followed block by block; create the key with `flashback gateway init` and give\n" +
			"its public key to `flashback repo create --gateway-key`.\n\n" +
			"Static mode: a JSON file (gateway.FileConfig) listing listen, state_dir, repos (name, mode,\n" +
			"write_quorum, members: id, endpoint, access_key_id, secret_access_key) and keys.",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			fc, err := f.fileConfig(g)
			if err != nil {
				return err
			}
			var owner *client.Signer
			if f.from != "" {
				priv, err := g.privKey(f.from)
				if err != nil {
					return fmt.Errorf("gateway --from: %w", err)
				}
				owner = client.New(fc.NodeURL).Signer(priv)
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return runGateway(ctx, fc, gatewayRun{owner: owner, ready: func(url, admin string, repos int) {
				mode := "from the config file"
				if fc.ChainMode() {
					mode = "from the chain at " + fc.NodeURL
				}
				// The listen URL comes first: scripts read it off this line.
				fmt.Fprintf(g.out, "gateway: serving %d repositories on %s (%s)\n", repos, url, mode)
				if admin != "" {
					fmt.Fprintf(g.out, "gateway: admin status on http://%s/_flashback/repos/NAME/status\n", admin)
				}
			}})
		},
	}
	cmd.Flags().StringVar(&f.config, "config", "", "gateway config file (JSON)")
	cmd.Flags().StringVar(&f.keyFile, "gateway-key-file", "", "the gateway's X25519 key file, chain mode (default HOME/gateway/key.json)")
	cmd.Flags().StringVar(&f.listen, "listen", "", "S3 listen address (default "+defaultGatewayListen+")")
	cmd.Flags().StringVar(&f.stateDir, "state-dir", "", "intents, uploads and repair queue (default HOME/gateway/state)")
	cmd.Flags().StringArrayVar(&f.owners, "owner", nil, "chain mode: serve only this owner's repositories (repeatable)")
	cmd.Flags().StringVar(&f.ownerSecret, "owner-secret-file", "", "the owner secret encrypted repositories' keys derive from (default HOME/gateway/owner.secret when it exists)")
	cmd.Flags().StringVar(&f.adminListen, "admin-listen", "", "admin endpoints' address (repair status: GET /_flashback/repos/NAME/status); default none")
	cmd.Flags().StringVar(&f.from, "from", "", "chain mode: the owner's keyring key; joining members found level get `repo synced` sent with it")
	cmd.AddCommand(gatewayKeyCmd(g, "init", "Create the gateway's X25519 key file (if absent) and print its public key", true),
		gatewayKeyCmd(g, "pubkey", "Print the gateway's X25519 public key (base64), for `repo create --gateway-key`", false))
	return cmd
}

// fileConfig is the config file (if any) completed by the flags, checked.
func (f *gatewayFlags) fileConfig(g *globals) (gateway.FileConfig, error) {
	var fc gateway.FileConfig
	if f.config != "" {
		var err error
		if fc, err = gateway.ReadConfig(f.config); err != nil {
			return fc, err
		}
	}
	if f.keyFile != "" {
		fc.GatewayKeyFile = f.keyFile
	}
	if f.config == "" && fc.GatewayKeyFile == "" {
		fc.GatewayKeyFile = defaultGatewayKeyFile(g.home)
	}
	if fc.GatewayKeyFile != "" && (g.node != "" || fc.NodeURL == "") {
		fc.NodeURL = g.apiURL() // --node (or FLASHBACK_NODE) wins over node_url
	}
	if f.listen != "" {
		fc.Listen = f.listen
	} else if fc.Listen == "" && fc.ChainMode() {
		fc.Listen = defaultGatewayListen
	}
	if f.stateDir != "" {
		fc.StateDir = f.stateDir
	} else if fc.StateDir == "" && fc.ChainMode() {
		fc.StateDir = defaultGatewayState(g.home)
	}
	fc.Owners = append(fc.Owners, f.owners...)
	if f.ownerSecret != "" {
		fc.OwnerSecretFile = f.ownerSecret
	} else if def := defaultOwnerSecretFile(g.home); fc.OwnerSecretFile == "" && fc.ChainMode() {
		if _, err := os.Stat(def); err == nil {
			fc.OwnerSecretFile = def
		}
	}
	if f.adminListen != "" {
		fc.AdminListen = f.adminListen
	}
	if f.from != "" && !fc.ChainMode() {
		return fc, fmt.Errorf("gateway: --from (sending repo synced) needs chain mode")
	}
	if err := fc.Validate(); err != nil {
		if f.config != "" {
			return fc, fmt.Errorf("gateway config %s: %w", f.config, err)
		}
		return fc, fmt.Errorf("gateway: %w", err)
	}
	return fc, nil
}

// gatewayRun is how runGateway runs besides its config.
type gatewayRun struct {
	// owner, if set, sends `repo synced` for its repositories' joining
	// members once the repair loop finds them level.
	owner *client.Signer
	// ready is called once the gateway listens, with its S3 URL, the admin
	// address ("" without) and the number of repositories.
	ready func(url, admin string, repos int)
}

// runGateway serves fc until ctx ends.
func runGateway(ctx context.Context, fc gateway.FileConfig, run gatewayRun) error {
	cfg := fc.GatewayConfig()
	if cfg.Logf == nil {
		cfg.Logf = log.Printf
	}
	repos := len(fc.Repos)
	names := make([]string, 0, repos)
	for _, r := range fc.Repos {
		names = append(names, r.Name)
	}
	if fc.ChainMode() {
		pub, priv, err := chaindir.LoadKey(fc.GatewayKeyFile)
		if err != nil {
			return fmt.Errorf("%w (create it with `flashback gateway init --gateway-key-file %s`)", err, fc.GatewayKeyFile)
		}
		dir, err := chaindir.New(ctx, client.New(fc.NodeURL), pub, priv, chaindir.Options{Owners: fc.Owners})
		if err != nil {
			return err
		}
		go dir.Run(ctx)
		names = dir.Repos()
		cfg.Directory, repos = dir, len(names)
	}
	if err := checkOwnerSecret(ctx, cfg, names); err != nil {
		return err
	}
	if cfg.Repair != nil {
		s := &levelSyncer{ctx: ctx, owner: run.owner, dir: cfg.Directory, logf: cfg.Logf}
		cfg.Repair.OnLevel = s.onLevel
	}
	gw, err := gateway.New(ctx, cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", fc.Listen)
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- gw.Serve(ln) }()
	run.ready("http://"+ln.Addr().String(), gw.AdminAddr(), repos)
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = gw.Shutdown(sctx)
	<-done
	return err
}

// gatewayKeyCmd is `gateway init` (create the key and the owner secret)
// or `gateway pubkey` (read).
func gatewayKeyCmd(g *globals, use, short string, create bool) *cobra.Command {
	var keyFile, secretFile string
	cmd := &cobra.Command{
		Use: use, Short: short, Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if keyFile == "" {
				keyFile = defaultGatewayKeyFile(g.home)
			}
			if !create {
				pub, _, err := chaindir.LoadKey(keyFile)
				if errors.Is(err, os.ErrNotExist) {
					err = fmt.Errorf("%w (create it with `flashback gateway init`)", err)
				}
				if err != nil {
					return err
				}
				pubB64 := chaindir.PublicKeyBase64(pub)
				return g.print(map[string]string{"gateway_pub_key": pubB64}, func(w io.Writer) { fmt.Fprintln(w, pubB64) })
			}
			return gatewayInit(g, keyFile, secretFile)
		},
	}
	cmd.Flags().StringVar(&keyFile, "gateway-key-file", "", "the key file (default HOME/gateway/key.json)")
	if create {
		cmd.Flags().StringVar(&secretFile, "owner-secret-file", "", "the owner secret file, created if absent (default HOME/gateway/owner.secret)")
	}
	return cmd
}

// gatewayInit creates (if absent) the gateway's key and the owner secret
// encrypted repositories' keys derive from, and prints the public key (the
// secret is never printed).
func gatewayInit(g *globals, keyFile, secretFile string) error {
	if secretFile == "" {
		secretFile = defaultOwnerSecretFile(g.home)
	}
	pub, _, created, err := chaindir.LoadOrCreateKey(keyFile)
	if err != nil {
		return err
	}
	secCreated, err := ensureOwnerSecret(secretFile)
	if err != nil {
		return err
	}
	pubB64 := chaindir.PublicKeyBase64(pub)
	out := map[string]any{"gateway_key_file": keyFile, "gateway_pub_key": pubB64, "created": created,
		"owner_secret_file": secretFile, "owner_secret_created": secCreated}
	return g.print(out, func(w io.Writer) {
		verb := map[bool]string{true: "created", false: "kept the existing"}
		fmt.Fprintf(w, "%s gateway key %s (keep it private: it opens the repositories' secrets)\n", verb[created], keyFile)
		fmt.Fprintf(w, "%s owner secret %s (keep it and back it up: encrypted repositories' objects are unreadable without it)\n",
			verb[secCreated], secretFile)
		fmt.Fprintf(w, "gateway public key (give it to `flashback repo create --gateway-key ...`):\n%s\n", pubB64)
	})
}
