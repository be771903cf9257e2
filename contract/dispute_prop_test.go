package contract

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/dispute"
	"github.com/flashback-network/flashback/contract/market"
)

// TestDisputeRandomSequences: random opens (good and forged receipts,
// deposits too low or beyond the balance, egress claims), verdicts by
// panel and outside oracles, usage reports and time passing. After every
// step the supply, escrow and stake invariants hold and the dispute pool
// holds exactly the open disputes' deposits; every refused message
// changes nothing but the fee; at the end every dispute is decided, the
// pool is empty and the counts add up.
func TestDisputeRandomSequences(t *testing.T) {
	for seed := int64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { runDisputeSim(t, seed) })
	}
}

func runDisputeSim(t *testing.T, seed int64) {
	rng := rand.New(rand.NewSource(seed))
	h := newDisputes(t)
	opened, decidedBy := 0, map[string]int{}
	lastUsage := map[string]int64{"res-1": -1, "res-2": -1}
	for step := 0; step < 250; step++ {
		signer, msg := disputeSimStep(t, h, rng, opened, lastUsage)
		if msg == nil {
			h.next(int64(1 + rng.Intn(40)))
			checkDisputes(t, h)
			continue
		}
		before, bal := stateDump(h.blk, mktRaw(signer)), h.bal(signer)
		r := h.exec(signer, msg)
		switch {
		case r.Code == core.CodeOK:
			if _, ok := msg.(*dispute.MsgOpenDispute); ok {
				opened++
			}
			if m, ok := msg.(*market.MsgReportUsage); ok {
				lastUsage[m.Reservation] = m.Epoch
			}
		case r.Signer != "":
			after := stateDump(h.blk, mktRaw(signer))
			if len(after) != len(before) || h.bal(signer) != bal-10 {
				t.Fatalf("step %d: refused %T (%s) changed state", step, msg, r.Log)
			}
			for k, v := range before {
				if after[k] != v {
					t.Fatalf("step %d: refused %T (%s) changed key %q", step, msg, r.Log, k)
				}
			}
		}
		checkDisputes(t, h)
	}
	h.next(dspWindow + 1)
	h.next(1)
	checkDisputes(t, h)
	var c [2]dispute.ConsumerCounts
	for i := 1; i <= opened; i++ {
		d := getDispute(t, h, dispute.IDString(uint64(i)))
		if d.Status == dispute.StatusOpen {
			t.Fatalf("%s still open after its window: %+v", d.ID, d)
		}
		decidedBy[d.Status]++
		if hasKey(h, d.AccessKeyID) && d.AccessKeyID != "" {
			t.Fatalf("%s: key %s outlived it", d.ID, d.AccessKeyID)
		}
	}
	for i, n := range []string{"alice", "bob"} {
		a := disputeAccount(t, h, n).Consumer
		c[i] = dispute.ConsumerCounts{Opened: a.Opened, Open: a.Open, Upheld: a.Upheld, Rejected: a.Rejected, Undecided: a.Undecided}
	}
	if int(c[0].Opened+c[1].Opened) != opened || c[0].Open+c[1].Open != 0 ||
		int(c[0].Upheld+c[1].Upheld) != decidedBy[dispute.StatusUpheld] || int(c[0].Rejected+c[1].Rejected) != decidedBy[dispute.StatusRejected] {
		t.Fatalf("counts %+v, outcomes %v of %d", c, decidedBy, opened)
	}
	if prov := disputeAccount(t, h, "prov").Provider; int(prov.Against) != opened {
		t.Fatalf("provider counts %+v, %d opened", prov, opened)
	}
	t.Logf("seed %d: %d disputes, outcomes %v", seed, opened, decidedBy)
}

// disputeSimStep picks the next message and its signer (nil: let time
// pass).
func disputeSimStep(t *testing.T, h *mkt, rng *rand.Rand, opened int, lastUsage map[string]int64) (string, core.Msg) {
	consumers := map[string]string{"alice": "res-1", "bob": "res-2"}
	who := []string{"alice", "bob"}[rng.Intn(2)]
	res := consumers[who]
	if rng.Intn(5) == 0 {
		who = []string{"alice", "bob"}[rng.Intn(2)] // sometimes another's reservation
	}
	switch rng.Intn(8) {
	case 0, 1:
		key := fmt.Sprintf("k%d", rng.Intn(5))
		signerKey := mktKey("prov")
		if rng.Intn(6) == 0 {
			signerKey = mktKey("carol") // forged
		}
		m := withKey(t, h, &dispute.MsgOpenDispute{Reservation: res, Kind: dispute.KindDataLoss, Deposit: dspDeposit,
			Receipt: signedReceipt(t, signerKey, res, key, []byte(key), h.now-1)})
		m.AccessKeyID = fmt.Sprintf("DSPSIM%010d", rng.Intn(1_000_000_000))
		switch rng.Intn(8) {
		case 0:
			m.Deposit = dspDeposit - 1
		case 1:
			m.Deposit = richBal * 3
		}
		return who, m
	case 2:
		return who, &dispute.MsgOpenDispute{Reservation: res, Kind: dispute.KindEgress, Deposit: dspDeposit + core.Amount(rng.Intn(7)),
			Epoch: h.epoch() - int64(rng.Intn(2)), EgressBytes: uint64(rng.Int63n(int64(gib)))}
	case 3:
		if e := h.epoch(); e > lastUsage[res] {
			return "prov", &market.MsgReportUsage{Reservation: res, Epoch: e, StoredBytes: 1 << 20, EgressBytes: uint64(rng.Int63n(int64(gib)))}
		}
		return "", nil
	case 4, 5:
		if opened == 0 {
			return "", nil
		}
		id := dispute.IDString(uint64(1 + rng.Intn(opened+1)))
		v := []string{dispute.VerdictUpheld, dispute.VerdictRejected, dispute.VerdictCannotTell}[rng.Intn(3)]
		o := append(append([]string{}, all3...), "carol")[rng.Intn(4)]
		return o, &dispute.MsgVerdict{Dispute: id, Verdict: v, Observed: "sim"}
	}
	return "", nil
}
