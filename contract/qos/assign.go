package qos

// Oracle assignment (issue 13).
//
// At the first block of each epoch e (BeginBlock, before any tx) the
// epoch's seed is fixed from the previous block's hash, with the epoch's
// oracle set: the eligible oracles (active, not jailed; q/oe/ index) in
// address order, at most MaxEpochOracles. The oracles assigned to unit u
// in e are the first oracles_per_unit of that set, leaving out u's owner
// and the accounts it declared related, ordered by
// sha256(seed || e || u || oracle). The seed exists only once e has begun,
// so a provider cannot predict its auditors more than an epoch ahead.
//
// A report for a unit by an oracle not assigned to it is refused
// (not_assigned), and a unit's quorum is counted over its assigned set.
// An epoch whose set is empty (no oracle was eligible at its first block)
// or that had no block keeps the rule of before: any active oracle other
// than the owner and its related accounts reports, quorum over the active
// oracles, no misses.
//
//	q/as/{epoch}          seed (32 bytes) then the set's raw addresses
//	q/oe/{oracle}         eligible oracle index
//	q/rel/{owner}         the owner's related accounts: (from epoch, raw address)...

import (
	"bytes"
	"crypto/sha256"
	"sort"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/store"
)

// MaxEpochOracles bounds an epoch's oracle set: the assignment of a unit
// hashes every member, and the set is stored once per epoch.
const MaxEpochOracles = 128

var (
	keyAssign   = []byte("q/as/")
	keyEligible = []byte("q/oe/")
	keyRelated  = []byte("q/rel/")
)

const seedLen = sha256.Size

func assignKey(e int64) []byte { return store.Key(keyAssign, store.EncodeUint64(uint64(e))) }

func setEligible(kv store.KV, raw []byte, on bool) {
	if on {
		kv.Set(store.Key(keyEligible, raw), []byte{})
	} else {
		kv.Delete(store.Key(keyEligible, raw))
	}
}

// epochSet is an epoch's fixed seed and oracle set.
type epochSet struct {
	seed    []byte
	oracles [][]byte // raw addresses, address order
}

// getEpochSet is epoch e's seed and oracle set, decoded once per block
// (store.Memo): every report and every unit-epoch of the miss phase reads it.
func getEpochSet(kv store.KV, e int64) (epochSet, bool) {
	s := store.Memo(kv, assignKey(e), decodeEpochSet)
	return s, s.seed != nil
}

// decodeEpochSet decodes a stored set (a copy: Memo's decoders must not keep
// their input); a malformed or missing one has a nil seed.
func decodeEpochSet(b []byte) epochSet {
	if len(b) < seedLen || (len(b)-seedLen)%address.Len != 0 {
		return epochSet{}
	}
	b = append([]byte(nil), b...)
	s := epochSet{seed: b[:seedLen]}
	for i := seedLen; i < len(b); i += address.Len {
		s.oracles = append(s.oracles, b[i:i+address.Len])
	}
	return s
}

// fixEpochSet records epoch cur's seed and oracle set unless the epoch has
// them already (only its first block writes them), and drops the sets of
// epochs older than the history kept (a few per block).
func fixEpochSet(kv store.KV, blk core.Block, q qosParams, cur int64) []core.Event {
	k := assignKey(cur)
	if kv.Get(k) != nil {
		return nil
	}
	h := sha256.New()
	h.Write([]byte("flashback/qos/assign"))
	h.Write(store.EncodeUint64(uint64(cur)))
	h.Write(blk.PrevHash)
	val := h.Sum(nil)
	n := 0
	kv.Iterate(keyEligible, store.PrefixEnd(keyEligible), func(k, _ []byte) bool {
		val = append(val, k[len(keyEligible):]...)
		n++
		return n < MaxEpochOracles
	})
	kv.Set(k, val)
	// Kept for the history's epochs, and at least until the epoch-end work
	// of every epoch that still takes reports has read them.
	if old := cur - max(q.History, q.Lag+q.Grace+q.Hold+4); old > 0 {
		for _, dk := range keysIn(kv, keyAssign, assignKey(old), 4) {
			kv.Delete(dk)
		}
	}
	return []core.Event{{Type: "qos_assignment", Attrs: []core.Attr{{Key: "epoch", Value: itoa(cur)}, {Key: "oracles", Value: itoa(int64(n))}}}}
}

