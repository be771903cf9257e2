package contract

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"testing"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/accesskey"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/dispute"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/store"
	"github.com/flashback-network/flashback/receipt"
	sealbox "github.com/flashback-network/flashback/sealed"
	"golang.org/x/crypto/curve25519"
)

const (
	dspDeposit = core.Amount(1_000)
	dspSlash   = core.Amount(2_000)
	dspWindow  = int64(120)
	dspKeyID   = "DSPKEY0000000001"
)

// newDisputes: newQoS (prov's unit-1 with alice's res-1 and bob's res-2,
// oracles o1..o3) with the oracles' seal keys registered and the next
// epoch begun, which assigns all three to unit-1.
func newDisputes(t *testing.T) *mkt {
	t.Helper()
	p := qosTestParams()
	p.DisputeDeposit, p.DisputeSlash, p.DisputeWindow = dspDeposit, dspSlash, dspWindow
	h := newQoS(t, p, 10_000)
	for _, o := range all3 {
		pub, _ := sealKeyOf(o)
		h.ok(o, &dispute.MsgSealKey{PubKey: pub[:]})
	}
	toEpoch(h, h.epoch()+1)
	return h
}

// sealKeyOf is a test oracle's X25519 key pair, fixed per name.
func sealKeyOf(name string) (pub, priv *[sealbox.KeySize]byte) {
	pub, priv = new([sealbox.KeySize]byte), new([sealbox.KeySize]byte)
	seed := sha256.Sum256([]byte("seal/" + name))
	copy(priv[:], seed[:])
	p, _ := curvePub(priv)
	copy(pub[:], p)
	return pub, priv
}

func curvePub(priv *[sealbox.KeySize]byte) ([]byte, error) {
	return curve25519.X25519(priv[:], curve25519.Basepoint)
}

