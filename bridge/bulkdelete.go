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

// deleteKeys deletes bkeys, bulkDeletes at a time, and returns the first
// error (the others are still attempted).
func (g *gateway) deleteKeys(ctx context.Context, br bucketRef, bkeys []string) error {
	ctx = storage.Detach(ctx) // shared by the goroutines below
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	sem := make(chan struct{}, bulkDeletes)
	for _, k := range bkeys {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := g.deleteKey(ctx, br, k); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}
