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
// checksum) and writing dst run on their own goroutine, concurrently with
// the hashing, so that the two hashes of an upload use two cores instead
// of running one after the other. Small bodies (at most one buffer, by
// size when known) are copied inline. src and dst are never used after
// copyHashed returns.
func copyHashed(dst io.Writer, src io.Reader, size int64, h hash.Hash) (int64, error) {
	if size >= 0 && size <= copyBufSize {
		bp := copyBufPool.Get().(*[]byte)
		defer copyBufPool.Put(bp)
		return io.CopyBuffer(onlyWriter{io.MultiWriter(h, dst)}, src, *bp)
	}
	type filled struct {
		buf *[]byte
		n   int
	}
	free := make(chan *[]byte, pipeBuffers)
	full := make(chan filled, pipeBuffers)
	for range pipeBuffers {
		free <- copyBufPool.Get().(*[]byte)
	}
	var written int64
	var ioErr error // set by the copying goroutine before it closes full
	go func() {
		defer close(full)
		for {
			bp := <-free // the hashing loop gives every buffer back
			n, err := io.ReadFull(src, *bp)
			if err == io.ErrUnexpectedEOF {
				err = io.EOF
			}
			if n > 0 {
				w, werr := dst.Write((*bp)[:n])
				written += int64(w)
				if werr != nil {
					err = werr
				}
			}
			full <- filled{bp, n}
			if err != nil {
				if err != io.EOF {
					ioErr = err
				}
				return
			}
		}
	}()
	for f := range full {
		h.Write((*f.buf)[:f.n])
		select {
		case free <- f.buf:
		default: // cannot happen: at most pipeBuffers buffers exist
			copyBufPool.Put(f.buf)
		}
	}
	// The copying goroutine has exited (full is closed).
	for {
		select {
		case bp := <-free:
			copyBufPool.Put(bp)
		default:
			return written, ioErr
		}
	}
}
