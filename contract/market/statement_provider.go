package market

// Provider statements: a provider's storage revenue per epoch, the sums
// of its reservations' statement lines (statement.go), so the lines of all
// epochs sum exactly to the totals. Bounded: at most
// maxProviderStatementRes reservations and MaxProviderStatementLines
// epochs per page.

import (
	"encoding/json"
	"net/url"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/store"
)

const (
	maxProviderStatementRes = 1_000
	// MaxProviderStatementLines bounds a page's epochs (each costs one
	// line per reservation).
	MaxProviderStatementLines = 100
)

// providerStmtCalcs prepares the statement of each started reservation of
// the provider; it refuses providers with too many to answer in one query.
func providerStmtCalcs(kv store.KV, raw []byte, mp Params) ([]*stmtCalc, int, error) {
	var calcs []*stmtCalc
	n := 0
	var err error
	prefix := store.Key(keyResProvider, raw)
	kv.Iterate(prefix, store.PrefixEnd(prefix), func(k, _ []byte) bool {
		suffix := k[len(prefix):]
		if len(suffix) != 8 {
			return true
		}
		if n++; n > maxProviderStatementRes {
			err = core.Errf(core.CodeInvalidQuery, "the provider has more than %d reservations: ask GET /v1/reservations/{id}/statement per reservation", maxProviderStatementRes)
			return false
		}
		r, ok := GetReservation(kv, ResIDString(store.DecodeUint64(suffix)))
		if !ok {
			return true
		}
		if c, started, _ := newStmtCalc(kv, r, mp); started {
			calcs = append(calcs, c)
		}
		return true
	})
	return calcs, n, err
}

func (mk *Keeper) queryProviderStatement(kv store.KV, addr string, q url.Values) ([]byte, error) {
	raw, err := address.Parse(addr)
	if err != nil {
		return nil, core.Errf(core.CodeInvalidAddress, "%v", err)
	}
	if _, ok := GetProvider(kv, raw); !ok {
		return nil, core.Errf(core.CodeNotFound, "%s is not a provider", addr)
	}
	mp := ParamsOf(kv)
	calcs, n, err := providerStmtCalcs(kv, raw, mp)
	if err != nil {
		return nil, err
	}
	st := types.ProviderStatement{Provider: address.Encode(raw), AsOf: core.Time(LastBlockTime(kv)), Reservations: n, Lines: []types.ProviderStatementLine{},
		Notes: []string{
			"storage_paid and fee are the sums of the provider's reservation statements; revenue = storage_paid - fee",
			"claimed + claimable can be below revenue: a unit pays the floor of its exact total, and its last settle_lag epochs are final only once QoS judged them",
			"egress is known only as running totals: it is in the totals, not in the epoch lines",
		}}
	for i, c := range calcs {
		f, l := EpochOf(c.start, mp.Epoch), EpochOf(c.through-1, mp.Epoch)
		if i == 0 || f < st.FirstEpoch {
			st.FirstEpoch = f
		}
		st.LastEpoch = max(st.LastEpoch, l)
	}
	if len(calcs) > 0 {
		if err := providerStatementPage(&st, calcs, q); err != nil {
			return nil, err
		}
	}
	if err := providerStatementTotals(kv, &st, calcs); err != nil {
		return nil, err
	}
	return json.Marshal(st)
}

func providerStatementPage(st *types.ProviderStatement, calcs []*stmtCalc, q url.Values) error {
	from, err := QueryInt(q, "from", st.FirstEpoch, ParsePlainInt)
	if err != nil {
		return err
	}
	limit, err := QueryInt(q, "limit", MaxProviderStatementLines, ParsePlainInt)
	if err != nil {
		return err
	}
	limit = min(max(limit, 1), MaxProviderStatementLines)
	from = max(from, st.FirstEpoch)
	for e := from; e <= st.LastEpoch && e < from+limit; e++ {
		pl := types.ProviderStatementLine{Epoch: e}
		for _, c := range calcs {
			if e < EpochOf(c.start, c.mp.Epoch) || e > EpochOf(c.through-1, c.mp.Epoch) {
				continue
			}
			l, err := c.line(e)
			if err != nil {
				return err
			}
			if pl.StoragePaid, err = core.Add(pl.StoragePaid, l.StoragePaid); err != nil {
				return err
			}
			if pl.Fee, err = core.Add(pl.Fee, l.Fee); err != nil {
				return err
			}
		}
		pl.Revenue = pl.StoragePaid - pl.Fee // fee <= storage_paid on every reservation line
		st.Lines = append(st.Lines, pl)
	}
	if from+limit <= st.LastEpoch {
		st.NextFrom = from + limit
	}
	return nil
}

// providerStatementTotals sums the reservations' storage charges and
// egress, and the claims of their units (each once).
func providerStatementTotals(kv store.KV, st *types.ProviderStatement, calcs []*stmtCalc) error {
	t := &st.Totals
	var err error
	add := func(dst *core.Amount, v core.Amount) { // checked: an error sticks
		if err == nil {
			*dst, err = core.Add(*dst, v)
		}
	}
	units := map[string]bool{}
	for _, c := range calcs {
		g := c.gross(c.final)
		gross, gerr := core.AmountFromBig(g, "storage")
		fee, ferr := core.AmountFromBig(c.feeOf(g), "fee")
		if gerr != nil || ferr != nil {
			return core.Errf(core.CodeOverflow, "reservation %s storage charge overflows an amount", c.r.ID)
		}
		add(&t.StoragePaid, gross)
		add(&t.Fee, fee)
		add(&t.EgressPaid, c.r.EgressPaid)
		add(&t.EgressFee, c.r.EgressFee)
		if units[c.r.Unit] {
			continue
		}
		units[c.r.Unit] = true
		if u, ok := GetUnit(kv, c.r.Unit); ok {
			add(&t.Claimed, u.Settlement.ClaimedNet)
			add(&t.ClaimedFee, u.Settlement.ClaimedFee)
			if u.Status != UnitDeleted {
				add(&t.Claimable, UnitClaimable(kv, u, max(st.AsOf.Unix(), u.Settlement.AccruedTo.Unix())))
			}
		}
	}
	t.Revenue = t.StoragePaid - t.Fee
	return err
}
