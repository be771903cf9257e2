package contract

import (
	"encoding/json"
	"testing"

	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/store"
)

// BenchmarkStateBytesPerReservation builds a store with 100,000 active
// reservations over 10,000 units and reports the state bytes each
// reservation adds (record, indexes and queue entries, keys included),
// with, as the baseline of the same run, the size the same records take in
// the JSON of state format 1 (target: <= 400 bytes; format 1 took 1,111).
func BenchmarkStateBytesPerReservation(b *testing.B) {
	const n = 100_000
	for i := 0; i < b.N; i++ {
		s, perRes := newBenchState(b, 10_000, n)
		var binRec, jsonRec int
		prefix := []byte("m/r/")
		s.kv.Iterate(prefix, store.PrefixEnd(prefix), func(_, v []byte) bool {
			var r market.Reservation
			if err := r.UnmarshalBinary(v); err != nil {
				b.Fatal(err)
			}
			j, _ := json.Marshal(&r)
			binRec += len(v)
			jsonRec += len(j)
			return true
		})
		b.ReportMetric(float64(perRes), "state_bytes/reservation")
		b.ReportMetric(float64(perRes-binRec/n+jsonRec/n), "json_state_bytes/reservation")
		b.ReportMetric(float64(binRec)/float64(n), "record_bytes/reservation")
		b.ReportMetric(float64(jsonRec)/float64(n), "json_record_bytes/reservation")
	}
}
