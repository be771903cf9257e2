package contract

import (
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/flashback-network/flashback/contract/accesskey"
	"github.com/flashback-network/flashback/contract/dispute"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/params"
	"github.com/flashback-network/flashback/contract/qos"
	"github.com/flashback-network/flashback/contract/store"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/records.golden")

// codecRecords are the state record types, in a fixed order (the fuzzer's
// first byte picks one).
func codecRecords() []func() store.Record {
	return []func() store.Record{
		func() store.Record { return new(market.Provider) },
		func() store.Record { return new(market.Unit) },
		func() store.Record { return new(market.Reservation) },
		func() store.Record { return new(qos.Oracle) },
		func() store.Record { return new(qos.UnitQoS) },
		func() store.Record { return new(qos.UnitEpochQoS) },
		func() store.Record { return new(qos.EpochStats) },
		func() store.Record { return new(qos.NetworkStats) },
		func() store.Record { return new(qos.UnitMeasurement) },
		func() store.Record { return new(qos.ProviderScoreSums) },
		func() store.Record { return new(accesskey.AccessKey) },
		func() store.Record { return new(params.Params) },
		func() store.Record { return new(dispute.Dispute) },
		func() store.Record { return new(dispute.ConsumerCounts) },
		func() store.Record { return new(dispute.ProviderCounts) },
		func() store.Record { return new(dispute.Stats) },
	}
}

// fill sets every field of v to a value that is not zero, derived from
// seed, with ids and addresses in the form the records hold.
func fill(v reflect.Value, name string, seed *uint64) {
	*seed++
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), name, seed)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), v.Type().Field(i).Name, seed)
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			v.SetBytes([]byte{byte(*seed), 0, 255})
			return
		}
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		fill(v.Index(0), name, seed)
		fill(v.Index(1), name, seed)
	case reflect.String:
		switch name {
		case "Address", "Provider", "Consumer", "Owner", "Oracle":
			v.SetString(mktAddr(fmt.Sprint("codec", *seed)))
		case "Unit":
			v.SetString(fmt.Sprintf("unit-%d", *seed))
		case "Reservation":
			v.SetString(fmt.Sprintf("res-%d", *seed))
		case "ID":
			v.SetString(fmt.Sprintf("%s-%d", "id", *seed))
		default:
			v.SetString(fmt.Sprintf("%s %d", name, *seed))
		}
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(-int64(*seed) * 1000003)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(*seed * 1000003 % (1 << min(63, uint(v.Type().Bits()-1))))
	default:
		panic("fill: " + v.Kind().String())
	}
}

// sampleRecords is one fully populated value of each record type.
func sampleRecords() []store.Record {
	var out []store.Record
	seed := uint64(0)
	for _, mk := range codecRecords() {
		r := mk()
		fill(reflect.ValueOf(r).Elem(), "", &seed)
		switch r := r.(type) { // ids the codec stores as numbers
		case *market.Unit:
			r.ID = "unit-7"
		case *market.Reservation:
			r.ID, r.Unit = "res-9", "unit-7"
		case *accesskey.AccessKey:
			r.ID = "FBTESTKEY0000000042"
		case *dispute.Dispute:
			r.ID = "dsp-5"
		}
		out = append(out, r)
	}
	return out
}

// Every field of every record survives the codec, and the encoding of a
// fully populated record is pinned: renumbering or reordering fields (which
// would misread state) changes it. Run with -update after an intended
// change of the format (and raise contract.StateVersion).
func TestRecordCodecGolden(t *testing.T) {
	var golden strings.Builder
	for i, r := range sampleRecords() {
		b, err := r.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		back := codecRecords()[i]()
		if err := back.UnmarshalBinary(b); err != nil {
			t.Fatalf("%T: %v", r, err)
		}
		if !reflect.DeepEqual(back, r) {
			t.Errorf("%T does not survive the codec:\n got %+v\nwant %+v", r, back, r)
		}
		fmt.Fprintf(&golden, "%T %s\n", r, hex.EncodeToString(b))
	}
	const path = "testdata/records.golden"
	if *updateGolden {
		if err := os.WriteFile(path, []byte(golden.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if golden.String() != string(want) {
		t.Errorf("record encodings differ from %s (fields renumbered?); got:\n%s", path, golden.String())
	}
}

// FuzzRecordCodec: any input either fails to decode or decodes to a value
// whose encoding decodes back to the same value and is its own canonical
// encoding (a stored record always reads back as written). The first byte
// picks the record type. The committed corpus holds the golden samples.
func FuzzRecordCodec(f *testing.F) {
	for i, r := range sampleRecords() {
		b, _ := r.MarshalBinary()
		f.Add(append([]byte{byte(i)}, b...))
	}
	kinds := codecRecords()
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		r := kinds[int(in[0])%len(kinds)]()
		if r.UnmarshalBinary(in[1:]) != nil {
			return
		}
		enc, err := r.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		back := kinds[int(in[0])%len(kinds)]()
		if err := back.UnmarshalBinary(enc); err != nil {
			t.Fatalf("%T: re-encoding does not decode: %v", r, err)
		}
		if !reflect.DeepEqual(back, r) {
			t.Fatalf("%T: value changed through the codec", r)
		}
		enc2, _ := back.MarshalBinary()
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("%T: encoding is not canonical", r)
		}
	})
}