// signedReceipt is a put receipt for key of res signed by signer's key.
func signedReceipt(t *testing.T, signer ed25519.PrivateKey, res, key string, content []byte, now int64) string {
	t.Helper()
	sum := sha256.Sum256(content)
	r := &receipt.Receipt{ChainID: mktChain, Reservation: res, Key: key, Op: receipt.OpPut, Size: int64(len(content)), ContentHash: sum[:], ETag: "e", Time: now}
	if err := r.Sign(signer); err != nil {
		t.Fatal(err)
	}
	s, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// panelOf is GET /v1/disputes/panel for res.
func panelOf(t *testing.T, h *mkt, res string) types.DisputePanel {
	t.Helper()
	b, err := Query(h.blk, "disputes/panel?reservation="+res)
	if err != nil {
		t.Fatal(err)
	}
	var p types.DisputePanel
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// withKey adds a read key sealed to the bridge and to the panel.
func withKey(t *testing.T, h *mkt, m *dispute.MsgOpenDispute) *dispute.MsgOpenDispute {
	t.Helper()
	secret := []byte("dispute-secret-0123456789abcdefghijklmn")
	bs, err := sealbox.Seal(secret, pubKey32())
	if err != nil {
		t.Fatal(err)
	}
	m.AccessKeyID, m.BridgeSecret = dspKeyID, bs
	for _, o := range panelOf(t, h, m.Reservation).Oracles {
		s, err := sealbox.Seal(secret, o.SealKey)
		if err != nil {
			t.Fatal(err)
		}
		m.OracleSecrets = append(m.OracleSecrets, dispute.OracleSecret{Oracle: o.Oracle, SealedSecret: s})
	}
	return m
}

func dataLoss(t *testing.T, h *mkt) *dispute.MsgOpenDispute {
	t.Helper()
	rc := signedReceipt(t, mktKey("prov"), "res-1", "photos/a.jpg", []byte("hello"), h.now-10)
	return withKey(t, h, &dispute.MsgOpenDispute{Reservation: "res-1", Kind: dispute.KindDataLoss, Deposit: dspDeposit, Receipt: rc})
}

func getDispute(t *testing.T, h *mkt, id string) types.Dispute {
	t.Helper()
	b, err := Query(h.blk, "disputes/"+id)
	if err != nil {
		t.Fatal(err)
	}
	var d types.Dispute
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func disputeAccount(t *testing.T, h *mkt, name string) types.DisputeAccount {
	t.Helper()
	b, err := Query(h.blk, "disputes/accounts/"+mktAddr(name))
	if err != nil {
		t.Fatal(err)
	}
	var a types.DisputeAccount
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// checkDisputes: the market invariants (supply, escrow, stake pool) and
// the dispute pool holding exactly the open disputes' deposits.
func checkDisputes(t *testing.T, h *mkt) {
	t.Helper()
	checkQoS(t, h)
	var open core.Amount
	for cursor := ""; ; {
		b, err := Query(h.blk, "disputes?status=open&limit=100&cursor="+cursor)
		if err != nil {
			t.Fatal(err)
		}
		var page types.DisputesPage
		if err := json.Unmarshal(b, &page); err != nil {
			t.Fatal(err)
		}
		for _, d := range page.Disputes {
			open += d.Deposit
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if got := bank.PoolBalance(h.blk, dispute.PoolDispute); got != open {
		t.Fatalf("dispute pool %d, open deposits %d", got, open)
	}
}

func hasKey(h *mkt, id string) bool { return h.blk.Get(accesskey.RecordKey(id)) != nil }

// TestDisputeDataLossUpheld: alice opens a data_loss dispute with the
// provider's receipt; the read key is served as a read key of res-1; two
// of the three oracles uphold it, which decides at once: prov loses
// dispute_slash of stake to alice, alice gets her deposit back, the key is
// dropped, the unit's score drops and both sides' counts say so.
func TestDisputeDataLossUpheld(t *testing.T) {
	h := newDisputes(t)
	aliceBefore, stakeBefore, score := h.bal("alice"), provStake(h), h.unit("unit-1").Score
	h.ok("alice", dataLoss(t, h))
	checkDisputes(t, h)
	d := getDispute(t, h, "dsp-1")
	if d.Status != dispute.StatusOpen || len(d.Panel) != 3 || d.Key != "photos/a.jpg" || d.Size != 5 {
		t.Fatalf("opened: %+v", d)
	}
	var k accesskey.AccessKey
	if !store.Get(h.blk, accesskey.RecordKey(dspKeyID), &k) || k.Perm != accesskey.PermRead || k.Reservation != "res-1" {
		t.Fatalf("dispute key: %+v", k)
	}
	if got := h.bal("alice"); got != aliceBefore-10-dspDeposit {
		t.Fatalf("alice %d after opening, want %d", got, aliceBefore-10-dspDeposit)
	}
	h.ok(nameOfAddr3(d.Panel[0].Oracle), &dispute.MsgVerdict{Dispute: "dsp-1", Verdict: dispute.VerdictUpheld, Observed: "404"})
	if getDispute(t, h, "dsp-1").Status != dispute.StatusOpen {
		t.Fatal("one verdict of three decided")
	}
	r := h.ok(nameOfAddr3(d.Panel[1].Oracle), &dispute.MsgVerdict{Dispute: "dsp-1", Verdict: dispute.VerdictUpheld, Observed: "404"})
	if !hasEvent(r.Events, "dispute_decided") {
		t.Fatalf("majority did not decide: %+v", r.Events)
	}
	d = getDispute(t, h, "dsp-1")
	if d.Status != dispute.StatusUpheld || d.Slashed != dspSlash || d.DepositTo != "consumer" {
		t.Fatalf("decided: %+v", d)
	}
	if got := h.bal("alice"); got != aliceBefore-10+dspSlash {
		t.Fatalf("alice %d, want %d (deposit back + slash)", got, aliceBefore-10+dspSlash)
	}
	if got := provStake(h); got != stakeBefore-dspSlash {
		t.Fatalf("provider stake %d, want %d", got, stakeBefore-dspSlash)
	}
	if hasKey(h, dspKeyID) {
		t.Fatal("the dispute key outlived the dispute")
	}
	if got := h.unit("unit-1").Score; got != score-dispute.ScorePenalty {
		t.Fatalf("score %d, want %d", got, score-dispute.ScorePenalty)
	}
	if a := disputeAccount(t, h, "alice"); a.Consumer.Opened != 1 || a.Consumer.Upheld != 1 || a.Consumer.Open != 0 {
		t.Fatalf("alice's counts: %+v", a.Consumer)
	}
	if a := disputeAccount(t, h, "prov"); a.Provider.Against != 1 || a.Provider.Upheld != 1 {
		t.Fatalf("prov's counts: %+v", a.Provider)
	}
	// A consumer whose dispute was upheld is no serial disputer.
	h.ok("prov", &dispute.MsgUnitPolicy{Unit: "unit-1", MaxConsumerDisputes: 1})
	h.ok("alice", &market.MsgReserve{Unit: "unit-1", Bytes: gib, Term: monthS, MaxPrice: unitP})
	// The third oracle comes late: the dispute is closed.
	if r := h.exec(nameOfAddr3(d.Panel[2].Oracle), &dispute.MsgVerdict{Dispute: "dsp-1", Verdict: dispute.VerdictRejected}); r.Code != core.CodeWrongState {
		t.Fatalf("late verdict: %s %s", r.Code.Name(), r.Log)
	}
	checkDisputes(t, h)
}

func nameOfAddr3(a string) string {
	for _, n := range append(append([]string{}, all3...), "prov", "alice", "bob", "carol") {
		if mktAddr(n) == a {
			return n
		}
	}
	return "?"
}

// TestDisputeRejectedPaysOracles: two oracles find the object intact and
// reject; the deposit is shared by the three that gave a verdict... here
// the two (the third never answered), the consumer's rejected count goes
// up, and a unit whose provider refuses consumers with a rejected dispute
// refuses alice's next reservation but not bob's.
func TestDisputeRejectedPaysOracles(t *testing.T) {
	h := newDisputes(t)
	aliceBefore := h.bal("alice")
	h.ok("alice", dataLoss(t, h))
	d := getDispute(t, h, "dsp-1")
	o1, o2 := nameOfAddr3(d.Panel[0].Oracle), nameOfAddr3(d.Panel[1].Oracle)
	b1, b2 := h.bal(o1), h.bal(o2)
	h.ok(o1, &dispute.MsgVerdict{Dispute: "dsp-1", Verdict: dispute.VerdictRejected, Observed: "sha256:2cf24dba"})
	h.ok(o2, &dispute.MsgVerdict{Dispute: "dsp-1", Verdict: dispute.VerdictRejected, Observed: "sha256:2cf24dba"})
	d = getDispute(t, h, "dsp-1")
	if d.Status != dispute.StatusRejected || d.DepositTo != "oracles" || d.Slashed != 0 {
		t.Fatalf("decided: %+v", d)
	}
	if h.bal(o1) != b1-10+dspDeposit/2 || h.bal(o2) != b2-10+dspDeposit/2 {
		t.Fatalf("oracles got %d and %d, want %d each", h.bal(o1)-b1+10, h.bal(o2)-b2+10, dspDeposit/2)
	}
	if got := h.bal("alice"); got != aliceBefore-10-dspDeposit {
		t.Fatalf("alice %d, want the deposit lost (%d)", got, aliceBefore-10-dspDeposit)
	}
	if hasKey(h, dspKeyID) {
		t.Fatal("the dispute key outlived the dispute")
	}
	checkDisputes(t, h)

	h.ok("prov", &dispute.MsgUnitPolicy{Unit: "unit-1", MaxConsumerDisputes: 1})
	reserve := &market.MsgReserve{Unit: "unit-1", Bytes: gib, Term: monthS, MaxPrice: unitP}
	if r := h.exec("alice", reserve); r.Code != core.CodeDisputesRefused {
		t.Fatalf("serial disputer reserved: %s %s", r.Code.Name(), r.Log)
	}
	h.ok("bob", reserve)
	h.ok("prov", &dispute.MsgUnitPolicy{Unit: "unit-1", MaxConsumerDisputes: 0})
	h.ok("alice", reserve)
	checkDisputes(t, h)
}

// TestDisputeWindowExpiry: without verdicts the window ends undecided at
// the deadline's EndBlock (the deposit back, nothing slashed, the key
// dropped); a verdict in the deadline's block is refused.
func TestDisputeWindowExpiry(t *testing.T) {
	h := newDisputes(t)
	aliceBefore, stakeBefore := h.bal("alice"), provStake(h)
	h.ok("alice", dataLoss(t, h))
	d := getDispute(t, h, "dsp-1")
	h.next(dspWindow - 1)
	if getDispute(t, h, "dsp-1").Status != dispute.StatusOpen {
		t.Fatal("decided before the deadline")
	}
	h.next(1) // the block at the deadline: verdicts refused, decided at its end
	if r := h.exec(nameOfAddr3(d.Panel[0].Oracle), &dispute.MsgVerdict{Dispute: "dsp-1", Verdict: dispute.VerdictUpheld}); r.Code != core.CodeWrongState {
		t.Fatalf("verdict at the deadline: %s %s", r.Code.Name(), r.Log)
	}
	h.next(1)
	d = getDispute(t, h, "dsp-1")
	if d.Status != dispute.StatusUndecided || d.DepositTo != "consumer" {
		t.Fatalf("after the window: %+v", d)
	}
	if h.bal("alice") != aliceBefore-10 || provStake(h) != stakeBefore || hasKey(h, dspKeyID) {
		t.Fatalf("alice %d (want %d), stake %d (want %d), key kept %v", h.bal("alice"), aliceBefore-10, provStake(h), stakeBefore, hasKey(h, dspKeyID))
	}
	if a := disputeAccount(t, h, "alice"); a.Consumer.Undecided != 1 || a.Consumer.Open != 0 {
		t.Fatalf("alice's counts: %+v", a.Consumer)
	}
	checkDisputes(t, h)
}

// TestDisputeEgressLowerFigure: the bridge reports 3 GiB of egress for
// an epoch, alice counted 1 GiB; the oracles cannot tell, so at the
// deadline the epoch is settled at her figure: the charge of 2 GiB (net
// and fee at res-1's price) comes back to her from the provider's stake,
// with her deposit.
func TestDisputeEgressLowerFigure(t *testing.T) {
	h := newDisputes(t)
	e := h.epoch()
	h.ok("prov", &market.MsgReportUsage{Reservation: "res-1", Epoch: e, StoredBytes: 1 << 20, EgressBytes: 3 * gib})
	aliceBefore, stakeBefore := h.bal("alice"), provStake(h)
	if r := h.exec("alice", &dispute.MsgOpenDispute{Reservation: "res-1", Kind: dispute.KindEgress, Deposit: dspDeposit, Epoch: e, EgressBytes: 3 * gib}); r.Code != core.CodeInvalidMessage {
		t.Fatalf("count equal to the report: %s %s", r.Code.Name(), r.Log)
	}
	h.ok("alice", &dispute.MsgOpenDispute{Reservation: "res-1", Kind: dispute.KindEgress, Deposit: dspDeposit, Epoch: e, EgressBytes: gib})
	d := getDispute(t, h, "dsp-1")
	for _, s := range d.Panel[:2] {
		h.ok(nameOfAddr3(s.Oracle), &dispute.MsgVerdict{Dispute: "dsp-1", Verdict: dispute.VerdictCannotTell})
	}
	h.ok(nameOfAddr3(d.Panel[2].Oracle), &dispute.MsgVerdict{Dispute: "dsp-1", Verdict: dispute.VerdictCannotTell})
	d = getDispute(t, h, "dsp-1")
	// 2 GiB at 1,000 uflash per GiB = 2,000 net + 2 % fee = 40.
	want := core.Amount(2*unitE + 2*unitE*2/100)
	if d.Status != dispute.StatusUndecided || d.EgressRefund != want {
		t.Fatalf("decided: %+v, want undecided with refund %d", d, want)
	}
	if got := h.bal("alice"); got != aliceBefore-20+want {
		t.Fatalf("alice %d, want %d", got, aliceBefore-20+want)
	}
	if got := provStake(h); got != stakeBefore-want {
		t.Fatalf("stake %d, want %d", got, stakeBefore-want)
	}
	checkDisputes(t, h)
}

// TestDisputeUnavailableUpheld: alice says she could not reach her data in
// the last epoch; two oracles uphold: she gets dispute_slash and the
// storage cost of that epoch (with its fee, at res-1's price) from the
// provider's stake, and her deposit back.
func TestDisputeUnavailableUpheld(t *testing.T) {
	h := newDisputes(t)
	e := h.epoch() - 1
	aliceBefore, stakeBefore := h.bal("alice"), provStake(h)
	h.ok("alice", &dispute.MsgOpenDispute{Reservation: "res-1", Kind: dispute.KindUnavailable, Deposit: dspDeposit, Epochs: []int64{e}})
	d := getDispute(t, h, "dsp-1")
	if len(d.Panel) != 3 || d.AccessKeyID != "" {
		t.Fatalf("opened: %+v", d)
	}
	for _, s := range d.Panel[:2] {
		h.ok(nameOfAddr3(s.Oracle), &dispute.MsgVerdict{Dispute: "dsp-1", Verdict: dispute.VerdictUpheld, Observed: "epoch breached on record"})
	}
	// 1 GiB at 1,000,000 uflash per GiB-month for one 60 s epoch, plus the
	// 2 % fee: ceil(1e6 x 60 x 1.02 / 2,592,000) = 24.
	want := core.Amount(24)
	d = getDispute(t, h, "dsp-1")
	if d.Status != dispute.StatusUpheld || d.EpochRefund != want || d.Slashed != dspSlash {
		t.Fatalf("decided: %+v, want upheld with epoch refund %d", d, want)
	}
	if got := h.bal("alice"); got != aliceBefore-10+dspSlash+want {
		t.Fatalf("alice %d, want %d", got, aliceBefore-10+dspSlash+want)
	}
	if got := provStake(h); got != stakeBefore-dspSlash-want {
		t.Fatalf("stake %d, want %d", got, stakeBefore-dspSlash-want)
	}
	checkDisputes(t, h)
}
