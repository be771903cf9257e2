package keyring

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/flashback-network/flashback/address"
)

func TestMain(m *testing.M) {
	// Keep tests fast; the parameters are recorded per file, so keys written
	// with these parameters are still read correctly.
	scryptN = 1 << 10
	os.Exit(m.Run())
}

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

func TestEncryptedRoundTrip(t *testing.T) {
	kr := newKeyring(t)
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := kr.Import("imported", priv, pass)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if !k.Encrypted || !bytes.Equal(k.PubKey, priv.Public().(ed25519.PublicKey)) {
		t.Fatalf("Import returned %+v", k)
	}
	got, err := kr.PrivKey("imported", pass)
	if err != nil {
		t.Fatalf("PrivKey: %v", err)
	}
	if !bytes.Equal(got, priv) {
		t.Fatal("PrivKey returned a different key")
	}

	// The seed must not appear in clear in the file.
	data, err := os.ReadFile(filepath.Join(kr.Dir(), "imported.key"))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["seed"]; ok {
		t.Error("encrypted key file contains a clear seed")
	}
	c, _ := raw["crypto"].(map[string]any)
	if c["kdf"] != "scrypt" || c["cipher"] != "xchacha20-poly1305" {
		t.Errorf("crypto section = %v", c)
	}
	params, _ := c["kdf_params"].(map[string]any)
	for _, f := range []string{"n", "r", "p", "key_len", "salt"} {
		if _, ok := params[f]; !ok {
			t.Errorf("kdf_params lacks %q", f)
		}
	}

	// Added (random) keys round trip and sign too.
	a := mustAdd(t, kr, "added", pass2)
	ap, err := kr.PrivKey("added", pass2)
	if err != nil {
		t.Fatalf("PrivKey(added): %v", err)
	}
	msg := []byte("hello")
	if !ed25519.Verify(a.PubKey, msg, ed25519.Sign(ap, msg)) {
		t.Error("signature by stored key does not verify against its pubkey")
	}
}

