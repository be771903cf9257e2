package keyring

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/flashback-network/flashback/address"
)

var (
	pass  = []byte("correct horse battery staple")
	pass2 = []byte("another passphrase")
)

func newKeyring(t *testing.T) *Keyring {
	t.Helper()
	kr, err := Open(filepath.Join(t.TempDir(), "keyring"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	// Keep tests fast; the parameters are recorded per file, so keys written
	// at this cost are still read correctly.
	kr.cost = scryptCost{N: 1 << 10, R: defaultScryptR, P: defaultScryptP}
	return kr
}

func mustAdd(t *testing.T, kr *Keyring, name string, p []byte) Key {
	t.Helper()
	k, err := kr.Add(name, p)
	if err != nil {
		t.Fatalf("Add(%q): %v", name, err)
	}
	return k
}

func TestOpenCreatesDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "keyring")
	if _, err := Open(dir); err != nil {
		t.Fatalf("Open: %v", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.IsDir() {
		t.Fatal("not a directory")
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o700 {
		t.Errorf("dir mode = %v, want 0700", fi.Mode().Perm())
	}
	// Opening an existing keyring works too.
	if _, err := Open(dir); err != nil {
		t.Fatalf("reopen: %v", err)
	}
	// A regular file is not a keyring directory.
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(f); err == nil {
		t.Error("Open(file) succeeded")
	}
	if _, err := Open(""); err == nil {
		t.Error(`Open("") succeeded`)
	}
}

func TestAddShowListDelete(t *testing.T) {
	kr := newKeyring(t)
	if keys, err := kr.List(); err != nil || len(keys) != 0 {
		t.Fatalf("List on empty keyring = %v, %v", keys, err)
	}

	added := map[string]Key{}
	for _, tc := range []struct {
		name string
		pass []byte
	}{
		{"validator", pass},
		{"alice", nil},
		{"Bob-2.test_x", []byte{}},
		{"carol", pass2},
	} {
		k := mustAdd(t, kr, tc.name, tc.pass)
		if k.Name != tc.name {
			t.Errorf("Name = %q, want %q", k.Name, tc.name)
		}
		if len(k.PubKey) != ed25519.PublicKeySize {
			t.Errorf("%s: pubkey len %d", tc.name, len(k.PubKey))
		}
		if k.Address != address.FromPubKey(k.PubKey) || !address.Valid(k.Address) {
			t.Errorf("%s: bad address %q", tc.name, k.Address)
		}
		if want := len(tc.pass) > 0; k.Encrypted != want {
			t.Errorf("%s: Encrypted = %v, want %v", tc.name, k.Encrypted, want)
		}
		added[tc.name] = k
	}

	for name, want := range added {
		got, err := kr.Show(name)
		if err != nil {
			t.Fatalf("Show(%q): %v", name, err)
		}
		if got.Name != want.Name || got.Address != want.Address ||
			!bytes.Equal(got.PubKey, want.PubKey) || got.Encrypted != want.Encrypted {
			t.Errorf("Show(%q) = %+v, want %+v", name, got, want)
		}
	}

	// Stray files are ignored by List.
	for _, f := range []string{"README", ".tmp-123", "x.json"} {
		if err := os.WriteFile(filepath.Join(kr.Dir(), f), []byte("junk"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := kr.List()
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	var names []string
	for _, k := range keys {
		names = append(names, k.Name)
	}
	if got, want := strings.Join(names, ","), "Bob-2.test_x,alice,carol,validator"; got != want {
		t.Errorf("List names = %s, want %s", got, want)
	}

	if err := kr.Delete("alice"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := kr.Show("alice"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Show after delete: err = %v, want ErrNotFound", err)
	}
	if _, err := kr.PrivKey("alice", nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("PrivKey after delete: err = %v, want ErrNotFound", err)
	}
	if err := kr.Delete("alice"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete: err = %v, want ErrNotFound", err)
	}
	if keys, _ := kr.List(); len(keys) != 3 {
		t.Errorf("List after delete has %d keys, want 3", len(keys))
	}
	// The name can be reused after deletion.
	mustAdd(t, kr, "alice", nil)
}

func TestDuplicateName(t *testing.T) {
	kr := newKeyring(t)
	orig := mustAdd(t, kr, "dup", pass)
	if _, err := kr.Add("dup", nil); !errors.Is(err, ErrExists) {
		t.Errorf("Add duplicate: err = %v, want ErrExists", err)
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := kr.Import("dup", priv, nil); !errors.Is(err, ErrExists) {
		t.Errorf("Import duplicate: err = %v, want ErrExists", err)
	}
	// The original is untouched.
	got, err := kr.Show("dup")
	if err != nil || got.Address != orig.Address || !got.Encrypted {
		t.Errorf("original changed: %+v, %v", got, err)
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(kr.Dir())
	if len(entries) != 1 {
		t.Errorf("directory has %d entries, want 1", len(entries))
	}
}

func TestConcurrentAddSameName(t *testing.T) {
	kr := newKeyring(t)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = kr.Add("race", nil)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrExists):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d concurrent Adds succeeded, want 1", ok)
	}
}

func TestInvalidNames(t *testing.T) {
	kr := newKeyring(t)
	long := strings.Repeat("a", 65)
	for _, name := range []string{
		"", "../x", "..", ".", ".hidden", "a/b", `a\b`, "/abs", "a b", "ключ",
		"x\x00y", "name:1", long,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := kr.Add(name, nil); !errors.Is(err, ErrInvalidName) {
				t.Errorf("Add: err = %v, want ErrInvalidName", err)
			}
			_, priv, _ := ed25519.GenerateKey(rand.Reader)
			if _, err := kr.Import(name, priv, nil); !errors.Is(err, ErrInvalidName) {
				t.Errorf("Import: err = %v", err)
			}
			if _, err := kr.Show(name); !errors.Is(err, ErrInvalidName) {
				t.Errorf("Show: err = %v", err)
			}
			if _, err := kr.PrivKey(name, nil); !errors.Is(err, ErrInvalidName) {
				t.Errorf("PrivKey: err = %v", err)
			}
			if err := kr.Delete(name); !errors.Is(err, ErrInvalidName) {
				t.Errorf("Delete: err = %v", err)
			}
			if _, err := kr.ImportArmor(name, "", pass, nil); !errors.Is(err, ErrInvalidName) {
				t.Errorf("ImportArmor: err = %v", err)
			}
		})
	}
	// Nothing escaped the keyring directory.
	if _, err := os.Stat(filepath.Join(filepath.Dir(kr.Dir()), "x.key")); !os.IsNotExist(err) {
		t.Errorf("../x.key exists: %v", err)
	}
	for _, name := range []string{"a", "A-1", "a.b", "_x", strings.Repeat("z", 64)} {
		if err := ValidateName(name); err != nil {
			t.Errorf("ValidateName(%q) = %v", name, err)
		}
	}
}

func TestImportInvalidKey(t *testing.T) {
	kr := newKeyring(t)
	if _, err := kr.Import("short", make([]byte, 10), nil); err == nil {
		t.Error("Import of short key succeeded")
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	bad := bytes.Clone(priv)
	bad[40] ^= 1 // corrupt the public half
	if _, err := kr.Import("inconsistent", bad, nil); err == nil {
		t.Error("Import of inconsistent key succeeded")
	}
}
