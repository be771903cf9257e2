package chain

import (
	"fmt"

	idb "github.com/cosmos/iavl/db"

	"github.com/flashback-network/flashback/contract"
	"github.com/flashback-network/flashback/contract/store"
)

// Archive is the node's index of QoS history outside consensus: every
// history entry a block writes (contract.ArchiveWrites) is kept here after
// state prunes it past history_epochs, so GET /v1/stats/epochs and
// /v1/units/{id}/qos still answer for old epochs. It is rebuilt by replaying
// blocks (a node that syncs from genesis has the whole history) and never
// touches the app hash.
type Archive struct{ db idb.DB }

// OpenArchive opens (or creates) the archive database in dir.
func OpenArchive(dir string) (*Archive, error) {
	db, err := idb.NewGoLevelDB("archive", dir)
	if err != nil {
		return nil, fmt.Errorf("open archive db in %s: %w", dir, err)
	}
	return &Archive{db: db}, nil
}

// OpenMemArchive returns an archive kept in memory, for tests.
func OpenMemArchive() *Archive { return &Archive{db: idb.NewMemDB()} }

// add stores a block's history writes atomically and durably. Writing the
// same block twice (a crash between this and the state commit replays the
// block) writes the same values: the contract is deterministic.
func (a *Archive) add(c *store.Cache) error {
	b := a.db.NewBatch()
	defer b.Close()
	n := 0
	var err error
	contract.ArchiveWrites(c, func(k, v []byte) {
		if err == nil {
			err = b.Set(k, v)
			n++
		}
	})
	if err != nil {
		return fmt.Errorf("archive batch: %w", err)
	}
	if n == 0 {
		return nil
	}
	if err := b.WriteSync(); err != nil {
		return fmt.Errorf("archive write: %w", err)
	}
	return nil
}

// KV is the archive as a read-only store.KV.
func (a *Archive) KV() store.KV { return archiveKV{a.db} }

// Close closes the database.
func (a *Archive) Close() error { return a.db.Close() }

type archiveKV struct{ db idb.DB }

func (k archiveKV) Get(key []byte) []byte {
	v, err := k.db.Get(key)
	if err != nil {
		panic(fmt.Errorf("archive get: %w", err))
	}
	return v
}

func (k archiveKV) Set([]byte, []byte) { panic("chain: write to the archive through a query") }
func (k archiveKV) Delete([]byte)      { panic("chain: write to the archive through a query") }

func (k archiveKV) Iterate(start, end []byte, fn func(key, value []byte) bool) {
	it, err := k.db.Iterator(start, end)
	if err != nil {
		panic(fmt.Errorf("archive iterate: %w", err))
	}
	defer it.Close()
	for ; it.Valid(); it.Next() {
		if !fn(it.Key(), it.Value()) {
			return
		}
	}
}
