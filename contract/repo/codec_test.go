package repo

import (
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/store"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/records.golden")

func addr(b byte) string { return address.Encode(bytes.Repeat([]byte{b}, address.Len)) }

// samples are fully populated records (every field set), in a fixed order:
// the fuzzer's first byte picks one.
func samples() []store.Record {
	m := func(n byte) Member {
		return Member{Reservation: fmt.Sprintf("res-%d", n), Unit: fmt.Sprintf("unit-%d", n+1), Provider: addr(n),
			State: StateJoining, AccessKeyID: "FBMEMBER00000000000" + string('A'+rune(n)), SealedSecret: bytes.Repeat([]byte{n}, 88),
			JoinedAt: core.Time(1_700_000_000 + int64(n)), Replaces: fmt.Sprintf("res-%d", n+10)}
	}
	return []store.Record{
		&Repo{Owner: addr(1), Name: "photos.2026", Mode: ModeMirror, Quorum: 2, Encrypted: true, GatewayPubKey: bytes.Repeat([]byte{5}, 32),
			Members: []Member{m(3), m(4)}, CreatedAt: 1_700_000_001, UpdatedAt: 1_700_000_002},
		&RepoKey{ID: "FBREPOKEY0000000001", Owner: addr(2), Repo: "photos.2026", Perm: "write", SealedSecret: bytes.Repeat([]byte{9}, 88), CreatedAt: 1_700_000_003},
		func() *Member { x := m(7); return &x }(),
	}
}

func kinds() []func() store.Record {
	return []func() store.Record{
		func() store.Record { return new(Repo) },
		func() store.Record { return new(RepoKey) },
		func() store.Record { return new(Member) },
	}
}

// Every field survives the codec and the encodings are pinned: renumbering
// or reordering fields (which would misread state) changes them. Run with
// -update after an intended format change.
func TestRecordCodecGolden(t *testing.T) {
	var golden strings.Builder
	for i, r := range samples() {
		b, err := r.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		back := kinds()[i]()
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

// FuzzRecordCodec: any input either fails to decode (an error, never a
// panic) or decodes to a value whose encoding decodes back to the same
// value and is canonical. The committed corpus holds the samples.
func FuzzRecordCodec(f *testing.F) {
	for i, r := range samples() {
		b, _ := r.MarshalBinary()
		f.Add(append([]byte{byte(i)}, b...))
	}
	ks := kinds()
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		r := ks[int(in[0])%len(ks)]()
		if r.UnmarshalBinary(in[1:]) != nil {
			return
		}
		enc, err := r.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		back := ks[int(in[0])%len(ks)]()
		if err := back.UnmarshalBinary(enc); err != nil {
			t.Fatalf("%T: re-encoding does not decode: %v", r, err)
		}
		if !reflect.DeepEqual(back, r) {
			t.Fatalf("%T: value changed through the codec", r)
		}
		if enc2, _ := back.MarshalBinary(); !bytes.Equal(enc, enc2) {
			t.Fatalf("%T: encoding is not canonical", r)
		}
	})
}
