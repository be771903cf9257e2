package contract

import (
	"testing"

	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/tx"
)

// overBound is more due entries than one block hook takes.
const overBound = market.MaxQueuedPerBlock + 50

// execBatched sends msgs from name in txs of at most tx.MaxMsgs messages.
func (h *mkt) execBatched(name string, msgs []core.Msg) {
	h.t.Helper()
	for len(msgs) > 0 {
		k := min(len(msgs), tx.MaxMsgs)
		h.ok(name, msgs[:k]...)
		msgs = msgs[k:]
	}
}

// countStatus counts reservations first..last by status.
func (h *mkt) countStatus(first, last uint64) map[string]int {
	out := map[string]int{}
	for n := first; n <= last; n++ {
		out[h.res(market.ResIDString(n)).Status]++
	}
	return out
}

// More accept timeouts fall due at once than one EndBlock takes: the first
// block expires MaxQueuedPerBlock of them, the next the rest; each expires
// as of its deadline with its whole escrow refunded, and a provider cannot
// accept one whose deadline passed while it waited in the queue.
func TestAcceptTimeoutsBoundedPerBlock(t *testing.T) {
	h := fixture(t)
	balStart := h.bal("alice") + h.res("res-2").Escrowed // res-2's refund comes back too
	reservedStart := h.unit("unit-2").Reserved - h.res("res-2").Bytes
	var msgs []core.Msg
	for range overBound {
		msgs = append(msgs, &market.MsgReserve{Unit: "unit-2", Bytes: 1 << 20, Term: 3600, EgressBytes: 1 << 20, MaxPrice: unitP})
	}
	h.execBatched("alice", msgs)
	fees := core.Amount(10 * ((overBound + tx.MaxMsgs - 1) / tx.MaxMsgs))
	// res-2 is the fixture's pending reservation (an earlier deadline);
	// res-3.. are this burst.
	first, last := uint64(2), uint64(2+overBound)
	deadlines := map[uint64]core.Time{}
	for n := first; n <= last; n++ {
		deadlines[n] = h.res(market.ResIDString(n)).AcceptBy
	}
	h.next(testParams().AcceptTimeout + 5) // past the deadline
	h.next(1)                              // its EndBlock runs at the later time
	if got := h.countStatus(first, last); got[market.ResExpired] != market.MaxQueuedPerBlock || got[market.ResPending] != 51 {
		t.Fatalf("after one EndBlock: %v, want %d expired and 51 pending", got, market.MaxQueuedPerBlock)
	}
	if r := h.exec("prov", &market.MsgAcceptReservation{ResRef: market.ResRef{Reservation: market.ResIDString(last)}}); r.Code != core.CodeWrongState {
		t.Fatalf("accepting a reservation past its deadline: %s (%s), want wrong_state", r.Code.Name(), r.Log)
	}
	h.next(1)
	if got := h.countStatus(first, last); got[market.ResExpired] != overBound+1 {
		t.Fatalf("after two EndBlocks: %v, want all %d expired", got, overBound+1)
	}
	for n := first; n <= last; n++ {
		r := h.res(market.ResIDString(n))
		if r.ClosedAt != deadlines[n] || r.Refunded != r.Escrowed || r.Escrowed == 0 {
			t.Fatalf("%s: closed %s (deadline %s), refunded %d of %d", r.ID, r.ClosedAt, deadlines[n], r.Refunded, r.Escrowed)
		}
	}
	if got := h.bal("alice"); got != balStart-fees {
		t.Fatalf("alice balance %d, want %d (only fees spent)", got, balStart-fees)
	}
	if got := h.unit("unit-2").Reserved; got != reservedStart {
		t.Fatalf("unit-2 reserved %d, want %d back", got, reservedStart)
	}
	if err := bank.CheckSupply(h.blk); err != nil {
		t.Fatal(err)
	}
}

// More unbonding entries fall due at once than one EndBlock takes: they are
// all released over two blocks, each exactly once.
func TestUnbondingBoundedPerBlock(t *testing.T) {
	h := fixture(t)
	var msgs []core.Msg
	for range overBound {
		msgs = append(msgs, &market.MsgUnstake{Amount: 1})
	}
	h.execBatched("bob", msgs)
	unstaked := h.bal("bob")
	h.next(testParams().UnbondingPeriod + 5)
	h.next(1)
	if got := h.bal("bob"); got != unstaked+market.MaxQueuedPerBlock {
		t.Fatalf("after one EndBlock bob has %d, want %d (%d released)", got, unstaked+market.MaxQueuedPerBlock, market.MaxQueuedPerBlock)
	}
	p, _ := market.GetProvider(h.blk, mktRaw("bob"))
	if len(p.Unbonding) != 50 {
		t.Fatalf("%d unbonding entries left, want 50", len(p.Unbonding))
	}
	h.next(1)
	h.next(1)
	if got := h.bal("bob"); got != unstaked+overBound {
		t.Fatalf("after the backlog bob has %d, want %d", got, unstaked+overBound)
	}
	p, _ = market.GetProvider(h.blk, mktRaw("bob"))
	if len(p.Unbonding) != 0 {
		t.Fatalf("%d unbonding entries left, want none", len(p.Unbonding))
	}
	if err := bank.CheckSupply(h.blk); err != nil {
		t.Fatal(err)
	}
}
