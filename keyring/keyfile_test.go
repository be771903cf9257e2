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
	"testing"
)

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

// tamperCase edits the key file "victim" of a keyring that also holds an
// untouched key "other".
type tamperCase struct {
	name      string
	encrypted bool
	edit      func(t *testing.T, m map[string]any, other Key)
	wantWrong bool // ErrWrongPassphrase expected (AEAD failure)
	showFails bool // Show must fail too
}

// secretTamperCases alter the secret or the data authenticated with it.
func secretTamperCases() []tamperCase {
	return []tamperCase{
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
	}
}

// structureTamperCases break the file's structure, which validation rejects.
func structureTamperCases() []tamperCase {
	return []tamperCase{
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
}

func TestTamperedFile(t *testing.T) {
	for _, tc := range append(secretTamperCases(), structureTamperCases()...) {
		t.Run(tc.name, func(t *testing.T) { checkTamperedFile(t, tc) })
	}
}

// checkTamperedFile applies tc to a fresh keyring and checks that the edit is
// detected and leaves the other key usable.
func checkTamperedFile(t *testing.T, tc tamperCase) {
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
