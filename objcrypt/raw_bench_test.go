package objcrypt

import "testing"

// BenchmarkRawSeal is the AES-GCM ceiling on this machine (one 64 KiB
// chunk per Seal), to tell the format's overhead from the cipher's.
func BenchmarkRawSeal(b *testing.B) {
	mk := testKey(b, "raw")
	h, _ := NewHeader(0)
	aead, err := newAEAD(mk, h)
	if err != nil {
		b.Fatal(err)
	}
	pt := randBytes(2, DefaultChunkSize)
	out := make([]byte, 0, DefaultChunkSize+TagSize)
	var nb [12]byte
	b.SetBytes(DefaultChunkSize)
	for i := int64(0); b.Loop(); i++ {
		out = aead.Seal(out[:0], nonce(&nb, i), pt, nil)
	}
}
