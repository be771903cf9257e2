package contract

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/flashback-network/flashback/contract/accesskey"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/repo"
	"github.com/flashback-network/flashback/tx"
)

// repoMsgSamples are one valid message of each repository type, in a fixed
// order (the fuzzer's first byte picks the type).
func repoMsgSamples() []core.Msg {
	return []core.Msg{
		mirror("photos", 2, 1, 3),
		&repo.MsgAddMember{Repo: "photos", Member: spec(5)},
		&repo.MsgRemoveMember{Repo: "photos", Reservation: "res-5"},
		&repo.MsgReplaceMember{Repo: "photos", Old: "res-3", Member: spec(4)},
		&repo.MsgMemberSynced{Repo: "photos", Reservation: "res-4"},
		&repo.MsgSetQuorum{Repo: "photos", Quorum: 2},
		&repo.MsgDelete{Repo: "photos"},
		&repo.MsgCreateKey{Repo: "photos", ID: "FBREPOKEY0000000001", Perm: accesskey.PermRead, SealedSecret: sealed()},
		&repo.MsgRevokeKey{ID: "FBREPOKEY0000000001"},
	}
}

// FuzzDecodeRepoMsg: any value under a repository message type either is
// rejected with a stable code (never a panic, never CodeInternal) or
// decodes to a message whose canonical encoding is the input.
func FuzzDecodeRepoMsg(f *testing.F) {
	samples := repoMsgSamples()
	for i, m := range samples {
		b, err := json.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(byte(i), b)
	}
	f.Fuzz(func(t *testing.T, kind byte, value []byte) {
		typ := samples[int(kind)%len(samples)].Type()
		m, err := DecodeMsg(tx.Msg{Type: typ, Value: value})
		if err != nil {
			if c := core.CodeOf(err); c == core.CodeInternal || c == core.CodeOK {
				t.Fatalf("%s: rejection without a stable code: %v", typ, err)
			}
			return
		}
		if m.Type() != typ {
			t.Fatalf("%s decoded as %s", typ, m.Type())
		}
		if canon, _ := json.Marshal(m); !bytes.Equal(canon, value) {
			t.Fatalf("%s: accepted a non-canonical value", typ)
		}
	})
}