func TestDefaultScryptParams(t *testing.T) {
	if defaultScryptN != 1<<15 || defaultScryptR != 8 || defaultScryptP != 1 {
		t.Fatalf("default scrypt params changed: N=%d r=%d p=%d", defaultScryptN, defaultScryptR, defaultScryptP)
	}
	if testing.Short() {
		t.Skip("slow with production scrypt parameters")
	}
	old := scryptN
	scryptN = defaultScryptN
	defer func() { scryptN = old }()
	kr := newKeyring(t)
	mustAdd(t, kr, "prod", pass)
	if _, err := kr.PrivKey("prod", pass); err != nil {
		t.Fatalf("PrivKey: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(kr.Dir(), "prod.key"))
	if err != nil {
		t.Fatal(err)
	}
	var kf keyFile
	if err := json.Unmarshal(data, &kf); err != nil {
		t.Fatal(err)
	}
	if p := kf.Crypto.KDFParams; p.N != 1<<15 || p.R != 8 || p.P != 1 || p.KeyLen != 32 || len(p.Salt) != 16 {
		t.Errorf("recorded params = %+v", p)
	}
	if len(kf.Crypto.Nonce) != 24 {
		t.Errorf("nonce length = %d", len(kf.Crypto.Nonce))
	}
}

func TestWrongPassphrase(t *testing.T) {
	kr := newKeyring(t)
	mustAdd(t, kr, "k", pass)
	for _, p := range [][]byte{nil, {}, pass2, []byte("correct horse battery stapl")} {
		if _, err := kr.PrivKey("k", p); !errors.Is(err, ErrWrongPassphrase) {
			t.Errorf("PrivKey(%q): err = %v, want ErrWrongPassphrase", p, err)
		}
	}
	if _, err := kr.Export("k", pass2, pass); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("Export with wrong passphrase: err = %v", err)
	}
}

func TestUnencryptedDevKey(t *testing.T) {
	kr := newKeyring(t)
	k := mustAdd(t, kr, "dev", nil)
	if k.Encrypted {
		t.Fatal("key with nil passphrase is encrypted")
	}
	data, err := os.ReadFile(filepath.Join(kr.Dir(), "dev.key"))
	if err != nil {
		t.Fatal(err)
	}
	var kf keyFile
	if err := json.Unmarshal(data, &kf); err != nil {
		t.Fatal(err)
	}
	if kf.Encrypted || kf.Crypto != nil || len(kf.Seed) != ed25519.SeedSize {
		t.Fatalf("dev key file = %s", data)
	}
	// Any passphrase is ignored.
	for _, p := range [][]byte{nil, pass} {
		priv, err := kr.PrivKey("dev", p)
		if err != nil {
			t.Fatalf("PrivKey(%q): %v", p, err)
		}
		if !bytes.Equal(priv.Public().(ed25519.PublicKey), k.PubKey) || !bytes.Equal(priv.Seed(), kf.Seed) {
			t.Fatal("dev key does not match file")
		}
	}
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

// editFile decodes a key file as generic JSON, applies f and writes it back.
func editFile(t *testing.T, path string, f func(m map[string]any)) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
}

func flipB64(t *testing.T, s any) string {
	t.Helper()
	var b []byte
	if err := json.Unmarshal([]byte(`"`+s.(string)+`"`), &b); err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x01
	out, _ := json.Marshal(b)
	return strings.Trim(string(out), `"`)
}

func TestTamperedFile(t *testing.T) {
	tests := []struct {
		name      string
		encrypted bool
		edit      func(t *testing.T, m map[string]any, other Key)
		wantWrong bool // ErrWrongPassphrase expected (AEAD failure)
		showFails bool // Show must fail too
	}{
		{
			name: "flip ciphertext byte", encrypted: true, wantWrong: true,
			edit: func(t *testing.T, m map[string]any, _ Key) {
				c := m["crypto"].(map[string]any)
				c["ciphertext"] = flipB64(t, c["ciphertext"])
			},
		},
		{
			name: "flip nonce byte", encrypted: true, wantWrong: true,
			edit: func(t *testing.T, m map[string]any, _ Key) {
				c := m["crypto"].(map[string]any)
				c["nonce"] = flipB64(t, c["nonce"])
			},
		},
		{
			name: "swap pubkey and address", encrypted: true, wantWrong: true,
			edit: func(t *testing.T, m map[string]any, other Key) {
				m["pub_key"] = other.PubKey
				m["address"] = other.Address
			},
		},
		{
			name: "swap pubkey only", encrypted: true, showFails: true,
			edit: func(t *testing.T, m map[string]any, other Key) {
				m["pub_key"] = other.PubKey
			},
		},
		{
			name: "swap pubkey and address of dev key", encrypted: false,
			edit: func(t *testing.T, m map[string]any, other Key) {
				m["pub_key"] = other.PubKey
				m["address"] = other.Address
			},
		},
		{
			name: "flip seed of dev key", encrypted: false,
			edit: func(t *testing.T, m map[string]any, _ Key) {
				m["seed"] = flipB64(t, m["seed"])
			},
		},
		{
			name: "rename inside file", encrypted: true, showFails: true,
			edit: func(t *testing.T, m map[string]any, _ Key) { m["name"] = "other" },
		},
		{
			name: "unsupported kdf", encrypted: true, showFails: true,
			edit: func(t *testing.T, m map[string]any, _ Key) {
				m["crypto"].(map[string]any)["kdf"] = "pbkdf2"
			},
		},
		{
			name: "huge scrypt N", encrypted: true, showFails: true,
			edit: func(t *testing.T, m map[string]any, _ Key) {
				m["crypto"].(map[string]any)["kdf_params"].(map[string]any)["n"] = 1 << 40
			},
		},
		{
			name: "missing crypto", encrypted: true, showFails: true,
			edit: func(t *testing.T, m map[string]any, _ Key) { delete(m, "crypto") },
		},
		{
			name: "mark encrypted key as clear", encrypted: true, showFails: true,
			edit: func(t *testing.T, m map[string]any, _ Key) { m["encrypted"] = false },
		},
		{
			name: "truncated ciphertext", encrypted: true, showFails: true,
			edit: func(t *testing.T, m map[string]any, _ Key) {
				m["crypto"].(map[string]any)["ciphertext"] = "AAAA"
			},
		},
		{
			name: "wrong version", encrypted: false, showFails: true,
			edit: func(t *testing.T, m map[string]any, _ Key) { m["version"] = 99 },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kr := newKeyring(t)
			var p []byte
			if tc.encrypted {
				p = pass
			}
			mustAdd(t, kr, "victim", p)
			other := mustAdd(t, kr, "other", p)
			editFile(t, filepath.Join(kr.Dir(), "victim.key"), func(m map[string]any) { tc.edit(t, m, other) })

			_, err := kr.PrivKey("victim", p)
			if err == nil {
				t.Fatal("PrivKey on tampered file succeeded")
			}
			if tc.wantWrong && !errors.Is(err, ErrWrongPassphrase) {
				t.Errorf("err = %v, want ErrWrongPassphrase", err)
			}
			if !tc.wantWrong && errors.Is(err, ErrWrongPassphrase) {
				t.Errorf("err = %v, want a corruption error", err)
			}
			_, err = kr.Show("victim")
			if tc.showFails && err == nil {
				t.Error("Show on corrupt file succeeded")
			}
			if _, err := kr.PrivKey("other", p); err != nil {
				t.Errorf("untouched key broken: %v", err)
			}
		})
	}
}

