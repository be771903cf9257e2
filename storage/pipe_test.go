package storage

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"testing"
	"time"
)

// hashingReader hashes what is read from it, as the S3 front's signed
// payload reader does with SHA-256.
type hashingReader struct {
	r io.Reader
	h hash.Hash
}

func (s *hashingReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.h.Write(p[:n])
	return n, err
}

type failingWriter struct{ after int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.after -= len(p); f.after < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestCopyHashed(t *testing.T) {
	for _, n := range []int{0, 1, copyBufSize, copyBufSize + 1, 5*copyBufSize + 77} {
		data := randBytes(uint64(n), n)
		for _, size := range []int64{int64(n), -1} {
			var out bytes.Buffer
			h := md5.New()
			got, err := copyHashed(&out, bytes.NewReader(data), size, h)
			if err != nil || got != int64(n) || !bytes.Equal(out.Bytes(), data) || md5hex(data) != hexSum(h) {
				t.Fatalf("n=%d size=%d: copied %d, %v; content equal %v, md5 equal %v", n, size, got, err,
					bytes.Equal(out.Bytes(), data), md5hex(data) == hexSum(h))
			}
		}
	}
	data := randBytes(7, 3*copyBufSize)
	readErr := errors.New("connection reset")
	r := io.MultiReader(bytes.NewReader(data), errReader{readErr})
	if _, err := copyHashed(io.Discard, r, -1, md5.New()); !errors.Is(err, readErr) {
		t.Errorf("reader error: %v", err)
	}
	if _, err := copyHashed(&failingWriter{after: copyBufSize}, bytes.NewReader(data), -1, md5.New()); err == nil || err.Error() != "disk full" {
		t.Errorf("writer error: %v", err)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// BenchmarkPutHashing: a 64 MiB body read through a SHA-256 reader into a
// file-like sink with its MD5, pipelined (copyHashed) against one after
// the other in the same run. Reports speedup = serial time / pipelined.
func BenchmarkPutHashing(b *testing.B) {
	const size = 64 << 20
	data := randBytes(1, 1<<20)
	body := func() io.Reader {
		return &hashingReader{r: io.LimitReader(&cycleReader{b: data}, size), h: sha256.New()}
	}
	var piped, serial time.Duration
	buf := make([]byte, copyBufSize)
	for b.Loop() {
		start := time.Now()
		if _, err := copyHashed(io.Discard, body(), size, md5.New()); err != nil {
			b.Fatal(err)
		}
		piped += time.Since(start)
		start = time.Now()
		if _, err := io.CopyBuffer(onlyWriter{io.MultiWriter(md5.New(), io.Discard)}, body(), buf); err != nil {
			b.Fatal(err)
		}
		serial += time.Since(start)
	}
	b.ReportMetric(float64(serial)/float64(piped), "speedup")
	b.ReportMetric(float64(size)*float64(b.N)/piped.Seconds()/(1<<20), "MiB/s-pipelined")
}

type cycleReader struct {
	b   []byte
	off int
}

func (c *cycleReader) Read(p []byte) (int, error) {
	n := copy(p, c.b[c.off:])
	c.off = (c.off + n) % len(c.b)
	return n, nil
}
