package objcrypt

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// mustFail checks that decrypting ct as name under mk fails without
// delivering any plaintext that is not the original's.
func mustFail(t *testing.T, what string, mk MasterKey, name string, ct, plain []byte) {
	t.Helper()
	got, err := decryptAll(mk, name, ct)
	if err == nil {
		t.Fatalf("%s: not detected", what)
	}
	if !bytes.HasPrefix(plain, got) {
		t.Fatalf("%s: delivered %d bytes that are not a prefix of the plaintext", what, len(got))
	}
}

func chunkErr(t *testing.T, err error) *ChunkError {
	t.Helper()
	var ce *ChunkError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v is not a *ChunkError", err)
	}
	return ce
}

func TestTamperEveryByte(t *testing.T) {
	mk := testKey(t, "tamper")
	plain := randBytes(5, 2*testCS+300)
	ct := encrypt(t, mk, "obj", plain, testCS)
	for i := range ct {
		bad := bytes.Clone(ct)
		bad[i] ^= 0x01
		mustFail(t, "flip", mk, "obj", bad, plain)
	}
}

func TestTamperStructure(t *testing.T) {
	mk := testKey(t, "tamper")
	plain := randBytes(6, 3*testCS+10)
	ct := encrypt(t, mk, "obj", plain, testCS)
	d := decrypter(t, mk, "obj", ct)
	full := int(d.ChunkOffset(1) - d.ChunkOffset(0))
	c0, c1 := int(d.ChunkOffset(0)), int(d.ChunkOffset(1))

	swapped := bytes.Clone(ct)
	copy(swapped[c0:c1], ct[c1:c1+full])
	copy(swapped[c1:c1+full], ct[c0:c1])
	_, err := decryptAll(mk, "obj", swapped)
	if ce := chunkErr(t, err); ce.Index != 0 || !errors.Is(err, ErrAuth) {
		t.Fatalf("swapped chunks: %v", err)
	}
	// Dropping the last chunk leaves a valid size whose new last chunk
	// was not sealed as final.
	mustFail(t, "truncated at a chunk boundary", mk, "obj", ct[:d.ChunkOffset(3)], plain)
	mustFail(t, "truncated to the header", mk, "obj", ct[:HeaderSize], plain)
	mustFail(t, "truncated mid-chunk", mk, "obj", ct[:len(ct)-3], plain)
	mustFail(t, "extended", mk, "obj", append(bytes.Clone(ct), ct[c1:c1+full]...), plain)
	mustFail(t, "wrong key", testKey(t, "other"), "obj", ct, plain)
	mustFail(t, "wrong name", mk, "obj2", ct, plain)

	// A chunk of another object (same key, same name) does not fit.
	other := encrypt(t, mk, "obj", plain, testCS)
	mixed := bytes.Clone(ct)
	copy(mixed[c1:c1+full], other[c1:c1+full])
	_, err = decryptAll(mk, "obj", mixed)
	if ce := chunkErr(t, err); ce.Index != 1 {
		t.Fatalf("chunk from another object: %v", err)
	}
	// The stream delivered chunk 0 in full before failing on chunk 1.
	r, _ := OpenReader(mk, "obj", int64(len(mixed)), bytes.NewReader(mixed))
	got, _ := io.ReadAll(r)
	if !bytes.Equal(got, plain[:testCS]) {
		t.Fatalf("delivered %d bytes before the bad chunk, want %d", len(got), testCS)
	}
	// Header with a changed chunk size (still valid) breaks every chunk.
	hb := bytes.Clone(ct)
	hb[8] ^= 0x08 // 1024 -> 3072
	mustFail(t, "chunk size changed", mk, "obj", hb, plain)
}

