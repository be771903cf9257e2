package chain

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/flashback-network/flashback/contract"
)

// preparedBlock holds a block's txs prepared (decoded, signature verified,
// messages decoded) by a pool of workers, so that execution, which must be
// sequential, only waits for a tx that is not ready yet. Preparing reads no
// state, so the results equal those of preparing each tx just before it runs.
type preparedBlock struct {
	txs   []*contract.PreparedTx
	ready []chan struct{}
	wg    sync.WaitGroup
}

// prepareBlock starts preparing raws on workers goroutines (GOMAXPROCS when
// workers < 1) and returns at once; get waits for one tx.
func prepareBlock(raws [][]byte, workers int) *preparedBlock {
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
	workers = min(workers, len(raws))
	// Workers take txs in block order, so the first ones are ready first.
	var next atomic.Int64
	pb.wg.Add(workers)
	for range workers {
		go func() {
			defer pb.wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(raws) {
					return
				}
				pb.txs[i] = contract.PrepareTx(raws[i], contract.VerifySig)
				close(pb.ready[i])
			}
		}()
	}
	return pb
}

// get returns tx i once it is prepared.
func (pb *preparedBlock) get(i int) *contract.PreparedTx {
	<-pb.ready[i]
	return pb.txs[i]
}

// wait blocks until every worker has stopped.
func (pb *preparedBlock) wait() { pb.wg.Wait() }
