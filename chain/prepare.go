package chain

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/flashback-network/flashback/contract"
	"github.com/flashback-network/flashback/tx"
)

// preparedBlock holds a block's txs prepared (decoded, signatures verified
// in batches, messages decoded) in chunks, by background workers and by the
// executing goroutine itself: execution, which must be sequential, prepares
// a chunk whenever the tx it needs is not ready yet, instead of sleeping
// while more goroutines than cores compete (a woken executor would wait for
// a worker's time slice to end). Preparing reads no state, so the results
// equal those of preparing each tx just before it runs.
type preparedBlock struct {
	raws   [][]byte
	keys   *tx.KeyCache
	txs    []*contract.PreparedTx
	ready  []chan struct{}
	chunk  int
	chunks int
	// next is the next chunk to claim; chunks are claimed in block order,
	// so the first txs are ready first.
	next atomic.Int64
	wg   sync.WaitGroup
}

// verifyChunk is how many txs are decoded and batch-verified at once:
// large enough for most of the batch speedup, small enough that a bad
// signature (which makes its batch verify one by one) costs little and
// that the first txs are ready soon.
const verifyChunk = 64

// prepareBlock starts preparing raws and returns at once; get returns one
// tx, preparing chunks itself while it is not ready. workers counts the
// executing goroutine (GOMAXPROCS when workers < 1), so workers-1 goroutines
// start in the background.
func prepareBlock(raws [][]byte, workers int, keys *tx.KeyCache) *preparedBlock {
	pb := &preparedBlock{
		raws:  raws,
		keys:  keys,
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
	pb.chunk = max(1, min(verifyChunk, (len(raws)+workers-1)/workers))
	pb.chunks = (len(raws) + pb.chunk - 1) / pb.chunk
	background := max(0, min(workers, pb.chunks)-1)
	pb.wg.Add(background)
	for range background {
		go func() {
			defer pb.wg.Done()
			for pb.prepareNext() {
			}
		}()
	}
	return pb
}

// prepareNext claims the next unclaimed chunk and prepares it; false when
// every chunk is claimed.
func (pb *preparedBlock) prepareNext() bool {
	c := int(pb.next.Add(1) - 1)
	if c >= pb.chunks {
		return false
	}
	lo := c * pb.chunk
	pb.prepareChunk(pb.raws, lo, min(lo+pb.chunk, len(pb.raws)), pb.keys)
	return true
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

// get returns tx i once it is prepared, preparing unclaimed chunks
// meanwhile.
func (pb *preparedBlock) get(i int) *contract.PreparedTx {
	for {
		select {
		case <-pb.ready[i]:
			return pb.txs[i]
		default:
		}
		if !pb.prepareNext() {
			// A worker is preparing tx i's chunk.
			<-pb.ready[i]
			return pb.txs[i]
		}
	}
}

// wait blocks until every worker has stopped.
func (pb *preparedBlock) wait() { pb.wg.Wait() }
