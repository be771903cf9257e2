package storage

import (
	"context"
	"io"

	"golang.org/x/sync/errgroup"
)

// uploadParts streams r in parts of partSize bytes and calls upload for each
// (numbered from 1), with at most conc uploads in flight and at most conc
// part buffers allocated: memory is conc*partSize whatever the object size.
// first is an already filled first part (its buffer, of capacity partSize,
// counts as one of the conc). It returns the number of parts uploaded; on
// any error it waits for the uploads in flight and returns the first error.
func uploadParts(ctx context.Context, r io.Reader, first []byte, partSize, conc int,
	upload func(ctx context.Context, num int, data []byte) error) (int, error) {
	if conc < 1 {
		conc = 1
	}
	free := make(chan []byte, conc)
	for range conc - 1 {
		free <- nil // allocated on first use
	}
	g, gctx := errgroup.WithContext(ctx)
	num := 0
	cur, eof := first, false
	var readErr error
	for {
		if cur == nil {
			var b []byte
			select {
			case b = <-free:
			case <-gctx.Done():
			}
			if gctx.Err() != nil {
				break
			}
			if b == nil {
				b = make([]byte, partSize)
			}
			n, end, err := readFull(r, b[:partSize])
			if err != nil {
				readErr = err
				break
			}
			eof = end
			if n == 0 {
				break
			}
			cur = b[:n]
		}
		num++
		part, data := num, cur
		g.Go(func() error {
			defer func() { free <- data[:cap(data)] }()
			return upload(gctx, part, data)
		})
		cur = nil
		if eof {
			break
		}
	}
	werr := g.Wait()
	if readErr != nil {
		return num, readErr
	}
	if werr != nil {
		return num, werr
	}
	return num, ctx.Err()
}