func TestCorruptFiles(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"not json", []byte("hello")},
		{"json array", []byte("[1,2,3]")},
		{"null", []byte("null")},
		{"truncated", []byte(`{"version":1,"name":"bad","pub_key":"AAAA`)},
		{"bad base64", []byte(`{"version":1,"name":"bad","pub_key":"!!!"}`)},
		{"empty object", []byte(`{}`)},
		{"huge", bytes.Repeat([]byte(" "), maxKeyFileSize+10)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kr := newKeyring(t)
			if err := os.WriteFile(filepath.Join(kr.Dir(), "bad.key"), tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := kr.Show("bad"); err == nil || !strings.Contains(err.Error(), "corrupt") {
				t.Errorf("Show: err = %v, want corrupt-file error", err)
			}
			if _, err := kr.PrivKey("bad", pass); err == nil {
				t.Error("PrivKey succeeded")
			}
			if _, err := kr.List(); err == nil {
				t.Error("List succeeded despite corrupt file")
			}
			// A corrupt key can still be deleted.
			if err := kr.Delete("bad"); err != nil {
				t.Errorf("Delete: %v", err)
			}
		})
	}
}

func TestExportImportArmor(t *testing.T) {
	exportPass := []byte("export secret")
	for _, tc := range []struct {
		name      string
		srcPass   []byte
		storePass []byte
	}{
		{"encrypted to encrypted", pass, pass2},
		{"encrypted to dev", pass, nil},
		{"dev to encrypted", nil, pass},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := newKeyring(t)
			dst := newKeyring(t)
			orig := mustAdd(t, src, "orig", tc.srcPass)

			armor, err := src.Export("orig", tc.srcPass, exportPass)
			if err != nil {
				t.Fatalf("Export: %v", err)
			}
			lines := strings.Split(strings.TrimSpace(armor), "\n")
			if lines[0] != armorBegin || lines[len(lines)-1] != armorEnd || lines[1] != "kdf: scrypt" {
				t.Errorf("armor format:\n%s", armor)
			}
			if !strings.Contains(armor, "\nsalt: ") || !strings.Contains(armor, "\n\n") {
				t.Errorf("armor lacks salt or blank line:\n%s", armor)
			}

			got, err := dst.ImportArmor("copy", armor, exportPass, tc.storePass)
			if err != nil {
				t.Fatalf("ImportArmor: %v", err)
			}
			if got.Name != "copy" || got.Address != orig.Address || !bytes.Equal(got.PubKey, orig.PubKey) {
				t.Errorf("imported %+v, want address %s", got, orig.Address)
			}
			if got.Encrypted != (len(tc.storePass) > 0) {
				t.Errorf("Encrypted = %v", got.Encrypted)
			}
			priv, err := dst.PrivKey("copy", tc.storePass)
			if err != nil {
				t.Fatalf("PrivKey: %v", err)
			}
			msg := []byte("transfer 10 fb to bob")
			if !ed25519.Verify(orig.PubKey, msg, ed25519.Sign(priv, msg)) {
				t.Error("signature by imported key does not verify against original pubkey")
			}

			// CRLF line endings and surrounding whitespace are tolerated.
			crlf := "\n  " + strings.ReplaceAll(armor, "\n", "\r\n") + "\n"
			if _, err := dst.ImportArmor("copy2", crlf, exportPass, nil); err != nil {
				t.Errorf("ImportArmor with CRLF: %v", err)
			}
			// The same name cannot be imported twice.
			if _, err := dst.ImportArmor("copy", armor, exportPass, nil); !errors.Is(err, ErrExists) {
				t.Errorf("duplicate ImportArmor: err = %v, want ErrExists", err)
			}
			// Wrong export passphrase.
			if _, err := dst.ImportArmor("copy3", armor, []byte("nope"), nil); !errors.Is(err, ErrWrongPassphrase) {
				t.Errorf("wrong export passphrase: err = %v", err)
			}
		})
	}
}

