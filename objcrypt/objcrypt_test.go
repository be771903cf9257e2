package objcrypt

import (
	"bytes"
	"errors"
	"io"
	"math"
	"testing"
	"testing/iotest"
)

func TestDeriveMasterKey(t *testing.T) {
	sec := bytes.Repeat([]byte{1}, 32)
	a, err := DeriveMasterKey(sec, "owner", "repo")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := DeriveMasterKey(sec, "owner", "repo")
	if a != again {
		t.Fatal("derivation is not deterministic")
	}
	seen := map[MasterKey]string{a: "base"}
	for name, in := range map[string][3]string{
		"other owner": {string(sec), "owner2", "repo"},
		"other repo":  {string(sec), "owner", "repo2"},
		"shifted":     {string(sec), "ownerr", "epo"},
		"other sec":   {string(bytes.Repeat([]byte{2}, 32)), "owner", "repo"},
	} {
		k, err := DeriveMasterKey([]byte(in[0]), in[1], in[2])
		if err != nil {
			t.Fatal(err)
		}
		if prev, dup := seen[k]; dup {
			t.Errorf("%s gives the same key as %s", name, prev)
		}
		seen[k] = name
	}
	if _, err := DeriveMasterKey(sec[:MinSecretSize-1], "o", "r"); err == nil {
		t.Error("short secret accepted")
	}
	if _, err := DeriveMasterKey(sec, "", "r"); err == nil {
		t.Error("empty owner accepted")
	}
}

func TestRoundTripSizes(t *testing.T) {
	mk := testKey(t, "rt")
	for _, cs := range []int{testCS, DefaultChunkSize} {
		for _, n := range []int{0, 1, cs - 1, cs, cs + 1, 2*cs - 1, 2 * cs, 7*cs + 13} {
			plain := randBytes(uint64(n), n)
			// Small, uneven reads on both sides exercise the read-ahead.
			er, err := NewEncryptReader(mk, "k/obj", iotest.HalfReader(bytes.NewReader(plain)), cs)
			if err != nil {
				t.Fatal(err)
			}
			ct, err := io.ReadAll(iotest.OneByteReader(er))
			if err != nil {
				t.Fatal(err)
			}
			if want := CiphertextSize(int64(n), cs); int64(len(ct)) != want {
				t.Fatalf("cs %d n %d: ciphertext %d bytes, CiphertextSize says %d", cs, n, len(ct), want)
			}
			if ps, err := PlaintextSize(int64(len(ct)), cs); err != nil || ps != int64(n) {
				t.Fatalf("cs %d n %d: PlaintextSize = %d, %v", cs, n, ps, err)
			}
			if n >= 16 && bytes.Contains(ct, plain[:16]) {
				t.Fatalf("cs %d n %d: plaintext visible in ciphertext", cs, n)
			}
			r, err := OpenReader(mk, "k/obj", int64(len(ct)), bytes.NewReader(ct))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(iotest.OneByteReader(r))
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("cs %d n %d: decrypt: %v, equal %v", cs, n, err, bytes.Equal(got, plain))
			}
		}
	}
}

func TestSizeMath(t *testing.T) {
	cs := testCS
	for p := int64(0); p <= 5*int64(cs)+3; p++ {
		c := CiphertextSize(p, cs)
		if got, err := PlaintextSize(c, cs); err != nil || got != p {
			t.Fatalf("PlaintextSize(CiphertextSize(%d)) = %d, %v", p, got, err)
		}
	}
	// Every stored size is either impossible or the image of exactly one
	// plaintext size.
	valid := 0
	for c := int64(0); c <= CiphertextSize(5*int64(cs), cs); c++ {
		p, err := PlaintextSize(c, cs)
		if err != nil {
			if !errors.Is(err, ErrSize) {
				t.Fatalf("size %d: %v is not ErrSize", c, err)
			}
			continue
		}
		valid++
		if CiphertextSize(p, cs) != c {
			t.Fatalf("size %d maps to plaintext %d which encrypts to %d", c, p, CiphertextSize(p, cs))
		}
	}
	if valid != 5*cs+1 {
		t.Fatalf("%d valid stored sizes, want %d", valid, 5*cs+1)
	}
	for _, c := range []int64{-1, 0, HeaderSize, HeaderSize + TagSize - 1, HeaderSize + int64(cs) + TagSize + 5} {
		if _, err := PlaintextSize(c, cs); err == nil {
			t.Errorf("PlaintextSize(%d) accepted", c)
		}
	}
	if CiphertextSize(-1, cs) != -1 || CiphertextSize(math.MaxInt64-10, cs) != -1 {
		t.Error("CiphertextSize accepts a negative or overflowing size")
	}
	if CiphertextSize(0, 0) != HeaderSize+TagSize {
		t.Errorf("empty object: %d bytes", CiphertextSize(0, 0))
	}
}

