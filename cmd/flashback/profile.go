package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Profile is a named set of defaults for the global flags, as Cosmos's
// client.toml and mc's aliases keep them: which home, which node, which key
// signs, which output format. A flag or an environment variable given on
// the command line always wins over the profile.
type Profile struct {
	Home   string `json:"home,omitempty"`
	Node   string `json:"node,omitempty"`
	From   string `json:"from,omitempty"`
	Output string `json:"output,omitempty"`
}

// profileFile is the CLI's config file: the profiles and which is current.
type profileFile struct {
	Current  string             `json:"current,omitempty"`
	Profiles map[string]Profile `json:"profiles"`
}

// profilePath is FLASHBACK_CONFIG, else $XDG_CONFIG_HOME/flashback/config.json,
// else ~/.config/flashback/config.json.
func profilePath() string {
	if p := os.Getenv("FLASHBACK_CONFIG"); p != "" {
		return p
	}
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return filepath.Join(".flashback", "config.json")
		}
		dir = filepath.Join(h, ".config")
	}
	return filepath.Join(dir, "flashback", "config.json")
}

// devDefaultHome is where `flashback dev` keeps its chain when neither
// --home nor FLASHBACK_HOME says otherwise: beside the default home, so
// that a dev chain never mixes with a real node's keys. The dev profile
// (written by dev) and dev.env (FLASHBACK_HOME) point the CLI at it.
func devDefaultHome() string { return filepath.Join(filepath.Dir(defaultHome()), ".flashback-dev") }

func loadProfiles() (*profileFile, error) {
	pf := &profileFile{Profiles: map[string]Profile{}}
	b, err := os.ReadFile(profilePath())
	if os.IsNotExist(err) {
		return pf, nil
	}
	if err != nil {
		return nil, err
	}
	if err := jsonUnmarshalStrict(b, pf); err != nil {
		return nil, fmt.Errorf("config %s: %w", profilePath(), err)
	}
	if pf.Profiles == nil {
		pf.Profiles = map[string]Profile{}
	}
	return pf, nil
}

func (pf *profileFile) save() error {
	path := profilePath()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(pf, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// applyProfile fills the flags the user did not set (on the command line
// or through FLASHBACK_HOME/FLASHBACK_NODE) from the selected profile:
// --profile, else FLASHBACK_PROFILE, else the config's current one.
func applyProfile(cmd *cobra.Command, g *globals) error {
	name := g.profile
	if name == "" {
		name = os.Getenv("FLASHBACK_PROFILE")
	}
	pf, err := loadProfiles()
	if err != nil {
		return err
	}
	if name == "" {
		name = pf.Current
	}
	if name == "" {
		return nil
	}
	p, ok := pf.Profiles[name]
	if !ok {
		if g.profile == "" && os.Getenv("FLASHBACK_PROFILE") == "" {
			return nil // a stale "current" is not worth failing every command over
		}
		return fmt.Errorf("no profile %q in %s (flashback profile ls)", name, profilePath())
	}
	flags := cmd.Flags()
	set := func(flag, env, value string, dst *string) {
		if value == "" || flags.Changed(flag) || (env != "" && os.Getenv(env) != "") {
			return
		}
		*dst = value
	}
	set("home", "FLASHBACK_HOME", p.Home, &g.home)
	set("node", "FLASHBACK_NODE", p.Node, &g.node)
	set("output", "", p.Output, &g.output)
	// Only a --from that names a signing key and has no default of its own
	// (the oracle's defaults to "oracle"); Set marks it given, so a
	// required --from is satisfied by the profile.
	if f := flags.Lookup("from"); f != nil && p.From != "" && !f.Changed && f.Value.Type() == "string" && f.DefValue == "" {
		if err := flags.Set("from", p.From); err != nil {
			return fmt.Errorf("profile %s: from: %w", name, err)
		}
	}
	return nil
}

func profileCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "profile", Short: "Named defaults for --home, --node, --from and -o, kept in " + "~/.config/flashback/config.json (env FLASHBACK_CONFIG)"}
	var p Profile
	set := &cobra.Command{
		Use:   "set NAME",
		Short: "Create or change a profile (only the flags given change)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			pf, err := loadProfiles()
			if err != nil {
				return err
			}
			cur := pf.Profiles[args[0]]
			c.Flags().Visit(func(f *pflag.Flag) {
				switch f.Name {
				case "profile-home":
					cur.Home = p.Home
				case "profile-node":
					cur.Node = p.Node
				case "profile-from":
					cur.From = p.From
				case "profile-output":
					cur.Output = p.Output
				}
			})
			if cur.Output != "" && cur.Output != "text" && cur.Output != "json" {
				return fmt.Errorf("--profile-output must be text or json, not %q", cur.Output)
			}
			pf.Profiles[args[0]] = cur
			if pf.Current == "" {
				pf.Current = args[0]
			}
			if err := pf.save(); err != nil {
				return err
			}
			fmt.Fprintf(g.out, "profile %s saved in %s (current: %s)\n", args[0], profilePath(), pf.Current)
			return nil
		},
	}
	set.Flags().StringVar(&p.Home, "profile-home", "", "the home directory this profile uses")
	set.Flags().StringVar(&p.Node, "profile-node", "", "the node REST API URL this profile uses")
	set.Flags().StringVar(&p.From, "profile-from", "", "the keyring key that signs by default")
	set.Flags().StringVar(&p.Output, "profile-output", "", "text or json")
	cmd.AddCommand(set, profileUseCmd(g), profileLsCmd(g), profileRmCmd(g))
	return cmd
}

func profileUseCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "use NAME",
		Short: "Make a profile the default for every command",
		Args:  cobra.ExactArgs(1),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return profileNames(), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(_ *cobra.Command, args []string) error {
			pf, err := loadProfiles()
			if err != nil {
				return err
			}
			if _, ok := pf.Profiles[args[0]]; !ok {
				return fmt.Errorf("no profile %q (flashback profile ls)", args[0])
			}
			pf.Current = args[0]
			if err := pf.save(); err != nil {
				return err
			}
			fmt.Fprintf(g.out, "now using profile %s\n", args[0])
			return nil
		},
	}
}

func profileLsCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "ls",
		Short: "List the profiles (* marks the current one)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			pf, err := loadProfiles()
			if err != nil {
				return err
			}
			return g.print(pf, func(w io.Writer) {
				for _, n := range sortedProfileNames(pf) {
					p, mark := pf.Profiles[n], " "
					if n == pf.Current {
						mark = "*"
					}
					fmt.Fprintf(w, "%s %-10s home=%s node=%s from=%s output=%s\n", mark, n, p.Home, p.Node, p.From, p.Output)
				}
			})
		},
	}
}

func profileRmCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "rm NAME",
		Short: "Delete a profile",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			pf, err := loadProfiles()
			if err != nil {
				return err
			}
			if _, ok := pf.Profiles[args[0]]; !ok {
				return fmt.Errorf("no profile %q (flashback profile ls)", args[0])
			}
			delete(pf.Profiles, args[0])
			if pf.Current == args[0] {
				pf.Current = ""
			}
			if err := pf.save(); err != nil {
				return err
			}
			fmt.Fprintf(g.out, "profile %s deleted\n", args[0])
			return nil
		},
	}
}

func sortedProfileNames(pf *profileFile) []string {
	names := make([]string, 0, len(pf.Profiles))
	for n := range pf.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func profileNames() []string {
	pf, err := loadProfiles()
	if err != nil {
		return nil
	}
	return sortedProfileNames(pf)
}

// saveDevProfile records the dev platform as profile "dev", and makes it
// current when the user has no profile yet and no node home of their own,
// so `flashback keys list` in a new terminal shows the dev keys.
func saveDevProfile(home, apiURL string) (madeCurrent bool, err error) {
	pf, err := loadProfiles()
	if err != nil {
		return false, err
	}
	pf.Profiles["dev"] = Profile{Home: home, Node: apiURL, From: "alice"}
	if pf.Current == "" {
		if _, statErr := os.Stat(filepath.Join(defaultHome(), "config", "genesis.json")); os.IsNotExist(statErr) {
			pf.Current, madeCurrent = "dev", true
		}
	}
	return madeCurrent, pf.save()
}
