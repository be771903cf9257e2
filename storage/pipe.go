package storage

import (
	"hash"
	"io"
)

// pipeBuffers is how many copy buffers one pipelined copy uses (its memory
// is pipeBuffers*copyBufSize, whatever the object size).
const pipeBuffers = 4

// copyHashed copies src to dst and feeds every byte to h. Reading src (and
// whatever src computes while read: the SHA-256 of a signed payload, a
// checksum) runs on its own goroutine, concurrently with hashing and
// writing, so that the two hashes of an upload use two cores instead of
// running one after the other. Small bodies (at most one buffer, by size
// when known) are copied inline. src is never read after copyHashed
// returns.
func copyHashed(dst io.Writer, src io.Reader, size int64, h hash.Hash) (int64, error) {
	if size >= 0 && size <= copyBufSize {
		bp := copyBufPool.Get().(*[]byte)
		defer copyBufPool.Put(bp)
		return io.CopyBuffer(onlyWriter{io.MultiWriter(h, dst)}, src, *bp)
	}
	type filled struct {
		buf *[]byte
		n   int
		err error
	}
	free := make(chan *[]byte, pipeBuffers)
	full := make(chan filled, pipeBuffers)
	stop := make(chan struct{})
	for range pipeBuffers {
		free <- copyBufPool.Get().(*[]byte)
	}
	go func() {
		defer close(full)
		for {
			var bp *[]byte
			select {
			case bp = <-free:
			case <-stop:
				return
			}
			n, err := io.ReadFull(src, *bp)
			if err == io.ErrUnexpectedEOF {
				err = io.EOF
			}
			full <- filled{bp, n, err}
			if err != nil {
				return
			}
		}
	}()
	var written int64
	var werr error
	for f := range full {
		if werr == nil && f.n > 0 {
			h.Write((*f.buf)[:f.n])
			var n int
			n, werr = dst.Write((*f.buf)[:f.n])
			written += int64(n)
			if werr != nil {
				close(stop)
			}
		}
		if werr == nil && f.err != nil && f.err != io.EOF {
			werr = f.err
		}
		if werr == nil && f.err == nil {
			free <- f.buf // cannot block: at most pipeBuffers buffers exist
		} else {
			copyBufPool.Put(f.buf)
		}
	}
	// The reader has exited (full is closed): give back the buffers it
	// never took.
	for {
		select {
		case bp := <-free:
			copyBufPool.Put(bp)
		default:
			return written, werr
		}
	}
}
