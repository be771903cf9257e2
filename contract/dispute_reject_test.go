package contract

import (
	"fmt"
	"strings"
	"testing"

	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/dispute"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/qos"
)

// TestDisputeRejections: every refused dispute message has its stable
// code, a message naming what to fix, and changes nothing but the fee.
func TestDisputeRejections(t *testing.T) {
	openOne := func(h *mkt) { h.ok("alice", dataLoss(t, h)) }
	cases := []struct {
		name, signer string
		setup        func(h *mkt)
		msg          func(h *mkt) core.Msg
		code         core.Code
		says         string
	}{
		{"not own reservation", "bob", nil, func(h *mkt) core.Msg { return dataLoss(t, h) }, core.CodeUnauthorized, "only its consumer"},
		{"bad receipt signature", "alice", nil, func(h *mkt) core.Msg {
			m := dataLoss(t, h)
			m.Receipt = signedReceipt(t, mktKey("carol"), "res-1", "a", []byte("x"), h.now-5)
			return m
		}, core.CodeBadReceipt, "not by"},
		{"tampered receipt", "alice", nil, func(h *mkt) core.Msg {
			m := dataLoss(t, h)
			rc := signedReceipt(t, mktKey("prov"), "res-1", "aaaa", []byte("x"), h.now-5)
			m.Receipt = strings.Replace(rc, "YWFh", "YWFi", 1) // "aaa" -> "aab" in the key
			return m
		}, core.CodeBadReceipt, "signature"},
		{"receipt of another reservation", "alice", nil, func(h *mkt) core.Msg {
			m := dataLoss(t, h)
			m.Receipt = signedReceipt(t, mktKey("prov"), "res-2", "a", []byte("x"), h.now-5)
			return m
		}, core.CodeBadReceipt, "res-2"},
		{"deposit too low", "alice", nil, func(h *mkt) core.Msg {
			m := dataLoss(t, h)
			m.Deposit = dspDeposit - 1
			return m
		}, core.CodeInvalidAmount, "dispute_deposit"},
		{"insufficient balance", "alice", nil, func(h *mkt) core.Msg {
			m := dataLoss(t, h)
			m.Deposit = richBal * 2
			return m
		}, core.CodeInsufficientFunds, "needs"},
		{"secrets not for the panel", "alice", nil, func(h *mkt) core.Msg {
			m := dataLoss(t, h)
			m.OracleSecrets = m.OracleSecrets[:2]
			return m
		}, core.CodeInvalidMessage, "panel"},
		{"no read key", "alice", nil, func(h *mkt) core.Msg {
			m := dataLoss(t, h)
			m.AccessKeyID, m.BridgeSecret, m.OracleSecrets = "", nil, nil
			return m
		}, core.CodeInvalidMessage, "read key"},
		{"unavailable epoch before the reservation", "alice", nil, func(h *mkt) core.Msg {
			return &dispute.MsgOpenDispute{Reservation: "res-1", Kind: dispute.KindUnavailable, Deposit: dspDeposit, Epochs: []int64{1}}
		}, core.CodeInvalidMessage, "outside"},
		{"egress without a report", "alice", nil, func(h *mkt) core.Msg {
			return &dispute.MsgOpenDispute{Reservation: "res-1", Kind: dispute.KindEgress, Deposit: dspDeposit, Epoch: h.epoch(), EgressBytes: 1}
		}, core.CodeNotFound, "no usage report"},
		{"oracle not assigned", "carol", openOne, func(h *mkt) core.Msg {
			return &dispute.MsgVerdict{Dispute: "dsp-1", Verdict: dispute.VerdictUpheld}
		}, core.CodeNotAssigned, "not on the panel"},
		{"double verdict", "o1", func(h *mkt) {
			openOne(h)
			h.ok("o1", &dispute.MsgVerdict{Dispute: "dsp-1", Verdict: dispute.VerdictCannotTell})
		}, func(h *mkt) core.Msg {
			return &dispute.MsgVerdict{Dispute: "dsp-1", Verdict: dispute.VerdictUpheld}
		}, core.CodeDuplicateVerdict, "already gave"},
		{"verdict on no dispute", "o1", nil, func(h *mkt) core.Msg {
			return &dispute.MsgVerdict{Dispute: "dsp-9", Verdict: dispute.VerdictUpheld}
		}, core.CodeNotFound, "dsp-9"},
		{"seal key of a non-oracle", "carol", nil, func(h *mkt) core.Msg {
			return &dispute.MsgSealKey{PubKey: pubKey32()}
		}, core.CodeNotOracle, "not an active oracle"},
		{"policy of another's unit", "bob", nil, func(h *mkt) core.Msg {
			return &dispute.MsgUnitPolicy{Unit: "unit-1", MaxConsumerDisputes: 1}
		}, core.CodeUnauthorized, "only its provider"},
		{"too many open disputes", "alice", func(h *mkt) {
			for i := range dispute.MaxOpenPerReservation {
				h.ok("alice", lossOf(t, h, fmt.Sprint("k", i), fmt.Sprintf("DSPKEY00000001%02d", i)))
			}
		}, func(h *mkt) core.Msg {
			return lossOf(t, h, "k9", "DSPKEY0000000199")
		}, core.CodeLimitExceeded, "open disputes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newDisputes(t)
			if c.setup != nil {
				c.setup(h)
			}
			msg := c.msg(h)
			before := stateDump(h.blk, mktRaw(c.signer))
			balBefore := h.bal(c.signer)
			r := h.exec(c.signer, msg)
			if r.Code != c.code || !strings.Contains(r.Log, c.says) {
				t.Fatalf("code %s (%s), want %s saying %q", r.Code.Name(), r.Log, c.code.Name(), c.says)
			}
			after := stateDump(h.blk, mktRaw(c.signer))
			if len(after) != len(before) {
				t.Fatalf("rejected message changed the number of keys: %d -> %d", len(before), len(after))
			}
			for k, v := range before {
				if after[k] != v {
					t.Fatalf("rejected message changed key %q", k)
				}
			}
			fee := core.Amount(10)
			if r.Signer == "" {
				fee = 0
			}
			if got := h.bal(c.signer); got != balBefore-fee {
				t.Fatalf("signer balance %d, want %d", got, balBefore-fee)
			}
			checkDisputes(t, h)
		})
	}
}

