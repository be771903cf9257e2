package main

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/flashback-network/flashback/keyring"
)

func (g *globals) keyring() (*keyring.Keyring, error) {
	return keyring.Open(filepath.Join(g.home, "keyring"))
}

// privKey loads a key for signing, asking for the passphrase if it is encrypted.
func (g *globals) privKey(name string) (ed25519.PrivateKey, error) {
	kr, err := g.keyring()
	if err != nil {
		return nil, err
	}
	k, err := kr.Show(name)
	if err != nil {
		return nil, fmt.Errorf("key %q: %w (list keys with `flashback keys list --home %s`)", name, err, g.home)
	}
	var pass []byte
	if k.Encrypted {
		if pass, err = keyring.ReadPassphrase(fmt.Sprintf("passphrase for key %s: ", name), false); err != nil {
			return nil, err
		}
	}
	return kr.PrivKey(name, pass)
}

func keysCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Manage the account keys in the home's keyring"}
	list := &cobra.Command{
		Use: "list", Short: "List keys", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error { return printKeys(g) },
	}
	cmd.AddCommand(keysAddCmd(g), list, keysShowCmd(g), keysDeleteCmd(g), keysExportCmd(g), keysImportCmd(g))
	return cmd
}

func keysAddCmd(g *globals) *cobra.Command {
	var unencrypted, recover bool
	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Create a new key and print its BIP-39 recovery phrase; --recover rebuilds a key from a phrase",
		Long: "Create a new key (encrypted with a passphrase unless --unencrypted) and print its 24-word\n" +
			"BIP-39 recovery phrase once: write it down, it is the only way to rebuild the key.\n" +
			"--recover reads a phrase (from the terminal, or the first line of stdin) and stores its key.\n" +
			"The ed25519 key is derived from the BIP-39 seed with SLIP-10 along m/44'/118'/0'/0'/0'.",
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			kr, err := g.keyring()
			if err != nil {
				return err
			}
			if err := keyring.ValidateName(args[0]); err != nil {
				return err
			}
			var phrase string
			if recover {
				if phrase, err = keyring.ReadMnemonic("recovery phrase: "); err != nil {
					return err
				}
				if _, err := keyring.KeyFromMnemonic(phrase); err != nil {
					return err
				}
			}
			pass, err := newKeyPassphrase(unencrypted)
			if err != nil {
				return err
			}
			return addKey(g, kr, args[0], phrase, pass)
		},
	}
	add.Flags().BoolVar(&unencrypted, "unencrypted", false, "store the key without encryption (dev only)")
	add.Flags().BoolVar(&recover, "recover", false, "rebuild the key from its BIP-39 recovery phrase instead of making a new one")
	return add
}

// newKeyPassphrase asks for the passphrase of a new key, or warns that it
// is stored unencrypted.
func newKeyPassphrase(unencrypted bool) ([]byte, error) {
	if unencrypted {
		fmt.Fprintln(os.Stderr, "WARNING: storing key UNENCRYPTED (dev keyring)")
		return nil, nil
	}
	pass, err := keyring.ReadPassphrase("new passphrase: ", true)
	if err != nil {
		return nil, err
	}
	if len(pass) == 0 {
		return nil, fmt.Errorf("empty passphrase: use --unencrypted for a dev key")
	}
	return pass, nil
}

// addKey stores a new key (phrase "") or the key of phrase and prints it;
// a new key's phrase is printed once.
func addKey(g *globals, kr *keyring.Keyring, name, phrase string, pass []byte) error {
	var k keyring.Key
	var err error
	recovered := phrase != ""
	if recovered {
		k, err = kr.Recover(name, phrase, pass)
	} else {
		k, phrase, err = kr.AddMnemonic(name, pass)
	}
	if err != nil {
		return err
	}
	out := struct {
		keyring.Key
		Mnemonic string `json:"mnemonic,omitempty"`
	}{Key: k}
	if !recovered {
		out.Mnemonic = phrase
	}
	return g.print(out, func(w io.Writer) {
		fmt.Fprintf(w, "%s %s\n", k.Name, k.Address)
		if !recovered {
			fmt.Fprintf(w, "\nrecovery phrase (write it down and keep it safe; `keys add NAME --recover` rebuilds the key from it):\n%s\n", phrase)
		}
	})
}

func keysShowCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "show NAME", Short: "Print a key's fb1… address", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			kr, err := g.keyring()
			if err != nil {
				return err
			}
			k, err := kr.Show(args[0])
			if err != nil {
				return err
			}
			return g.print(k, func(w io.Writer) { fmt.Fprintln(w, k.Address) })
		},
	}
}

func keysDeleteCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "delete NAME", Short: "Delete a key", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			kr, err := g.keyring()
			if err != nil {
				return err
			}
			return kr.Delete(args[0])
		},
	}
}

func keysExportCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "export NAME", Short: "Print the key as a passphrase-encrypted armored block", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			kr, err := g.keyring()
			if err != nil {
				return err
			}
			k, err := kr.Show(args[0])
			if err != nil {
				return err
			}
			var pass []byte
			if k.Encrypted {
				if pass, err = keyring.ReadPassphrase("passphrase of key "+k.Name+": ", false); err != nil {
					return err
				}
			}
			exportPass, err := keyring.ReadPassphrase("export passphrase: ", true)
			if err != nil {
				return err
			}
			armor, err := kr.Export(args[0], pass, exportPass)
			if err != nil {
				return err
			}
			fmt.Fprint(g.out, armor)
			if !strings.HasSuffix(armor, "\n") {
				fmt.Fprintln(g.out)
			}
			return nil
		},
	}
}

func keysImportCmd(g *globals) *cobra.Command {
	var hexKey, unencrypted bool
	importCmd := &cobra.Command{
		Use:   "import NAME FILE",
		Short: "Import an armored key (from `keys export`), or a hex ed25519 seed with --hex; FILE - reads stdin",
		Args:  cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			k, err := importKey(g, args[0], args[1], hexKey, unencrypted)
			if err != nil {
				return err
			}
			return g.print(k, func(w io.Writer) { fmt.Fprintf(w, "%s %s\n", k.Name, k.Address) })
		},
	}
	importCmd.Flags().BoolVar(&hexKey, "hex", false, "FILE holds a hex ed25519 seed instead of an armored key")
	importCmd.Flags().BoolVar(&unencrypted, "unencrypted", false, "store the key without encryption (dev only)")
	return importCmd
}

// importKey reads an armored key (or with hexKey a hex seed) from file ("-":
// stdin) and stores it under name, asking for the passphrases it needs.
func importKey(g *globals, name, file string, hexKey, unencrypted bool) (keyring.Key, error) {
	kr, err := g.keyring()
	if err != nil {
		return keyring.Key{}, err
	}
	var data []byte
	if file == "-" {
		data, err = io.ReadAll(io.LimitReader(os.Stdin, 1<<20))
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return keyring.Key{}, err
	}
	var exportPass []byte
	if !hexKey {
		if exportPass, err = keyring.ReadPassphrase("export passphrase: ", false); err != nil {
			return keyring.Key{}, err
		}
	}
	var store []byte
	if !unencrypted {
		if store, err = keyring.ReadPassphrase("new passphrase for the keyring: ", true); err != nil {
			return keyring.Key{}, err
		}
	}
	if hexKey {
		seed, err := hex.DecodeString(strings.TrimSpace(string(data)))
		if err != nil || len(seed) != ed25519.SeedSize {
			return keyring.Key{}, fmt.Errorf("--hex wants %d bytes of hex-encoded ed25519 seed", ed25519.SeedSize)
		}
		return kr.Import(name, ed25519.NewKeyFromSeed(seed), store)
	}
	return kr.ImportArmor(name, string(data), exportPass, store)
}
