package receipt

import (
	"crypto/ed25519"
	"strings"
	"testing"
)

// FuzzDecode: whatever a header holds, Decode returns a receipt or an
// error without panicking; a receipt it accepts re-encodes to exactly the
// input (one encoding per receipt), and if it verifies, a change of the
// signature makes it fail. Seeds live in testdata/fuzz/FuzzDecode and
// replay on plain `go test`.
func FuzzDecode(f *testing.F) {
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	for _, r := range []*Receipt{
		{ChainID: "c", Reservation: "r", Key: "k", Op: OpPut, Size: 3, ContentHash: make([]byte, HashSize), ETag: "e", Time: 1},
		{ChainID: "c", Reservation: "r", Key: "k", Op: OpPut, Size: 11, ContentHash: make([]byte, HashSize), PartSizes: []int64{5, 5, 1}, Time: 1},
		{ChainID: "c", Reservation: "r", Key: "k", Op: OpDelete, Time: 1},
	} {
		if err := r.Sign(priv); err != nil {
			f.Fatal(err)
		}
		s, err := r.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(s)
		f.Add(s[:len(s)/2])
	}
	f.Add("")
	f.Add("====")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Decode(s)
		if err != nil {
			if r != nil {
				t.Fatal("receipt returned with an error")
			}
			return
		}
		again, err := r.Encode()
		if err != nil {
			t.Fatalf("decoded receipt does not encode: %v", err)
		}
		if again != s {
			t.Fatalf("accepted a non-canonical encoding:\n in %q\nout %q", s, again)
		}
		if r.Verify() == nil {
			r.Signature[0] ^= 1
			if r.Verify() == nil {
				t.Fatal("verifies with a changed signature")
			}
		}
		if strings.ContainsAny(s, "=+/") {
			t.Fatal("accepted padding or the standard alphabet")
		}
	})
}