// assignedOracles are the oracles assigned to unit n (owned by owner) in
// epoch e, in assignment order; fixed is false when e keeps the rule of
// before (no set, or an empty one).
func assignedOracles(kv store.KV, q qosParams, e int64, n uint64, owner []byte) (out [][]byte, fixed bool) {
	s, ok := getEpochSet(kv, e)
	if !ok || len(s.oracles) == 0 {
		return nil, false
	}
	type ranked struct {
		h   [32]byte
		raw []byte
	}
	var rs []ranked
	related := relatedTo(kv, owner, e)
	for _, o := range s.oracles {
		if related(o) {
			continue
		}
		var buf []byte
		buf = append(buf, s.seed...)
		buf = append(buf, store.EncodeUint64(uint64(e))...)
		buf = append(buf, store.EncodeUint64(n)...)
		buf = append(buf, o...)
		rs = append(rs, ranked{h: sha256.Sum256(buf), raw: o})
	}
	sort.Slice(rs, func(i, j int) bool { return bytes.Compare(rs[i].h[:], rs[j].h[:]) < 0 })
	for i := 0; i < len(rs) && i < q.PerUnit; i++ {
		out = append(out, rs[i].raw)
	}
	return out, true
}

// assignedCount is len(assignedOracles(...)) without drawing (no hashing:
// the quorum needs only the size of the assigned set).
func assignedCount(kv store.KV, q qosParams, e int64, n uint64, owner []byte) (count int, fixed bool) {
	s, ok := getEpochSet(kv, e)
	if !ok || len(s.oracles) == 0 {
		return 0, false
	}
	related := relatedTo(kv, owner, e)
	for _, o := range s.oracles {
		if !related(o) {
			count++
		}
	}
	return min(count, q.PerUnit), true
}

// AssignedOracles are the bech32 addresses of the oracles assigned to unit
// n in epoch e (fixed false: e assigns none, see the top of this file).
func AssignedOracles(kv store.KV, e int64, n uint64) (addrs []string, fixed bool, err error) {
	u, ok := market.GetUnitN(kv, n)
	if !ok {
		return nil, false, core.Errf(core.CodeNotFound, "unit %s not found", market.UnitIDString(n))
	}
	owner, perr := address.Parse(u.Provider)
	if perr != nil {
		return nil, false, perr
	}
	raws, fixed := assignedOracles(kv, getQoSParams(kv), e, n, owner)
	for _, r := range raws {
		addrs = append(addrs, address.Encode(r))
	}
	return addrs, fixed, nil
}

// checkAssigned fails unless oracle may report unit u in epoch e.
func checkAssigned(kv store.KV, q qosParams, i int, e int64, n uint64, u *market.Unit, oracle []byte) error {
	owner, err := address.Parse(u.Provider)
	if err != nil {
		return err
	}
	assigned, fixed := assignedOracles(kv, q, e, n, owner)
	if !fixed {
		if isRelated(kv, owner, oracle, e) {
			return core.Errf(core.CodeNotAssigned, "units[%d]: oracle %s is the owner of %s or an account related to it: it never reports that provider's units", i, address.Encode(oracle), u.ID)
		}
		return nil
	}
	for _, a := range assigned {
		if bytes.Equal(a, oracle) {
			return nil
		}
	}
	return core.Errf(core.CodeNotAssigned, "units[%d]: oracle %s is not assigned to %s in epoch %d; report only the units GET /v1/oracles/{address}/assignments?epoch=%d lists",
		i, address.Encode(oracle), u.ID, e, e)
}
