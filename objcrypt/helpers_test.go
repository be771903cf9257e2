package objcrypt

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
)

const testCS = MinChunkSize // small chunks: many boundaries in little data

func testKey(t testing.TB, repo string) MasterKey {
	t.Helper()
	mk, err := DeriveMasterKey(bytes.Repeat([]byte{7}, 32), "fb1owner", repo)
	if err != nil {
		t.Fatal(err)
	}
	return mk
}

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func encrypt(t testing.TB, mk MasterKey, name string, plain []byte, cs int) []byte {
	t.Helper()
	er, err := NewEncryptReader(mk, name, bytes.NewReader(plain), cs)
	if err != nil {
		t.Fatal(err)
	}
	ct, err := io.ReadAll(er)
	if err != nil {
		t.Fatal(err)
	}
	return ct
}

func decryptAll(mk MasterKey, name string, ct []byte) ([]byte, error) {
	r, err := OpenReader(mk, name, int64(len(ct)), bytes.NewReader(ct))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

func decrypter(t testing.TB, mk MasterKey, name string, ct []byte) *Decrypter {
	t.Helper()
	h, err := ParseHeader(ct)
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDecrypter(mk, name, h, int64(len(ct)))
	if err != nil {
		t.Fatal(err)
	}
	return d
}