func TestEveryRange(t *testing.T) {
	mk := testKey(t, "range")
	n := 3*testCS + 100
	plain := randBytes(3, n)
	ct := encrypt(t, mk, "r", plain, testCS)
	d := decrypter(t, mk, "r", ct)
	lens := []int64{1, 2, testCS - 1, testCS, testCS + 1, 2 * testCS, int64(n), 1 << 40}
	for off := int64(0); off < int64(n); off++ {
		for _, l := range lens {
			sp, err := d.MapRange(off, l)
			if err != nil {
				t.Fatalf("range %d+%d: %v", off, l, err)
			}
			if sp2, _ := MapRange(testCS, int64(len(ct)), off, l); sp2 != sp {
				t.Fatalf("package MapRange %+v != %+v", sp2, sp)
			}
			end := min(off+l, int64(n))
			if sp.Off < HeaderSize || sp.Off+sp.Len > int64(len(ct)) || sp.N != end-off {
				t.Fatalf("range %d+%d: bad span %+v", off, l, sp)
			}
			got, err := io.ReadAll(d.NewReader(bytes.NewReader(ct[sp.Off:sp.Off+sp.Len]), sp))
			if err != nil || !bytes.Equal(got, plain[off:end]) {
				t.Fatalf("range %d+%d: %v, got %d bytes", off, l, err, len(got))
			}
		}
	}
	for _, bad := range [][2]int64{{-1, 1}, {0, 0}, {int64(n), 1}, {0, -5}} {
		if _, err := d.MapRange(bad[0], bad[1]); !errors.Is(err, ErrRange) {
			t.Errorf("range %v: %v, want ErrRange", bad, err)
		}
	}
}

func TestNonceUniqueness(t *testing.T) {
	mk := testKey(t, "nonce")
	plain := randBytes(1, 2*testCS)
	salts := map[[SaltSize]byte]bool{}
	keys := map[string]bool{}
	first := map[string]bool{}
	for i := 0; i < 200; i++ {
		ct := encrypt(t, mk, "same/name", plain, testCS)
		h, _ := ParseHeader(ct)
		k, err := objectKey(mk, h)
		if err != nil {
			t.Fatal(err)
		}
		if salts[h.Salt] || keys[string(k)] || first[string(ct[HeaderSize:HeaderSize+64])] {
			t.Fatalf("object %d reuses a salt, key or keystream of an earlier identical object", i)
		}
		salts[h.Salt], keys[string(k)], first[string(ct[HeaderSize:HeaderSize+64])] = true, true, true
	}
	var a, b [12]byte
	for i := int64(0); i < 1000; i++ {
		if bytes.Equal(nonce(&a, i), nonce(&b, i+1)) {
			t.Fatal("consecutive chunks share a nonce")
		}
	}
}

func TestEncryptSourceError(t *testing.T) {
	boom := errors.New("boom")
	er, err := NewEncryptReader(testKey(t, "e"), "x", iotest.ErrReader(boom), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(er); !errors.Is(err, boom) {
		t.Fatalf("source error not reported: %v", err)
	}
	if _, err := NewEncryptReader(testKey(t, "e"), "x", bytes.NewReader(nil), 100); err == nil {
		t.Fatal("chunk size below minimum accepted")
	}
}
