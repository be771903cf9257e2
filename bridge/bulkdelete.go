package bridge

import (
	"context"
	"sync"

	"github.com/flashback-network/flashback/storage"
)

// bulkDeletes is how many bookkeeping keys (parts, their checksum and hash
// records) a completion or an abort deletes at once: each delete is a
// round trip or two on a backend behind a network hop, and an upload may
// have thousands of parts.
const bulkDeletes = 16

// inParallel calls fn(i) for i in [0, n), limit calls at a time, and waits
// for all of them.
func inParallel(n, limit int, fn func(i int)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, limit)
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(i)
		}()
	}
	wg.Wait()
}

// deleteKeys deletes bkeys, bulkDeletes at a time, and returns the first
// error (the others are still attempted).
func (g *gateway) deleteKeys(ctx context.Context, br bucketRef, bkeys []string) error {
	ctx = storage.Detach(ctx) // shared by the goroutines below
	errs := make([]error, len(bkeys))
	inParallel(len(bkeys), bulkDeletes, func(i int) { errs[i] = g.deleteKey(ctx, br, bkeys[i]) })
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
