package contract

import (
	"bytes"

	"github.com/flashback-network/flashback/contract/qos"
	"github.com/flashback-network/flashback/contract/store"
)

// The QoS history kept in state (per-unit epoch entries and per-epoch
// network stats) is bounded to history_epochs, so state does not grow with
// the chain's age. Nodes keep every entry they have seen in an archive
// outside consensus (the chain package's index), and the QoS queries read
// ranges older than the kept window from it. The archive is an index, not
// state: it is fed from the writes of executed blocks and never affects the
// app hash.

// archivedPrefixes are the key ranges the archive keeps.
// qos.HistoryPrefixes lists them in key order.
func archivedPrefixes() [][]byte { return qos.HistoryPrefixes() }

func archived(key []byte) bool {
	for _, p := range archivedPrefixes() {
		if bytes.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// ArchiveWrites calls fn, in key order, for every history entry set in c
// (typically a block's cache before it is written). Deletions are not passed
// on: a delete is history falling out of the kept window, which is exactly
// what the archive is there to keep.
func ArchiveWrites(c *store.Cache, fn func(key, value []byte)) {
	for _, p := range archivedPrefixes() { // sorted: the writes come in key order
		c.EachSet(p, fn)
	}
}

// QueryArchived answers a query like Query, with archive behind the kept
// history: history entries missing from kv are read from archive, and an
// entry present in both is taken from kv (state is authoritative). A nil
// archive is plain Query.
func QueryArchived(kv, archive store.KV, path string) ([]byte, error) {
	if archive == nil {
		return Query(kv, path)
	}
	return Query(archiveView{KV: kv, archive: archive}, path)
}

// archiveView overlays the archive under kv for the archived prefixes.
type archiveView struct {
	store.KV
	archive store.KV
}

func (v archiveView) Get(key []byte) []byte {
	if b := v.KV.Get(key); b != nil || !archived(key) {
		return b
	}
	return v.archive.Get(key)
}

// Iterate merges kv and the archive when the range lies inside one archived
// prefix (the history queries' ranges do); other ranges are kv's alone.
func (v archiveView) Iterate(start, end []byte, fn func(key, value []byte) bool) {
	if !v.inArchivedRange(start, end) {
		v.KV.Iterate(start, end, fn)
		return
	}
	type entry struct{ k, v []byte }
	var live, old []entry
	collect := func(dst *[]entry) func(k, val []byte) bool {
		return func(k, val []byte) bool {
			*dst = append(*dst, entry{append([]byte(nil), k...), append([]byte(nil), val...)})
			return true
		}
	}
	v.KV.Iterate(start, end, collect(&live))
	v.archive.Iterate(start, end, collect(&old))
	i, j := 0, 0
	for i < len(live) || j < len(old) {
		var e entry
		switch {
		case j == len(old) || (i < len(live) && bytes.Compare(live[i].k, old[j].k) < 0):
			e = live[i]
			i++
		case i == len(live) || bytes.Compare(old[j].k, live[i].k) < 0:
			e = old[j]
			j++
		default: // same key: state wins
			e = live[i]
			i++
			j++
		}
		if !fn(e.k, e.v) {
			return
		}
	}
}

func (v archiveView) inArchivedRange(start, end []byte) bool {
	if start == nil || end == nil {
		return false
	}
	for _, p := range archivedPrefixes() {
		if bytes.HasPrefix(start, p) && bytes.Compare(end, store.PrefixEnd(p)) <= 0 {
			return true
		}
	}
	return false
}
