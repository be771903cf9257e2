package keyring

import (
	"encoding/hex"
	"strings"
	"testing"
)

// TestSLIP10Vector checks the derivation against SLIP-0010's ed25519 test
// vector 1 (seed 000102…0f): m and m/0'.
func TestSLIP10Vector(t *testing.T) {
	seed, _ := hex.DecodeString("000102030405060708090a0b0c0d0e0f")
	for _, c := range []struct {
		path []uint32
		want string
	}{
		{nil, "2b4be7f19ee27bbf30c667b642d5f4aa69fd169872f8fc3059c08ebae2eb19e7"},
		{[]uint32{0}, "68e0fe46dfb67e368c75379acec591dad19df3cde26e63b93a8e704f1dade7a3"},
	} {
		if got := hex.EncodeToString(slip10Ed25519(seed, c.path)); got != c.want {
			t.Errorf("path %v: %s, want %s", c.path, got, c.want)
		}
	}
}

// TestRecoverReproducesKey: a key added with a phrase and one recovered
// from it (with other spacing and case) have the same address; a phrase
// with a wrong word is refused.
func TestRecoverReproducesKey(t *testing.T) {
	kr := newKeyring(t)
	k, phrase, err := kr.AddMnemonic("orig", nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(phrase)); n != 24 {
		t.Fatalf("phrase has %d words", n)
	}
	again, err := kr.Recover("again", "  "+strings.ToUpper(strings.ReplaceAll(phrase, " ", "\t "))+"\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Address != k.Address {
		t.Fatalf("recovered %s, added %s", again.Address, k.Address)
	}
	words := strings.Fields(phrase)
	if words[0] == "zoo" {
		words[0] = "abandon"
	} else {
		words[0] = "zoo"
	}
	if _, err := kr.Recover("bad", strings.Join(words, " "), nil); err == nil {
		t.Fatal("a phrase with a changed word was accepted")
	}
	if _, err := kr.Recover("short", "abandon abandon abandon", nil); err == nil || !strings.Contains(err.Error(), "3") {
		t.Fatalf("short phrase: %v", err)
	}
}
