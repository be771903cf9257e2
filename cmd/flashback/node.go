package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/net/netutil"

	"github.com/flashback-network/flashback/chain"
	"github.com/flashback-network/flashback/keyring"
	"github.com/flashback-network/flashback/oracle"
)

func initCmd(g *globals) *cobra.Command {
	var chainID, moniker, apiAddr string
	var dev bool
	var basePort int
	var blockTime time.Duration
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create a node home: config, validator key, genesis (and funded dev keys with --dev)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if err := chain.Init(chain.InitOptions{Home: g.home, ChainID: chainID, Moniker: moniker, Dev: dev, BlockTime: blockTime, APIAddr: apiAddr, BasePort: basePort}); err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "initialized chain %s in %s\n", chainID, g.home)
			if dev {
				fmt.Fprintln(os.Stderr, "WARNING: --dev keys are stored UNENCRYPTED in the keyring; never use them for real funds")
				return printKeys(g)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&chainID, "chain-id", "", "chain id (required)")
	cmd.Flags().StringVar(&moniker, "moniker", "flashback", "node name")
	cmd.Flags().StringVar(&apiAddr, "api-addr", "", "REST API listen address written to config/app.json (default 127.0.0.1:1317)")
	cmd.Flags().IntVar(&basePort, "base-port", 0, "put P2P on this port, CometBFT RPC on +1 and the REST API on +2 (default 26656, 26657, 1317)")
	cmd.Flags().BoolVar(&dev, "dev", false, "also create unencrypted dev keys (alice, bob, provider, oracle) funded in genesis")
	cmd.Flags().DurationVar(&blockTime, "block-time", 0, "target block interval (default 1s, 500ms with --dev)")
	_ = cmd.MarkFlagRequired("chain-id")
	return cmd
}

func printKeys(g *globals) error {
	kr, err := keyring.Open(filepath.Join(g.home, "keyring"))
	if err != nil {
		return err
	}
	keys, err := kr.List()
	if err != nil {
		return err
	}
	return g.print(keys, func(w io.Writer) {
		for _, k := range keys {
			fmt.Fprintf(w, "%-10s %s\n", k.Name, k.Address)
		}
	})
}

type runOptions struct {
	apiAddr   string
	blockTime time.Duration
	logLevel  string
	// ready, when set, is called once the node and API serve.
	ready func(n *chain.Node, apiURL string)
	// background, when set, runs beside the node (for example a bridge)
	// until ctx is cancelled at shutdown; its error stops the node.
	background func(ctx context.Context, apiURL string) error
}

// runNode starts the node and its API and blocks until SIGINT/SIGTERM.
func runNode(g *globals, o runOptions) error {
	if o.apiAddr == "" {
		c, err := chain.LoadAppConfig(g.home)
		if err != nil {
			return err
		}
		o.apiAddr = c.APIAddr
	}
	ln, err := net.Listen("tcp", o.apiAddr)
	if err != nil {
		return fmt.Errorf("REST API address: %w", err)
	}
	n, err := chain.StartNode(g.home, chain.NodeOptions{BlockTime: o.blockTime, LogLevel: o.logLevel, Metrics: true})
	if err != nil {
		ln.Close()
		return err
	}
	apiURL := "http://" + ln.Addr().String()
	srv, err := nodeHTTPServer(g.home, n, o.blockTime, apiURL)
	if err != nil {
		ln.Close()
		n.Stop()
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(netutil.LimitListener(ln, maxAPIConns)) }()
	failed := watchNodeFailure(n)
	fmt.Fprintf(os.Stderr, "node running: chain %s, home %s, REST API %s\n", n.App.ChainID(), g.home, apiURL)
	if o.ready != nil {
		o.ready(n, apiURL)
	}
	bgCtx, bgCancel := context.WithCancel(context.Background())
	defer bgCancel()
	bgDone := make(chan error, 1)
	if o.background != nil {
		go func() { bgDone <- o.background(bgCtx, apiURL) }()
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case s := <-sig:
		fmt.Fprintf(os.Stderr, "received %s, stopping\n", s)
	case err = <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
	case err = <-bgDone:
		o.background = nil
	case err = <-failed:
		fmt.Fprintf(os.Stderr, "FATAL: %v\nThe node stops: it cannot commit blocks any more. Fix the cause (disk space, permissions, a broken database) and start it again; it resumes at the last committed height.\n", err)
	}
	bgCancel()
	if o.background != nil {
		if berr := <-bgDone; berr != nil && err == nil && !errors.Is(berr, context.Canceled) {
			err = berr
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	if serr := n.Stop(); err == nil {
		err = serr
	}
	return err
}

func nodeCmd(g *globals) *cobra.Command {
	var o runOptions
	var oracleKey string
	cmd := &cobra.Command{
		Use:   "node",
		Short: "Run a validator node (CometBFT + the orchestrator contract) and its REST API",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if oracleKey != "" {
				// The QoS oracle inside the node process, reporting with
				// oracleKey (registered beforehand, e.g. with
				// `flashback oracle --register`).
				priv, err := g.privKey(oracleKey)
				if err != nil {
					return err
				}
				o.background = func(ctx context.Context, apiURL string) error {
					d := oracle.New(apiURL, priv, oracle.Options{})
					d.Log = func(format string, args ...any) { fmt.Fprintf(os.Stderr, "oracle: "+format+"\n", args...) }
					if err := watchDisputes(ctx, d, priv); err != nil { // dispute.go
						return err
					}
					return d.Run(ctx)
				}
			}
			return runNode(g, o)
		},
	}
	cmd.Flags().StringVar(&oracleKey, "oracle", "", "also run the QoS oracle in this process, signing with this keyring key")
	cmd.Flags().StringVar(&o.apiAddr, "api-addr", "", "REST API listen address (default: config/app.json, 127.0.0.1:1317)")
	cmd.Flags().DurationVar(&o.blockTime, "block-time", 0, "override the configured block interval")
	cmd.Flags().StringVar(&o.logLevel, "log-level", "error", "consensus log level: error, info or debug")
	return cmd
}

func testnetCmd(g *globals) *cobra.Command {
	var n, basePort int
	var output, chainID string
	var blockTime time.Duration
	cmd := &cobra.Command{
		Use:   "testnet",
		Short: "Write homes for a multi-validator network on 127.0.0.1",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			homes, err := chain.Testnet(chain.TestnetOptions{Output: output, ChainID: chainID, Validators: n, BlockTime: blockTime, BasePort: basePort})
			if err != nil {
				return err
			}
			return g.print(homes, func(w io.Writer) {
				fmt.Fprintf(w, "wrote %d validator homes for chain %s:\n", len(homes), chainID)
				for _, h := range homes {
					c, _ := chain.LoadAppConfig(h)
					fmt.Fprintf(w, "  flashback node --home %s   # REST API http://%s\n", h, c.APIAddr)
				}
				fmt.Fprintf(w, "dev keys (alice, bob, provider, oracle) are in %s/keyring\n", homes[0])
			})
		},
	}
	cmd.Flags().IntVar(&n, "validators", 4, "number of validators")
	cmd.Flags().StringVar(&output, "output", "./testnet", "directory for the node homes")
	cmd.Flags().StringVar(&chainID, "chain-id", "flashback-testnet", "chain id")
	cmd.Flags().DurationVar(&blockTime, "block-time", time.Second, "block interval")
	cmd.Flags().IntVar(&basePort, "base-port", 26600, "first port; node i uses base+10i (p2p), +1 (rpc), +2 (REST API)")
	return cmd
}
