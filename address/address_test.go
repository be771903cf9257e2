package address

import (
	"bytes"
	"crypto/ed25519"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	a := FromPubKey(pub)
	if !strings.HasPrefix(a, "fb1") {
		t.Fatalf("address %q lacks fb1 prefix", a)
	}
	raw, err := Parse(a)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, Raw(pub)) {
		t.Fatal("raw bytes differ after round trip")
	}
	if _, err := Parse(strings.ToUpper(a)); err != nil {
		t.Fatalf("upper-case address rejected: %v", err)
	}
}

// BIP-173 test vector: checks our checksum against the reference one.
func TestBIP173Vector(t *testing.T) {
	hrp, data, err := bech32Decode("a12uel5l")
	if err != nil || hrp != "a" || len(data) != 0 {
		t.Fatalf("decode vector: %q %x %v", hrp, data, err)
	}
	s, err := bech32Encode("a", nil)
	if err != nil || s != "a12uel5l" {
		t.Fatalf("encode vector: %q %v", s, err)
	}
}

func TestParseRejects(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(nil)
	good := FromPubKey(pub)
	flipped := []byte(good)
	if flipped[10] == 'q' {
		flipped[10] = 'p'
	} else {
		flipped[10] = 'q'
	}
	other, _ := bech32Encode("cosmos", Raw(pub))
	short, _ := bech32Encode(HRP, []byte{1, 2, 3})
	for name, s := range map[string]string{
		"empty":      "",
		"typo":       string(flipped),
		"prefix":     other,
		"length":     short,
		"mixed case": "fB" + good[2:],
		"no sep":     "fbqqqqqqqqqq",
		"bad char":   good[:len(good)-1] + "b",
	} {
		if _, err := Parse(s); err == nil {
			t.Errorf("%s: Parse(%q) accepted", name, s)
		}
	}
}

func FuzzParse(f *testing.F) {
	pub, _, _ := ed25519.GenerateKey(nil)
	f.Add(FromPubKey(pub))
	f.Add("a12uel5l")
	f.Add("fb1")
	f.Fuzz(func(t *testing.T, s string) {
		raw, err := Parse(s)
		if err != nil {
			return
		}
		if back := Encode(raw); back != strings.ToLower(s) {
			t.Fatalf("Parse(%q) then Encode = %q", s, back)
		}
	})
}
