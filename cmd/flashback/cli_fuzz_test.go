package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzHumanize: rewriting raw units never panics, and is idempotent (what
// it writes holds no raw figure it would rewrite again).
func FuzzHumanize(f *testing.F) {
	for _, s := range []string{
		"51539607552 bytes free, 107374182400 requested bytes",
		"balance 1500000uflash, need 2500000 uflash",
		"term 2592000 seconds exceeds max 31536000 seconds",
		"1023 bytes", "59 seconds", "0uflash", "18446744073709551615 bytes", "99999999999999999999999 bytes",
		"", "bytes", "5 bytes5 bytes",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		once := humanize(s)
		if twice := humanize(once); twice != once {
			t.Fatalf("humanize is not idempotent:\n in   %q\n once %q\n twice %q", s, once, twice)
		}
	})
}

// FuzzNormalizeID: an id argument normalizes to its kind's shape or fails
// with an error; a normalized id normalizes to itself.
func FuzzNormalizeID(f *testing.F) {
	for _, s := range []string{"3", "unit-3", "res-12", " 7 ", "0", "unit-0", "fb3k7q2m9x4t6w8r", "FB3K7Q2M9X4T6W8R", "-5", "unit-", "99999999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, k := range []*idKind{unitID, resID, accessKeyID} {
			id, err := k.normalize(s)
			if err != nil {
				continue
			}
			if !k.re.MatchString(id) {
				t.Fatalf("%s %q normalized to %q, not of the kind's shape", k.what, s, id)
			}
			if again, err := k.normalize(id); err != nil || again != id {
				t.Fatalf("%s %q: normalize(%q) = %q, %v", k.what, s, id, again, err)
			}
		}
	})
}

// FuzzProfileConfig: any config file bytes load or fail cleanly; what
// loads survives a save and reload unchanged.
func FuzzProfileConfig(f *testing.F) {
	for _, s := range []string{
		`{"current":"dev","profiles":{"dev":{"home":"/h","node":"http://127.0.0.1:1317","from":"alice","output":"json"}}}`,
		`{"profiles":{}}`, `{}`, `null`, `{"profiles":null}`, `{"current":"x","profiles":{"x":{}}}`, `{"unknown":1}`, `[`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "config.json")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("FLASHBACK_CONFIG", path)
		pf, err := loadProfiles()
		if err != nil {
			return
		}
		if err := pf.save(); err != nil {
			t.Fatalf("save of a loaded config: %v", err)
		}
		again, err := loadProfiles()
		if err != nil {
			t.Fatalf("reload of a saved config: %v", err)
		}
		if !reflect.DeepEqual(pf, again) {
			t.Fatalf("round trip changed the config: %+v -> %+v", pf, again)
		}
	})
}
