package keyring

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
)

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
