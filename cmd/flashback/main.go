// Command flashback is the platform's single binary: node, CLI, and (as the
// platform grows) bridge, oracle and dev environment.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/chain"
	"github.com/flashback-network/flashback/client"
)

func main() {
	root := newRoot()
	if err := root.Execute(); err != nil {
		reportError(root, err) // errors.go
		os.Exit(1)
	}
}

// globals are the flags every command shares.
type globals struct {
	home   string
	node   string
	output string
	dryRun bool // tx --dry-run: simulate, never broadcast (tx.go)
	out    io.Writer
	// journalDir overrides the receipt journal (HOME/receipts) for the
	// commands that take --journal.
	journalDir string
	// profile selects a profile of the CLI config (profile.go).
	profile string
}

func defaultHome() string {
	if h := os.Getenv("FLASHBACK_HOME"); h != "" {
		return h
	}
	dir, err := os.UserHomeDir()
	if err != nil {
		return ".flashback"
	}
	return filepath.Join(dir, ".flashback")
}

func newRoot() *cobra.Command {
	g := &globals{out: os.Stdout}
	root := &cobra.Command{
		Use:           "flashback",
		Short:         "Flashback: a decentralized marketplace for SLA-backed storage",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if g.output != "text" && g.output != "json" {
				return fmt.Errorf("-o must be text or json, not %q", g.output)
			}
			g.out = cmd.OutOrStdout()
			if err := applyProfile(cmd, g); err != nil {
				return err
			}
			if g.output != "text" && g.output != "json" {
				return fmt.Errorf("profile output must be text or json, not %q", g.output)
			}
			return nil
		},
	}
	root.PersistentFlags().StringVar(&g.home, "home", defaultHome(), "node home directory (config, data, keyring); env FLASHBACK_HOME")
	root.PersistentFlags().StringVar(&g.node, "node", os.Getenv("FLASHBACK_NODE"), "REST API URL of a node (default: the home's api_addr, else http://127.0.0.1:1317); env FLASHBACK_NODE")
	root.PersistentFlags().StringVarP(&g.output, "output", "o", "text", "output format: text or json")
	root.PersistentFlags().StringVar(&g.profile, "profile", "", "use this profile's home, node, from and output defaults (see flashback profile; env FLASHBACK_PROFILE)")
	tx, query := txCmd(g), queryCmd(g)
	tx.AddCommand(marketTxCmds(g)...)
	tx.AddCommand(accessKeyTxCmd(g), oracleTxCmd(g))
	query.AddCommand(marketQueryCmds(g)...)
	query.AddCommand(accessKeyQueryCmd(g))
	query.AddCommand(qosQueryCmds(g)...)
	root.AddCommand(
		initCmd(g), nodeCmd(g), devCmd(g), testnetCmd(g),
		keysCmd(g), tx, query, statusCmd(g), versionCmd(g), bridgeCmd(g), oracleCmd(g),
	)
	root.AddCommand(consumerCmds(g)...)
	root.AddCommand(demoCmd(g))
	root.AddCommand(benchCmd(g))
	root.AddCommand(repoCmd(g))
	root.AddCommand(disputeCmd(g)) // dispute.go
	root.AddCommand(gatewayCmd(g))
	root.AddCommand(profileCmd(g))
	addCompletions(root, g) // completion.go
	return root
}

// apiURL resolves --node: the flag, else the home's configured API address.
func (g *globals) apiURL() string {
	if g.node != "" {
		return g.node
	}
	if c, err := chain.LoadAppConfig(g.home); err == nil && c.APIAddr != "" {
		return "http://" + c.APIAddr
	}
	return "http://" + chain.DefaultAPIAddr
}

func (g *globals) client() *client.Client { return client.New(g.apiURL()) }

// print writes v as indented JSON with -o json, or calls text otherwise.
func (g *globals) print(v any, text func(w io.Writer)) error {
	if g.output == "json" {
		enc := json.NewEncoder(g.out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	text(g.out)
	return nil
}

func versionCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return g.print(map[string]string{"version": chain.Version}, func(w io.Writer) { fmt.Fprintln(w, chain.Version) })
		},
	}
}

// explain turns API and tx errors into one readable line with the stable
// code (errors.go prints it once, in human units).
func explain(err error) error {
	var ae *client.Error
	if errors.As(err, &ae) {
		return &codedError{code: ae.Code, msg: withoutCode(ae.Message, ae.Code)}
	}
	return explainTx(err)
}

// jsonUnmarshalStrict decodes JSON refusing unknown fields, so a typo in a
// config file is an error rather than a silently ignored setting.
func jsonUnmarshalStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
