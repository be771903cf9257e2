package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/gateway"
)

// gatewayCmd is `flashback gateway --config FILE`: the consumer's S3
// endpoint for repositories (package gateway).
func gatewayCmd(g *globals) *cobra.Command {
	var cfgPath string
	cmd := &cobra.Command{
		Use:   "gateway --config FILE",
		Short: "Serve repositories (one bucket across several reservations) over S3",
		Long: "Serve each repository of the config file as an S3 bucket over its members' bridges: mirror\n" +
			"repositories keep every object on every member (write quorum, failover reads, repair queue),\n" +
			"normal ones show each member as a top-level folder. The file is JSON (gateway.FileConfig):\n" +
			"listen, state_dir, repos (name, mode, write_quorum, members: id, endpoint, access_key_id,\n" +
			"secret_access_key) and keys (access_key_id, secret_access_key, repo, perm).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfgPath == "" {
				return errors.New("--config FILE is required")
			}
			fc, err := gateway.LoadConfig(cfgPath)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			gw, err := gateway.New(ctx, fc.GatewayConfig())
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", fc.Listen)
			if err != nil {
				return fmt.Errorf("gateway: %w", err)
			}
			fmt.Fprintf(g.out, "gateway: serving %d repositories on http://%s\n", len(fc.Repos), ln.Addr())
			done := make(chan error, 1)
			go func() { done <- gw.Serve(ln) }()
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
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", "", "gateway config file (JSON)")
	return cmd
}