func TestExportRequiresPassphrase(t *testing.T) {
	kr := newKeyring(t)
	mustAdd(t, kr, "k", nil)
	for _, p := range [][]byte{nil, {}} {
		if _, err := kr.Export("k", nil, p); err == nil {
			t.Errorf("Export with export passphrase %q succeeded", p)
		}
	}
	if _, err := kr.Export("missing", nil, pass); !errors.Is(err, ErrNotFound) {
		t.Errorf("Export of missing key: err = %v", err)
	}
}

func TestGarbageArmor(t *testing.T) {
	kr := newKeyring(t)
	mustAdd(t, kr, "k", nil)
	good, err := kr.Export("k", nil, pass)
	if err != nil {
		t.Fatal(err)
	}
	replace := func(old, new string) string {
		if !strings.Contains(good, old) {
			t.Fatalf("armor lacks %q", old)
		}
		return strings.Replace(good, old, new, 1)
	}
	lines := strings.Split(strings.TrimSpace(good), "\n")
	salt := strings.TrimPrefix(lines[5], "salt: ")
	if len(salt) != 32 {
		t.Fatalf("salt line = %q", lines[5])
	}
	body := lines[len(lines)-2]
	flipped := []byte(body)
	if flipped[3] == 'A' {
		flipped[3] = 'B'
	} else {
		flipped[3] = 'A'
	}

	for _, tc := range []struct {
		name      string
		armor     string
		wantWrong bool
	}{
		{"empty", "", false},
		{"random text", "hello world", false},
		{"only begin", armorBegin, false},
		{"no end", strings.TrimSuffix(strings.TrimSpace(good), armorEnd), false},
		{"no begin", strings.Replace(good, armorBegin+"\n", "", 1), false},
		{"wrong kdf", replace("kdf: scrypt", "kdf: argon2"), false},
		{"wrong cipher", replace("cipher: xchacha20-poly1305", "cipher: aes"), false},
		{"missing salt", replace(lines[5]+"\n", ""), false},
		{"bad salt hex", replace(salt, "zz"+salt[2:]), false},
		{"short salt", replace(salt, salt[:8]), false},
		{"bad n", replace("n: 1024", "n: 1000"), false},
		{"huge n", replace("n: 1024", "n: 1099511627776"), false},
		{"unknown header", replace("kdf: scrypt", "kdf: scrypt\nfoo: bar"), false},
		{"duplicate header", replace("kdf: scrypt", "kdf: scrypt\nkdf: scrypt"), false},
		{"header without colon", replace("kdf: scrypt", "kdf scrypt"), false},
		{"no blank line", replace("\n\n", "\n"), false},
		{"bad base64", replace(body, "!!!!"+body[4:]), false},
		{"truncated body", replace(body, body[:len(body)-8]), false},
		{"empty body", replace(body+"\n", ""), false},
		{"flipped body", replace(body, string(flipped)), true},
		{"changed salt", replace(salt, strings.Repeat("0", 32)), true},
		{"changed r (authenticated header)", replace("r: 8", "r: 9"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := kr.ImportArmor("imp", tc.armor, pass, nil)
			if err == nil {
				t.Fatal("ImportArmor succeeded")
			}
			if tc.wantWrong != errors.Is(err, ErrWrongPassphrase) {
				t.Errorf("err = %v (wantWrong=%v)", err, tc.wantWrong)
			}
			if _, err := kr.Show("imp"); !errors.Is(err, ErrNotFound) {
				t.Errorf("key was stored despite error: %v", err)
			}
		})
	}
}

func TestFilePermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("unix permissions")
	}
	kr := newKeyring(t)
	mustAdd(t, kr, "enc", pass)
	mustAdd(t, kr, "dev", nil)
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := kr.Import("imp", priv, pass); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(kr.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		t.Errorf("%d entries in keyring dir, want 3 (temp files left?)", len(entries))
	}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", e.Name(), fi.Mode().Perm())
		}
	}
	fi, err := os.Stat(kr.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v, want 0700", fi.Mode().Perm())
	}
}

func TestKeyJSON(t *testing.T) {
	kr := newKeyring(t)
	k := mustAdd(t, kr, "j", nil)
	data, err := json.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	var back Key
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.Name != k.Name || back.Address != k.Address || !bytes.Equal(back.PubKey, k.PubKey) {
		t.Errorf("JSON round trip: %s", data)
	}
	for _, f := range []string{`"name"`, `"address"`, `"pub_key"`, `"encrypted"`} {
		if !bytes.Contains(data, []byte(f)) {
			t.Errorf("JSON lacks %s: %s", f, data)
		}
	}
}

func TestReadPassphraseEnv(t *testing.T) {
	t.Setenv(PassphraseEnv, "from-env")
	got, err := ReadPassphrase("Passphrase: ", true)
	if err != nil || string(got) != "from-env" {
		t.Errorf("ReadPassphrase = %q, %v", got, err)
	}
	t.Setenv(PassphraseEnv, "")
	got, err = ReadPassphrase("Passphrase: ", false)
	if err != nil || len(got) != 0 {
		t.Errorf("ReadPassphrase with empty env = %q, %v", got, err)
	}
}

func TestReadPassphraseStdin(t *testing.T) {
	// Make sure the env var does not interfere (restored after the test).
	t.Setenv(PassphraseEnv, "")
	os.Unsetenv(PassphraseEnv)

	f, err := os.CreateTemp(t.TempDir(), "stdin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("first secret\r\nsecond\n\nlast"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	oldStdin := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = oldStdin }()

	for _, want := range []string{"first secret", "second", "", "last"} {
		got, err := ReadPassphrase("Passphrase: ", true)
		if err != nil {
			t.Fatalf("ReadPassphrase: %v", err)
		}
		if string(got) != want {
			t.Errorf("ReadPassphrase = %q, want %q", got, want)
		}
	}
	if _, err := ReadPassphrase("Passphrase: ", false); err == nil {
		t.Error("ReadPassphrase at EOF succeeded")
	}
}
