package market

// What the dispute module needs of the market, kept apart from the market's
// own rules: a gate a unit's provider uses to refuse serial disputers, and
// a short log of the egress each usage report charged (an egress dispute
// names an epoch and is settled at the lower of the two figures).
//
//	m/ue/{res}{epoch}   egress log: egress used before the report, egress reported (8 + 8 bytes)

import (
	"encoding/binary"

	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/store"
)

// EgressLogEpochs is how many epochs of usage reports a reservation's
// egress log keeps (older entries are dropped as new reports come in): an
// egress dispute must name one of them.
const EgressLogEpochs = 48

var keyEgressLog = []byte("m/ue/")

// ConsumerGate may refuse a consumer a reservation on a unit (the dispute
// module refuses consumers with too many rejected disputes where the
// unit's provider asked for it).
type ConsumerGate interface {
	AdmitConsumer(kv store.KV, u *Unit, consumer string) error
}

// SetConsumerGate installs the gate handleReserve consults (nil: none).
func (mk *Keeper) SetConsumerGate(g ConsumerGate) { mk.gate = g }

func (mk *Keeper) admitConsumer(kv store.KV, u *Unit, consumer string) error {
	if mk.gate == nil {
		return nil
	}
	return mk.gate.AdmitConsumer(kv, u, consumer)
}

func egressLogKey(resN uint64, e int64) []byte {
	return store.Key(keyEgressLog, store.EncodeUint64(resN), store.EncodeUint64(uint64(e)))
}

// recordEgress logs a report's egress for epoch e and drops the entries
// more than EgressLogEpochs older (each report drops what the one before
// left, so the work per report stays small).
func recordEgress(kv store.KV, resN uint64, e int64, before, reported uint64) {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], before)
	binary.BigEndian.PutUint64(b[8:], reported)
	kv.Set(egressLogKey(resN, e), b[:])
	if old := e - EgressLogEpochs; old > 0 {
		prefix := store.Key(keyEgressLog, store.EncodeUint64(resN))
		var drop [][]byte
		kv.Iterate(prefix, egressLogKey(resN, old), func(k, _ []byte) bool {
			drop = append(drop, append([]byte(nil), k...))
			return len(drop) < EgressLogEpochs
		})
		for _, k := range drop {
			kv.Delete(k)
		}
	}
}

// ReportedEgress is what the usage report of reservation resN for epoch e
// said: the egress used before it and the egress it reported (ok false:
// no report for e in the log).
func ReportedEgress(kv store.KV, resN uint64, e int64) (before, reported uint64, ok bool) {
	b := kv.Get(egressLogKey(resN, e))
	if len(b) != 16 {
		return 0, 0, false
	}
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:]), true
}

// EgressCharge is what egress of used bytes in total costs a reservation
// at price and fee (net to the provider, fee to the treasury), as the
// usage report charges it.
func EgressCharge(used uint64, price core.Amount, fee uint32) (net, feeAmt core.Amount, err error) {
	return egressEscrow(used, price, fee)
}
