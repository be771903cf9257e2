package objcrypt

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func FuzzParseHeader(f *testing.F) {
	h, _ := NewHeader(0)
	hb := h.Marshal()
	f.Add(hb[:])
	f.Add([]byte("FBEC"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b)
		if err != nil {
			if !errors.Is(err, ErrHeader) {
				t.Fatalf("error %v is not ErrHeader", err)
			}
			return
		}
		if got := h.Marshal(); !bytes.Equal(got[:], b[:HeaderSize]) {
			t.Fatalf("header does not round-trip")
		}
	})
}

// FuzzDecryptReader feeds arbitrary stored bytes (the seeds are real
// objects under fuzzKey) to the full and the range readers: no panic, no
// unauthenticated output, and a range read agrees with the full read.
func FuzzDecryptReader(f *testing.F) {
	mk := fuzzKey(f)
	for _, n := range []int{0, 1, testCS, testCS + 1, 3*testCS - 1} {
		f.Add(encrypt(f, mk, "fuzz", randBytes(uint64(n), n), testCS), uint32(n/2), uint32(testCS))
	}
	f.Fuzz(func(t *testing.T, ct []byte, off, n uint32) {
		full, ferr := decryptAll(mk, "fuzz", ct)
		if ferr != nil {
			var ce *ChunkError
			if !errors.As(ferr, &ce) && !errors.Is(ferr, ErrHeader) && !errors.Is(ferr, ErrSize) {
				t.Fatalf("unexpected error type: %v", ferr)
			}
			return
		}
		if ps, _ := PlaintextSize(int64(len(ct)), testCS); int64(len(full)) != ps {
			t.Fatalf("decrypted %d bytes, size says %d", len(full), ps)
		}
		h, _ := ParseHeader(ct)
		d, err := NewDecrypter(mk, "fuzz", h, int64(len(ct)))
		if err != nil {
			t.Fatal(err)
		}
		sp, err := d.MapRange(int64(off), int64(n))
		if err != nil {
			return
		}
		got, err := io.ReadAll(d.NewReader(bytes.NewReader(ct[sp.Off:sp.Off+sp.Len]), sp))
		end := min(int64(off)+int64(n), int64(len(full)))
		if err != nil || !bytes.Equal(got, full[off:end]) {
			t.Fatalf("range %d+%d disagrees with the full read: %v", off, n, err)
		}
	})
}

func fuzzKey(t testing.TB) MasterKey { return testKey(t, "fuzz") }
