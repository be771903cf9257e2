package market

// Reservation statements (issue 15): one line per epoch of a reservation's
// life with what the consumer was charged for storage, its fee and the
// storage not charged for breached time, and totals that reconcile with
// the reservation's escrow.
//
// Every per-epoch amount is a difference of one monotone rounded function
// of the cumulative exact pbs at the epoch's two boundaries (telescoping),
// with the rounding settlement uses: the consumer's charge is GrossCeil of
// the cumulative paid pbs (capped at the storage escrow, like the view),
// so the lines of the whole life sum exactly to the charge the settlement
// makes. Egress is only known as running totals and compensation only as
// what was collected, so both appear in the totals alone.

import (
	"encoding/json"
	"math/big"
	"net/url"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/store"
)

// Statement page sizes, in epochs.
const (
	DefaultStatementLines = 100
	MaxStatementLines     = 1000
)

// stmtCalc holds what one statement's lines are computed from.
type stmtCalc struct {
	kv             store.KV
	u              *Unit
	r              *Reservation
	mp             Params
	start, through int64
	final          *big.Int // exact pbs charged through `through`
}

// cum is the exact pbs charged in [start, b): the reservation's rate over
// its compliant seconds, never more than the exact total (resized
// reservations are reconstructed at the current rate).
func (c *stmtCalc) cum(b int64) *big.Int {
	if b >= c.through {
		return new(big.Int).Set(c.final)
	}
	x := new(big.Int).Mul(ResRate(c.r), core.BigFromInt(compliantSeconds(c.kv, c.u, c.start, b, c.mp.Epoch)))
	if x.Cmp(c.final) > 0 {
		return new(big.Int).Set(c.final)
	}
	return x
}

// gross is the consumer's cumulative storage charge for pbs.
func (c *stmtCalc) gross(pbs *big.Int) *big.Int {
	g := GrossCeil(pbs, c.r.FeeBps)
	if esc := core.BigFromUint(uint64(c.r.StorageEsc)); g.Cmp(esc) > 0 {
		return esc
	}
	return g
}

// feeOf is the fee part of a cumulative charge g: floor(g x fee /
// (10000+fee)), monotone in g so per-epoch fees are never negative.
func (c *stmtCalc) feeOf(g *big.Int) *big.Int {
	f := new(big.Int).Mul(g, core.BigFromInt(int64(c.r.FeeBps)))
	return f.Quo(f, core.BigFromInt(int64(BpsDenom)+int64(c.r.FeeBps)))
}

// uncharged is the storage not charged in [start, b) for breached time.
func (c *stmtCalc) uncharged(b int64) *big.Int {
	b = min(b, c.through)
	bad := (b - c.start) - compliantSeconds(c.kv, c.u, c.start, b, c.mp.Epoch)
	return GrossCeil(new(big.Int).Mul(ResRate(c.r), core.BigFromInt(max(bad, 0))), c.r.FeeBps)
}

// stepOf is a(hi) - a(lo) as an amount (a is monotone, so never negative).
func stepOf(hi, lo *big.Int, what string) (core.Amount, error) {
	return core.AmountFromBig(new(big.Int).Sub(hi, lo), what)
}

func (c *stmtCalc) line(e int64) (types.StatementLine, error) {
	lo, hi := max(e*c.mp.Epoch, c.start), min((e+1)*c.mp.Epoch, c.through)
	n, _ := ParseUnitID(c.u.ID)
	l := types.StatementLine{Epoch: e, From: core.Time(lo), To: core.Time(hi), Breached: c.u.Settlement.BreachCount > 0 && IsBreached(c.kv, n, e)}
	gLo, gHi := c.gross(c.cum(lo)), c.gross(c.cum(hi))
	var err error
	if l.StoragePaid, err = stepOf(gHi, gLo, "storage"); err != nil {
		return l, err
	}
	if l.Fee, err = stepOf(c.feeOf(gHi), c.feeOf(gLo), "fee"); err != nil {
		return l, err
	}
	l.Refund, err = stepOf(c.uncharged(hi), c.uncharged(lo), "refund")
	return l, err
}

// statementSpan is [start, through) of r's billed life and the exact pbs
// charged in it; ok is false when r never started.
func statementSpan(kv store.KV, u *Unit, r *Reservation, mp Params) (start, through int64, final *big.Int, ok bool) {
	start = r.Start.Unix()
	if r.Status == ResPending || start <= 0 {
		return 0, 0, nil, false
	}
	if r.Status == ResActive {
		through = min(max(LastBlockTime(kv), r.SettledTo.Unix()), r.End.Unix())
		return start, through, AccruedPBS(kv, u, r, through, mp), through > start
	}
	through = r.ClosedAt.Unix()
	if through <= 0 {
		through = r.SettledTo.Unix()
	}
	return start, through, core.BigFromDecimal(r.PaidPBS), through > start
}