// TestDisputeEvidenceOnce: a receipt, an unavailable epoch and an epoch's
// egress are disputed once (while open and after an upheld or rejected
// outcome: already_exists); an undecided data_loss dispute frees its
// receipt for another try.
func TestDisputeEvidenceOnce(t *testing.T) {
	h := newDisputes(t)
	first := dataLoss(t, h)
	h.ok("alice", first)
	again := withKey(t, h, &dispute.MsgOpenDispute{Reservation: "res-1", Kind: dispute.KindDataLoss, Deposit: dspDeposit, Receipt: first.Receipt})
	again.AccessKeyID = "DSPKEY0000000002"
	if r := h.exec("alice", again); r.Code != core.CodeAlreadyExists || !strings.Contains(r.Log, "dsp-1") {
		t.Fatalf("same receipt while open: %s %s", r.Code.Name(), r.Log)
	}
	h.next(dspWindow + 1) // undecided: the receipt is free again
	h.next(1)
	h.ok("alice", again)
	d := getDispute(t, h, "dsp-2")
	for _, s := range d.Panel[:2] {
		h.ok(nameOfAddr3(s.Oracle), &dispute.MsgVerdict{Dispute: "dsp-2", Verdict: dispute.VerdictUpheld, Observed: "404"})
	}
	third := withKey(t, h, &dispute.MsgOpenDispute{Reservation: "res-1", Kind: dispute.KindDataLoss, Deposit: dspDeposit, Receipt: first.Receipt})
	third.AccessKeyID = "DSPKEY0000000003"
	if r := h.exec("alice", third); r.Code != core.CodeAlreadyExists || !strings.Contains(r.Log, "dsp-2") {
		t.Fatalf("same receipt after upheld: %s %s", r.Code.Name(), r.Log)
	}
	e := h.epoch()
	h.ok("prov", &market.MsgReportUsage{Reservation: "res-1", Epoch: e, EgressBytes: gib})
	h.ok("alice", &dispute.MsgOpenDispute{Reservation: "res-1", Kind: dispute.KindEgress, Deposit: dspDeposit, Epoch: e, EgressBytes: 1})
	if r := h.exec("alice", &dispute.MsgOpenDispute{Reservation: "res-1", Kind: dispute.KindEgress, Deposit: dspDeposit, Epoch: e, EgressBytes: 2}); r.Code != core.CodeAlreadyExists {
		t.Fatalf("second egress dispute of epoch %d: %s %s", e, r.Code.Name(), r.Log)
	}
	u := &dispute.MsgOpenDispute{Reservation: "res-1", Kind: dispute.KindUnavailable, Deposit: dspDeposit, Epochs: []int64{e - 1, e}}
	h.ok("alice", u)
	u2 := &dispute.MsgOpenDispute{Reservation: "res-1", Kind: dispute.KindUnavailable, Deposit: dspDeposit, Epochs: []int64{e}}
	if r := h.exec("alice", u2); r.Code != core.CodeAlreadyExists {
		t.Fatalf("epoch %d disputed twice: %s %s", e, r.Code.Name(), r.Log)
	}
	checkDisputes(t, h)
}

// lossOf is a data_loss dispute of res-1's key with its own read key id.
func lossOf(t *testing.T, h *mkt, key, keyID string) *dispute.MsgOpenDispute {
	t.Helper()
	rc := signedReceipt(t, mktKey("prov"), "res-1", key, []byte(key), h.now-10)
	m := withKey(t, h, &dispute.MsgOpenDispute{Reservation: "res-1", Kind: dispute.KindDataLoss, Deposit: dspDeposit, Receipt: rc})
	m.AccessKeyID = keyID
	return m
}

// TestDisputeConsumerNeverJudges: a consumer that is also an oracle
// assigned to the unit is left off its own dispute's panel.
func TestDisputeConsumerNeverJudges(t *testing.T) {
	h := newDisputes(t)
	h.ok("alice", &qos.MsgRegisterOracle{Stake: oracleBond})
	pub, _ := sealKeyOf("alice")
	h.ok("alice", &dispute.MsgSealKey{PubKey: pub[:]})
	for i := 0; i < 6; i++ {
		toEpoch(h, h.epoch()+1)
		assignedAlice := false
		for _, a := range assigned(t, h, h.epoch(), 1) {
			assignedAlice = assignedAlice || a == mktAddr("alice")
		}
		p := panelOf(t, h, "res-1")
		for _, o := range p.Oracles {
			if o.Oracle == mktAddr("alice") {
				t.Fatalf("epoch %d: alice on her own panel", h.epoch())
			}
		}
		if assignedAlice {
			if len(p.Oracles) != 2 {
				t.Fatalf("epoch %d: panel %+v, want the two other assigned oracles", h.epoch(), p.Oracles)
			}
			h.ok("alice", dataLoss(t, h))
			if d := getDispute(t, h, "dsp-1"); len(d.Panel) != 2 {
				t.Fatalf("panel %+v", d.Panel)
			}
			return
		}
	}
	t.Fatal("alice was never assigned to unit-1 in 6 epochs")
}
