package client

import (
	"errors"
	"fmt"
	"testing"

	"github.com/flashback-network/flashback/api"
	"github.com/flashback-network/flashback/contract"
)

func TestIsCode(t *testing.T) {
	failed := &TxError{Result: &api.TxResult{Code: uint32(contract.CodeNotFound), CodeName: contract.CodeNotFound.Name()}}
	refused := &Error{Status: 409, Code: contract.CodeBadSequence.Name(), ABCICode: contract.CodeBadSequence}
	for _, c := range []struct {
		err  error
		code contract.Code
		want bool
	}{
		{failed, contract.CodeNotFound, true},
		{fmt.Errorf("claim: %w", failed), contract.CodeNotFound, true},
		{failed, contract.CodeWrongState, false},
		{refused, contract.CodeBadSequence, true},
		{fmt.Errorf("send: %w", refused), contract.CodeBadSequence, true},
		{refused, contract.CodeNotFound, false},
		{errors.New("dial tcp: refused"), contract.CodeNotFound, false},
		{nil, contract.CodeOK, false},
	} {
		if got := IsCode(c.err, c.code); got != c.want {
			t.Errorf("IsCode(%v, %s) = %v", c.err, c.code.Name(), got)
		}
	}
	if failed.Code() != contract.CodeNotFound {
		t.Errorf("TxError.Code() = %d", failed.Code())
	}
}

func TestCreatedAndAmounts(t *testing.T) {
	res := &api.TxResult{Hash: "AB", Events: []contract.Event{
		{Type: "unit_added", Attrs: []contract.Attr{{Key: "unit", Value: "unit-7"}}},
		{Type: "claim", Attrs: []contract.Attr{{Key: "unit", Value: "unit-1"}, {Key: "amount", Value: "40"}}},
		{Type: "claim", Attrs: []contract.Attr{{Key: "unit", Value: "unit-2"}, {Key: "amount", Value: "2"}}},
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
	bad := &api.TxResult{Events: []contract.Event{{Type: "claim", Attrs: []contract.Attr{{Key: "amount", Value: "x"}}}}}
	if _, err := sumAmounts(bad, "claim", "amount"); err == nil {
		t.Fatal("a malformed amount summed")
	}
}