// newStmtCalc prepares r's statement; ok is false when r never started,
// haveUnit when its unit (and so its breach index) is gone.
func newStmtCalc(kv store.KV, r *Reservation, mp Params) (c *stmtCalc, ok, haveUnit bool) {
	u, haveUnit := GetUnit(kv, r.Unit)
	if !haveUnit {
		u = &Unit{ID: r.Unit} // deleted unit: no breach index left
	}
	start, through, final, ok := statementSpan(kv, u, r, mp)
	return &stmtCalc{kv: kv, u: u, r: r, mp: mp, start: start, through: through, final: final}, ok, haveUnit
}

// reconstructed reports whether the current rate over the compliant time
// differs from the exact charge (a resize or held epochs).
func (c *stmtCalc) reconstructed() bool {
	x := new(big.Int).Mul(ResRate(c.r), core.BigFromInt(compliantSeconds(c.kv, c.u, c.start, c.through, c.mp.Epoch)))
	return x.Cmp(c.final) != 0
}

func (mk *Keeper) queryStatement(kv store.KV, id string, q url.Values) ([]byte, error) {
	r, found := GetReservation(kv, id)
	if !found {
		return nil, core.Errf(core.CodeNotFound, "reservation %q not found", id)
	}
	mp := ParamsOf(kv)
	view := mk.NewReservationView(kv, r)
	st := types.Statement{Reservation: r.ID, Status: r.Status, AsOf: view.AsOf, Start: r.Start, Lines: []types.StatementLine{},
		Notes: []string{
			"egress is known only as running totals: it is in the totals, not in the epoch lines",
			"compensation is paid from the provider's slashed stake, not from the escrow; it is in the totals, not per epoch",
			"refund is storage not charged for breached time; it is returned from the escrow when the reservation closes",
		}}
	c, ok, haveUnit := newStmtCalc(kv, r, mp)
	if !haveUnit {
		st.Notes = append(st.Notes, "the unit is deleted: its breached epochs are no longer known, so no line is marked breached; totals are exact")
	}
	if ok {
		st.Through = core.Time(c.through)
		st.FirstEpoch, st.LastEpoch = EpochOf(c.start, mp.Epoch), EpochOf(c.through-1, mp.Epoch)
		if c.reconstructed() {
			st.Notes = append(st.Notes, "the reservation was resized or had held epochs: the epoch split is reconstructed at its current size; totals are exact")
		}
		if err := c.page(&st, q); err != nil {
			return nil, err
		}
	}
	if err := c.totals(&st, view, ok); err != nil {
		return nil, err
	}
	return json.Marshal(st)
}

// page fills st.Lines with epochs from= (default the first) for limit=
// epochs (default 100, at most 1000).
func (c *stmtCalc) page(st *types.Statement, q url.Values) error {
	from, err := QueryInt(q, "from", st.FirstEpoch, ParsePlainInt)
	if err != nil {
		return err
	}
	limit, err := QueryInt(q, "limit", DefaultStatementLines, ParsePlainInt)
	if err != nil {
		return err
	}
	if limit <= 0 {
		limit = DefaultStatementLines
	}
	limit = min(limit, MaxStatementLines)
	from = max(from, st.FirstEpoch)
	for e := from; e <= st.LastEpoch && e < from+limit; e++ {
		l, err := c.line(e)
		if err != nil {
			return err
		}
		st.Lines = append(st.Lines, l)
	}
	if from+limit <= st.LastEpoch {
		st.NextFrom = from + limit
	}
	return nil
}

// totals fills st.Totals and checks that they reconcile with the
// reservation's view.
func (c *stmtCalc) totals(st *types.Statement, view types.ReservationView, started bool) error {
	r, t := c.r, &st.Totals
	if started {
		g := c.gross(c.final)
		var err error
		if t.StoragePaid, err = core.AmountFromBig(g, "storage"); err != nil {
			return err
		}
		if t.Fee, err = core.AmountFromBig(c.feeOf(g), "fee"); err != nil {
			return err
		}
		if t.Refund, err = core.AmountFromBig(c.uncharged(c.through), "refund"); err != nil {
			return err
		}
	}
	t.EgressPaid, t.EgressFee = r.EgressPaid, r.EgressFee
	t.Refunded, t.Compensation, t.CompensationOwed = r.Refunded, r.Compensation, view.CompensationOwed
	t.EscrowLeft, t.Escrowed = view.RemainingEscrow, r.Escrowed
	paid, err := core.Add(t.StoragePaid, t.EgressPaid)
	if err == nil {
		paid, err = core.Add(paid, t.EgressFee)
	}
	if err != nil {
		return err
	}
	t.Paid = paid
	out, err := core.Add(paid, t.Refunded)
	if err == nil {
		out, err = core.Add(out, t.EscrowLeft)
	}
	if err != nil {
		return err
	}
	if paid != view.Paid || out != t.Escrowed {
		return core.Errf(core.CodeInternal, "statement of %s does not reconcile: paid %d (view %d), paid+refunded+left %d, escrowed %d", r.ID, paid, view.Paid, out, t.Escrowed)
	}
	t.Total, err = core.Add(out, t.Compensation)
	return err
}
