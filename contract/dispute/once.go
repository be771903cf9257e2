package dispute

import (
	"crypto/sha256"

	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/store"
)

// Each piece of evidence is disputed once: a receipt, an epoch of
// unavailability, an epoch's egress. Otherwise one lost object would slash
// its provider once per dispute, and one egress report would be refunded
// again and again. The marks stay after an upheld or rejected dispute (and
// after an egress dispute, which always settles something); an undecided
// data_loss or unavailable dispute releases them, so the consumer can try
// again with a panel that answers.
//
//	d/once/{res}{tag}   the dispute number that claimed the evidence

var keyOnce = []byte("d/once/")

// evidenceTags are the marks dispute d claims.
func evidenceTags(d *Dispute) [][]byte {
	switch d.Kind {
	case KindDataLoss:
		h := sha256.Sum256([]byte(d.Receipt))
		return [][]byte{append([]byte("r"), h[:]...)}
	case KindUnavailable:
		var out [][]byte
		for _, e := range d.Epochs {
			out = append(out, append([]byte("u"), store.EncodeUint64(uint64(e))...))
		}
		return out
	}
	return [][]byte{append([]byte("e"), store.EncodeUint64(uint64(d.EgressEpoch))...)}
}

func onceKey(resN uint64, tag []byte) []byte {
	return store.Key(keyOnce, store.EncodeUint64(resN), tag)
}

// claimEvidence refuses evidence another dispute of the reservation has
// claimed, else marks it as dispute n's.
func claimEvidence(kv store.KV, resN, n uint64, d *Dispute) error {
	tags := evidenceTags(d)
	for _, tag := range tags {
		if b := kv.Get(onceKey(resN, tag)); len(b) == 8 {
			what := map[byte]string{'r': "this receipt", 'u': "one of these epochs", 'e': "this epoch's egress"}[tag[0]]
			return core.Errf(core.CodeAlreadyExists, "%s of %s was already disputed in %s", what, d.Reservation, IDString(store.DecodeUint64(b)))
		}
	}
	for _, tag := range tags {
		kv.Set(onceKey(resN, tag), store.EncodeUint64(n))
	}
	return nil
}

// releaseEvidence frees an undecided data_loss or unavailable dispute's
// marks.
func releaseEvidence(kv store.KV, resN uint64, d *Dispute, outcome string) {
	if outcome != StatusUndecided || d.Kind == KindEgress {
		return
	}
	for _, tag := range evidenceTags(d) {
		kv.Delete(onceKey(resN, tag))
	}
}
