package chain

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/flashback-network/flashback/contract"
	"github.com/flashback-network/flashback/tx"
)

// preparedBlock holds a block's txs prepared (decoded, signatures verified
// in batches, messages decoded) by a pool of workers, so that execution, which must be
// sequential, only waits for a tx that is not ready yet. Preparing reads no
// state, so the results equal those of preparing each tx just before it runs.
type preparedBlock struct {
	txs   []*contract.PreparedTx
	ready []chan struct{}
	wg    sync.WaitGroup
}

// verifyChunk is how many txs a worker decodes and batch-verifies at once:
// large enough for most of the batch speedup, small enough that a bad
// signature (which makes its batch verify one by one) costs little and
// that the first txs are ready soon.
const verifyChunk = 64

// prepareBlock starts preparing raws on workers goroutines (GOMAXPROCS when
// workers < 1) and returns at once; get waits for one tx.
func prepareBlock(raws [][]byte, workers int, keys *tx.KeyCache) *preparedBlock {
	pb := &preparedBlock{
		txs:   make([]*contract.PreparedTx, len(raws)),
		ready: make([]chan struct{}, len(raws)),
	}
	for i := range pb.ready {
		pb.ready[i] = make(chan struct{})
	}
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}
	// Small blocks still spread over every worker.
	chunk := max(1, min(verifyChunk, (len(raws)+workers-1)/workers))
	chunks := (len(raws) + chunk - 1) / chunk
	workers = min(workers, chunks)
	// Workers take chunks in block order, so the first txs are ready first.
	var next atomic.Int64
	pb.wg.Add(workers)
	for range workers {
		go func() {
			defer pb.wg.Done()
			for {
				c := int(next.Add(1) - 1)
				if c >= chunks {
					return
				}
				lo := c * chunk
				pb.prepareChunk(raws, lo, min(lo+chunk, len(raws)), keys)
			}
		}()
	}
	return pb
}

// prepareChunk decodes raws[lo:hi], verifies their signatures in one batch
// and decodes their messages.
func (pb *preparedBlock) prepareChunk(raws [][]byte, lo, hi int, keys *tx.KeyCache) {
	decoded := make([]*tx.Decoded, 0, hi-lo)
	errs := make([]error, hi-lo)
	for i := lo; i < hi; i++ {
		d, err := tx.Decode(raws[i])
		if err != nil {
			errs[i-lo] = err
			continue
		}
		decoded = append(decoded, d)
	}
	ok := tx.VerifyBatch(decoded, keys)
	k := 0
	for i := lo; i < hi; i++ {
		if errs[i-lo] != nil {
			pb.txs[i] = contract.PrepareDecoded(nil, errs[i-lo], false)
		} else {
			pb.txs[i] = contract.PrepareDecoded(decoded[k], nil, ok[k])
			k++
		}
		close(pb.ready[i])
	}
}

// get returns tx i once it is prepared.
func (pb *preparedBlock) get(i int) *contract.PreparedTx {
	<-pb.ready[i]
	return pb.txs[i]
}

// wait blocks until every worker has stopped.
func (pb *preparedBlock) wait() { pb.wg.Wait() }