func TestDecryptChunkBounds(t *testing.T) {
	mk := testKey(t, "b")
	ct := encrypt(t, mk, "o", randBytes(1, 100), testCS)
	d := decrypter(t, mk, "o", ct)
	for _, i := range []int64{-1, 1, 1 << 40} {
		if _, err := d.DecryptChunk(nil, i, ct[HeaderSize:]); !errors.Is(err, ErrAuth) {
			t.Errorf("chunk %d: %v", i, err)
		}
	}
	if _, err := d.DecryptChunk(nil, 0, ct[HeaderSize:len(ct)-1]); !errors.Is(err, ErrAuth) {
		t.Errorf("short chunk: %v", err)
	}
	if _, err := OpenReader(mk, "o", int64(len(ct)), bytes.NewReader(ct[:10])); !errors.Is(err, ErrHeader) {
		t.Errorf("short header: %v", err)
	}
}

// TestResumeFromOtherCopy: copy A has a bad chunk; the reader fails on it
// with its index, and goes on from copy B, another member's replica of the
// same stored bytes (a re-encryption would have another salt and not fit).
func TestResumeFromOtherCopy(t *testing.T) {
	mk := testKey(t, "resume")
	plain := randBytes(8, 5*testCS+77)
	good := encrypt(t, mk, "obj", plain, testCS)
	bad := bytes.Clone(good)
	d := decrypter(t, mk, "obj", good)
	bad[d.ChunkOffset(3)+5] ^= 0xff

	for _, rng := range [][2]int64{{0, int64(len(plain))}, {testCS + 17, 3 * testCS}, {3*testCS + 1, 5}} {
		sp, err := d.MapRange(rng[0], rng[1])
		if err != nil {
			t.Fatal(err)
		}
		r := d.NewReader(bytes.NewReader(bad[sp.Off:sp.Off+sp.Len]), sp)
		var out bytes.Buffer
		_, err = io.Copy(&out, r)
		ce := chunkErr(t, err)
		if ce.Index != 3 || !errors.Is(err, ErrAuth) {
			t.Fatalf("range %v: failed with %v, want chunk 3 auth", rng, err)
		}
		rest := r.Remaining()
		if rest.FirstChunk != 3 || rest.Off != d.ChunkOffset(3) {
			t.Fatalf("range %v: remaining %+v", rng, rest)
		}
		r.Resume(bytes.NewReader(good[rest.Off : rest.Off+rest.Len]))
		if _, err := io.Copy(&out, r); err != nil {
			t.Fatalf("range %v: resumed read: %v", rng, err)
		}
		want := plain[rng[0]:min(rng[0]+rng[1], int64(len(plain)))]
		if !bytes.Equal(out.Bytes(), want) {
			t.Fatalf("range %v: resumed output differs (%d vs %d bytes)", rng, out.Len(), len(want))
		}
	}
	// Chunk by chunk from whichever copy authenticates.
	var out []byte
	for i := int64(0); i < d.Chunks(); i++ {
		lo, hi := d.ChunkOffset(i), d.ChunkOffset(i)+int64(d.ChunkCipherLen(i))
		var err error
		if out, err = d.DecryptChunk(out, i, bad[lo:hi]); err != nil {
			if chunkErr(t, err).Index != i {
				t.Fatalf("wrong index in %v", err)
			}
			if out, err = d.DecryptChunk(out, i, good[lo:hi]); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !bytes.Equal(out, plain) {
		t.Fatal("chunk-by-chunk repair differs")
	}
}

// TestReaderSourceError: a source dying mid-stream is a ChunkError too,
// resumable at the chunk it died in.
func TestReaderSourceError(t *testing.T) {
	mk := testKey(t, "src")
	plain := randBytes(9, 4*testCS)
	ct := encrypt(t, mk, "o", plain, testCS)
	d := decrypter(t, mk, "o", ct)
	cut := d.ChunkOffset(2) + 100
	r := d.NewReader(bytes.NewReader(ct[HeaderSize:cut]), d.FullSpan())
	got, err := io.ReadAll(r)
	if ce := chunkErr(t, err); ce.Index != 2 || !errors.Is(err, ErrTruncated) || len(got) != 2*testCS {
		t.Fatalf("cut source: %v after %d bytes", err, len(got))
	}
	r.Resume(bytes.NewReader(ct[r.Remaining().Off:]))
	rest, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(append(got, rest...), plain) {
		t.Fatalf("resume after source error: %v", err)
	}
}
