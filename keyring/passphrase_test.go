package keyring

import (
	"os"
	"testing"
)

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
