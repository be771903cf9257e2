package dispute

import (
	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/store"
)

func (k *Keeper) handleVerdict(ctx *core.Context, signer []byte, m *MsgVerdict) error {
	n := m.n
	if n == 0 {
		var err error
		if n, err = ParseID(m.Dispute); err != nil {
			return err
		}
	}
	d, ok := Get(ctx.KV, n)
	if !ok {
		return core.Errf(core.CodeNotFound, "dispute %s does not exist", m.Dispute)
	}
	if d.Status != StatusOpen {
		return core.Errf(core.CodeWrongState, "dispute %s is %s; verdicts are taken while it is open", d.ID, d.Status)
	}
	if ctx.Now() >= int64(d.Deadline) {
		return core.Errf(core.CodeWrongState, "dispute %s's window ended at %d; it is decided at the end of this block", d.ID, int64(d.Deadline))
	}
	oracle := ctx.SignerAddress(signer)
	seat := -1
	for i := range d.Panel {
		if d.Panel[i].Oracle == oracle {
			seat = i
		}
	}
	if seat < 0 {
		return core.Errf(core.CodeNotAssigned, "%s is not on the panel of dispute %s (the oracles assigned to %s in epoch %d)", oracle, d.ID, d.Unit, d.Epoch)
	}
	if d.Panel[seat].Verdict != "" {
		return core.Errf(core.CodeDuplicateVerdict, "oracle %s already gave its verdict on %s (%s)", oracle, d.ID, d.Panel[seat].Verdict)
	}
	d.Panel[seat].Verdict, d.Panel[seat].Observed, d.Panel[seat].At = m.Verdict, m.Observed, core.Time(ctx.Now())
	d.VerdictsGiven++
	st := getStats(ctx.KV)
	inc(&st.Verdicts)
	store.Set(ctx.KV, keyStats, &st)
	ctx.Emit("dispute_verdict", "dispute", d.ID, "reservation", d.Reservation, "provider", d.Provider,
		"oracle", oracle, "verdict", m.Verdict, "observed", m.Observed)
	if outcome, done := tally(d, false); done {
		ctx.KV.Delete(queueKey(int64(d.Deadline), n))
		return k.decide(ctx, n, d, outcome)
	}
	set(ctx.KV, n, d)
	return nil
}

// tally is the panel's decision: a majority of the panel decides at once;
// at the deadline (final) a majority of the verdicts given decides, and
// without one (or without verdicts) the dispute is undecided.
func tally(d *Dispute, final bool) (outcome string, done bool) {
	var up, rej, given int
	for _, s := range d.Panel {
		switch s.Verdict {
		case VerdictUpheld:
			up++
		case VerdictRejected:
			rej++
		}
		if s.Verdict != "" {
			given++
		}
	}
	n := len(d.Panel)
	switch {
	case 2*up > n:
		return StatusUpheld, true
	case 2*rej > n:
		return StatusRejected, true
	case !final && given < n:
		return "", false
	case 2*up > given:
		return StatusUpheld, true
	case 2*rej > given:
		return StatusRejected, true
	}
	return StatusUndecided, true
}

// EndBlock decides the disputes whose window has ended, in deadline order,
// at most MaxDecidedPerBlock per block; each in isolation, so one that
// fails (it should not) leaves the others and the block intact.
func (k *Keeper) EndBlock(kv store.KV, blk core.Block) []core.Event {
	var ev []core.Event
	for _, qk := range market.DueKeys(kv, keyQueue, blk.Time.Unix(), MaxDecidedPerBlock) {
		n := store.DecodeUint64(qk[len(keyQueue)+8:])
		ev = append(ev, market.RunIsolated(kv, blk, "dispute "+IDString(n), func(ctx *core.Context) error {
			ctx.KV.Delete(qk)
			d, ok := Get(ctx.KV, n)
			if !ok || d.Status != StatusOpen {
				return nil
			}
			outcome, _ := tally(d, true)
			return k.decide(ctx, n, d, outcome)
		})...)
	}
	return ev
}

// decide closes dispute n with outcome: it moves the money, updates the
// counts and stats, and drops the read key.
func (k *Keeper) decide(ctx *core.Context, n uint64, d *Dispute, outcome string) error {
	kv := ctx.KV
	var err error
	switch outcome {
	case StatusUpheld:
		err = k.uphold(ctx, d)
	case StatusRejected:
		err = k.reject(ctx, d)
	default:
		err = k.undecided(ctx, d)
	}
	if err != nil {
		return err
	}
	d.Status, d.ClosedAt = outcome, core.Time(ctx.Now())
	set(kv, n, d)
	resN, _ := market.ParseResID(d.Reservation)
	releaseEvidence(kv, resN, d, outcome)
	openKey := store.Key(keyOpenRes, store.EncodeUint64(resN))
	if c := store.GetUint64(kv, openKey); c > 1 {
		store.SetUint64(kv, openKey, c-1)
	} else {
		kv.Delete(openKey)
	}
	k.count(kv, d, outcome)
	if d.AccessKeyID != "" {
		k.keys.DropKey(ctx, d.AccessKeyID)
	}
	ctx.Emit("dispute_decided", "dispute", d.ID, "reservation", d.Reservation, "provider", d.Provider, "consumer", d.Consumer,
		"kind", d.Kind, "outcome", outcome, "slashed", d.Slashed.String(), "egress_refund", d.EgressRefund.String(),
		"epoch_refund", d.EpochRefund.String(), "deposit_to", d.DepositTo)
	return nil
}

// count moves the dispute from open to its outcome in both sides' counts
// and the stats.
func (k *Keeper) count(kv store.KV, d *Dispute, outcome string) {
	consRaw, _ := address.Parse(d.Consumer)
	provRaw, _ := address.Parse(d.Provider)
	cc, pc, st := getConsumerCounts(kv, consRaw), getProviderCounts(kv, provRaw), getStats(kv)
	if cc.Open > 0 {
		cc.Open--
	}
	if pc.Open > 0 {
		pc.Open--
	}
	switch outcome {
	case StatusUpheld:
		inc(&cc.Upheld)
		inc(&pc.Upheld)
		inc(&st.Upheld)
	case StatusRejected:
		inc(&cc.Rejected)
		inc(&pc.Rejected)
		inc(&st.Rejected)
	default:
		inc(&cc.Undecided)
		inc(&pc.Undecided)
		inc(&st.Undecided)
	}
	addSat(&st.Slashed, d.Slashed)
	addSat(&st.EgressRefunded, d.EgressRefund)
	addSat(&st.EpochsRefunded, d.EpochRefund)
	if d.DepositTo == depositToOracles {
		addSat(&st.DepositsToOracles, d.Deposit)
	}
	store.Set(kv, store.Key(keyConsCount, consRaw), &cc)
	store.Set(kv, store.Key(keyProvCount, provRaw), &pc)
	store.Set(kv, keyStats, &st)
}
