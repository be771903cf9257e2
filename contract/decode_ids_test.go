package contract

import (
	"bytes"
	"testing"

	"github.com/flashback-network/flashback/contract/accesskey"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/qos"
)

// idMessages builds every message that names a unit or a reservation with
// the given ids.
func idMessages(unit, res string) []core.Msg {
	yes := true
	return []core.Msg{
		&market.MsgReserve{Unit: unit, Bytes: gib, Term: monthS, MaxPrice: unitP},
		&market.MsgAcceptReservation{ResRef: market.ResRef{Reservation: res}},
		&market.MsgRejectReservation{ResRef: market.ResRef{Reservation: res}},
		&market.MsgCloseReservation{ResRef: market.ResRef{Reservation: res}},
		&market.MsgTopUp{Reservation: res, EgressBytes: gib},
		&market.MsgExtend{Reservation: res, ExtraSeconds: 60},
		&market.MsgResize{Reservation: res, Bytes: 2 * gib},
		&market.MsgReportUsage{Reservation: res, Epoch: 0},
		&market.MsgClaim{Unit: unit},
		&market.MsgUpdateUnit{Unit: unit, AutoAccept: &yes},
		&market.MsgUnitMaintenance{Unit: unit, Action: market.MaintenanceEnd},
		&market.MsgDecommissionUnit{Unit: unit},
		&market.MsgDeleteUnit{Unit: unit},
		&qos.MsgClaimCompensation{Reservation: res},
		&qos.MsgReport{Epoch: 0, Units: []qos.UnitMeasurement{{Unit: unit, Probes: 1}}},
		&accesskey.MsgCreateAccessKey{Reservation: res, ID: "AKIAEXAMPLE0000001", Perm: accesskey.PermRead, SealedSecret: bytes.Repeat([]byte{9}, 88)},
	}
}

// A malformed unit or reservation id is refused when the message is
// decoded (invalid_message), before any handler runs, and the tx writes
// nothing but its fee.
func TestMalformedIDRejectedAtDecode(t *testing.T) {
	for _, bad := range []struct{ unit, res string }{
		{"unit-01", "res-01"}, {"unit-0", "res-0"}, {"unit-x", "res-"}, {"res-1", "unit-1"},
	} {
		var cases []mktCase
		for _, m := range idMessages(bad.unit, bad.res) {
			w, err := Wrap(m)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := DecodeMsg(w); core.CodeOf(err) != core.CodeInvalidMessage {
				t.Fatalf("%s with %s/%s: DecodeMsg error %v, want invalid_message", m.Type(), bad.unit, bad.res, err)
			}
			cases = append(cases, mktCase{name: m.Type() + " " + bad.unit + " " + bad.res, signer: "prov", msg: m, code: core.CodeInvalidMessage})
		}
		runCases(t, cases)
	}
}

// The same messages with well-formed ids decode (the ids parse once
// there), so the test above fails for the id and nothing else.
func TestWellFormedIDsDecode(t *testing.T) {
	for _, m := range idMessages("unit-1", "res-1") {
		w, err := Wrap(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := DecodeMsg(w); err != nil {
			t.Fatalf("%s: %v", m.Type(), err)
		}
	}
}
