package chain

import (
	"fmt"

	dbm "github.com/cometbft/cometbft-db"
	abci "github.com/cometbft/cometbft/abci/types"
	cfg "github.com/cometbft/cometbft/config"
	sm "github.com/cometbft/cometbft/state"
	blockidxkv "github.com/cometbft/cometbft/state/indexer/block/kv"
	"github.com/cometbft/cometbft/state/txindex"
	"github.com/cometbft/cometbft/state/txindex/kv"
	"github.com/cometbft/cometbft/store"
	"github.com/cometbft/cometbft/types"
)

// reindexTail is how many of the newest blocks are re-indexed at start.
const reindexTail = 64

// reindexRecent re-indexes the newest blocks' txs and events before the node
// starts. CometBFT indexes txs asynchronously after a block commits, so a
// crash (kill -9) can leave committed txs missing from GET /v1/txs/{hash};
// indexing is idempotent, so redoing the tail on every start closes the gap.
func reindexRecent(c *cfg.Config) error {
	if c.TxIndex.Indexer != "kv" {
		return nil
	}
	open := func(name string) (dbm.DB, error) {
		return cfg.DefaultDBProvider(&cfg.DBContext{ID: name, Config: c})
	}
	bsDB, err := open("blockstore")
	if err != nil {
		return err
	}
	defer bsDB.Close()
	stDB, err := open("state")
	if err != nil {
		return err
	}
	defer stDB.Close()
	idxDB, err := open("tx_index")
	if err != nil {
		return err
	}
	defer idxDB.Close()

	bs := store.NewBlockStore(bsDB)
	ss := sm.NewStore(stDB, sm.StoreOptions{})
	txIdx := kv.NewTxIndex(idxDB)
	blkIdx := blockidxkv.New(dbm.NewPrefixDB(idxDB, []byte("block_events")))
	top := bs.Height()
	from := max(bs.Base(), top-reindexTail+1, 1)
	for h := from; h <= top; h++ {
		block := bs.LoadBlock(h)
		if block == nil {
			continue
		}
		resp, err := ss.LoadFinalizeBlockResponse(h)
		if err != nil {
			// Not yet executed (it will be replayed and indexed live).
			continue
		}
		if n := len(resp.TxResults); n > 0 && n == len(block.Txs) {
			batch := txindex.NewBatch(int64(n))
			for i, r := range resp.TxResults {
				if err := batch.Add(&abci.TxResult{Height: h, Index: uint32(i), Tx: block.Txs[i], Result: *r}); err != nil {
					return fmt.Errorf("reindex height %d: %w", h, err)
				}
			}
			if err := txIdx.AddBatch(batch); err != nil {
				return fmt.Errorf("reindex txs at height %d: %w", h, err)
			}
		}
		if err := blkIdx.Index(types.EventDataNewBlockEvents{Height: h, Events: resp.Events, NumTxs: int64(len(block.Txs))}); err != nil {
			return fmt.Errorf("reindex block events at height %d: %w", h, err)
		}
	}
	return nil
}
