package bridge

import (
	"crypto/sha256"
	"errors"
	"io"
	"sync"
)

// asyncHasher computes the SHA-256 of what is read through it on a
// goroutine of its own: the bytes are copied into recycled chunks and
// hashed beside the read → store (→ MD5) pipeline, so a large PUT's
// receipt costs a memory copy on that path rather than the hash itself.
// Bodies up to asyncHashMin are hashed inline (sha256Reader): a goroutine
// and buffers would cost more than they save.
type asyncHasher struct {
	r    io.Reader
	free chan []byte
	full chan []byte
	out  chan [sha256.Size]byte

	mu     sync.Mutex // Read against finish: the backend may still read after an error
	closed bool
	sum    [sha256.Size]byte
}

// asyncHashMin is a variable so that the benchmark can compare both ways.
var asyncHashMin int64 = 4 << 20

const (
	asyncHashChunk  = 256 << 10 // like the backends' copy buffers: 1 MiB per upload in all
	asyncHashChunks = 4
)

var hashChunkPool = sync.Pool{New: func() any { b := make([]byte, asyncHashChunk); return &b }}

var errHasherClosed = errors.New("bridge: body read after its write ended")

func newAsyncHasher(r io.Reader) *asyncHasher {
	a := &asyncHasher{r: r, free: make(chan []byte, asyncHashChunks), full: make(chan []byte, asyncHashChunks), out: make(chan [sha256.Size]byte, 1)}
	for range asyncHashChunks {
		a.free <- *hashChunkPool.Get().(*[]byte)
	}
	go func() {
		h := sha256.New()
		for b := range a.full {
			h.Write(b)
			a.free <- b[:cap(b)]
		}
		var d [sha256.Size]byte
		h.Sum(d[:0])
		a.out <- d
	}()
	return a
}

func (a *asyncHasher) Read(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return 0, errHasherClosed
	}
	n, err := a.r.Read(p)
	for data := p[:n]; len(data) > 0; {
		b := <-a.free
		m := copy(b, data)
		a.full <- b[:m]
		data = data[m:]
	}
	return n, err
}

// finish stops the hashing (once; later reads fail) and returns the
// SHA-256 of everything read.
func (a *asyncHasher) finish() [sha256.Size]byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.closed {
		a.closed = true
		close(a.full)
		a.sum = <-a.out
		for range asyncHashChunks {
			b := <-a.free
			hashChunkPool.Put(&b)
		}
	}
	return a.sum
}
