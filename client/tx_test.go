package client

import (
	"errors"
	"fmt"
	"testing"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/core"
)

func TestIsCode(t *testing.T) {
	failed := &TxError{Result: &types.TxResult{Code: uint32(core.CodeNotFound), CodeName: core.CodeNotFound.Name()}}
	refused := &Error{Status: 409, Code: core.CodeBadSequence.Name(), ABCICode: core.CodeBadSequence}
	for _, c := range []struct {
		err  error
		code core.Code
		want bool
	}{
		{failed, core.CodeNotFound, true},
		{fmt.Errorf("claim: %w", failed), core.CodeNotFound, true},
		{failed, core.CodeWrongState, false},
		{refused, core.CodeBadSequence, true},
		{fmt.Errorf("send: %w", refused), core.CodeBadSequence, true},
		{refused, core.CodeNotFound, false},
		{errors.New("dial tcp: refused"), core.CodeNotFound, false},
		{nil, core.CodeOK, false},
	} {
		if got := IsCode(c.err, c.code); got != c.want {
			t.Errorf("IsCode(%v, %s) = %v", c.err, c.code.Name(), got)
		}
	}
	if failed.Code() != core.CodeNotFound {
		t.Errorf("TxError.Code() = %d", failed.Code())
	}
}

func TestCreatedAndAmounts(t *testing.T) {
	res := &types.TxResult{Hash: "AB", Events: []core.Event{
		{Type: "unit_added", Attrs: []core.Attr{{Key: "unit", Value: "unit-7"}}},
		{Type: "claim", Attrs: []core.Attr{{Key: "unit", Value: "unit-1"}, {Key: "amount", Value: "40"}}},
		{Type: "claim", Attrs: []core.Attr{{Key: "unit", Value: "unit-2"}, {Key: "amount", Value: "2"}}},
	}}
	if id, _, err := created(res, nil, "unit_added", "unit"); err != nil || id != "unit-7" {
		t.Fatalf("created: %q %v", id, err)
	}
	if id, _, err := created(res, nil, "reservation_created", "id"); err == nil || id != "" {
		t.Fatalf("created without the event: %q %v", id, err)
	}
	txErr := &TxError{Result: res}
	if _, r, err := created(res, txErr, "unit_added", "unit"); err != txErr || r != res {
		t.Fatalf("created of a failed tx: %v", err)
	}
	if amt, err := sumAmounts(res, "claim", "amount"); err != nil || amt != 42 {
		t.Fatalf("claims sum %d %v", amt, err)
	}
	if amt, err := sumAmounts(res, "compensation_paid", "amount"); err != nil || amt != 0 {
		t.Fatalf("no compensation events: %d %v", amt, err)
	}
	bad := &types.TxResult{Events: []core.Event{{Type: "claim", Attrs: []core.Attr{{Key: "amount", Value: "x"}}}}}
	if _, err := sumAmounts(bad, "claim", "amount"); err == nil {
		t.Fatal("a malformed amount summed")
	}
}
