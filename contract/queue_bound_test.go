package contract

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
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

// More unbonding entries fall due at once than one EndBlock takes (150
// providers with MaxUnbondingEntries each): they are all released over two
// blocks, each exactly once.
func TestUnbondingBoundedPerBlock(t *testing.T) {
	h := fixture(t)
	const providers = overBound / market.MaxUnbondingEntries
	if providers*market.MaxUnbondingEntries != overBound {
		t.Fatalf("overBound %d is not a multiple of %d", overBound, market.MaxUnbondingEntries)
	}
	name := func(i int) string { return fmt.Sprintf("ub%d", i) }
	var sends []core.Msg
	for i := range providers {
		sends = append(sends, &bank.MsgSend{To: mktAddr(name(i)), Amount: 1_000})
	}
	h.execBatched("carol", sends)
	start := map[string]core.Amount{}
	for i := range providers {
		msgs := []core.Msg{regProvider(name(i)), &market.MsgStake{Amount: 100}}
		for range market.MaxUnbondingEntries {
			msgs = append(msgs, &market.MsgUnstake{Amount: 1})
		}
		h.ok(name(i), msgs...)
		start[name(i)] = h.bal(name(i))
	}
	released := func() (n int) {
		for i := range providers {
			n += int(h.bal(name(i)) - start[name(i)])
		}
		return n
	}
	entries := func() (n int) {
		for i := range providers {
			p, _ := market.GetProvider(h.blk, mktRaw(name(i)))
			n += len(p.Unbonding)
		}
		return n
	}
	h.next(testParams().UnbondingPeriod + 5)
	h.next(1)
	if got := released(); got != market.MaxQueuedPerBlock {
		t.Fatalf("after one EndBlock %d released, want %d", got, market.MaxQueuedPerBlock)
	}
	if n := entries(); n != 50 {
		t.Fatalf("%d unbonding entries left, want 50", n)
	}
	h.next(1)
	h.next(1)
	if got := released(); got != overBound {
		t.Fatalf("after the backlog %d released, want %d", got, overBound)
	}
	if n := entries(); n != 0 {
		t.Fatalf("%d unbonding entries left, want none", n)
	}
	if err := bank.CheckSupply(h.blk); err != nil {
		t.Fatal(err)
	}
}

// More reservation terms end at once than one BeginBlock settles: the first
// block ends MaxQueuedPerBlock, and while the rest wait the market refuses
// messages that touch units or reservations (the limit in the error); the
// next block ends the rest. Every reservation pays exactly its full term,
// closed at its own end, and the unit accrues exactly the sum of the terms,
// as if all had ended in one block.
func TestTermEndsBoundedPerBlock(t *testing.T) {
	h := fixture(t)
	h.ok("prov", addUnit(unitP, unitE, 100*gib, true)) // unit-4, for this burst only
	const term = 3600
	var msgs []core.Msg
	for range overBound {
		msgs = append(msgs, &market.MsgReserve{Unit: "unit-4", Bytes: gib / 16, Term: term, MaxPrice: unitP})
	}
	h.execBatched("alice", msgs)
	first, last := uint64(3), uint64(2+overBound)
	end := h.res(market.ResIDString(first)).End
	if h.res(market.ResIDString(last)).End != end {
		t.Fatal("the burst's terms end at different times")
	}
	h.next(term) // this block's BeginBlock runs at the common end
	if got := h.countStatus(first, last); got[market.ResCompleted] != market.MaxQueuedPerBlock || got[market.ResActive] != 50 {
		t.Fatalf("after one BeginBlock: %v, want %d completed and 50 active", got, market.MaxQueuedPerBlock)
	}
	if !market.SettlingTermEnds(h.blk) {
		t.Fatal("market not settling with term ends left")
	}
	r := h.exec("bob", &market.MsgReserve{Unit: "unit-1", Bytes: gib, Term: 60, MaxPrice: unitP})
	if r.Code != core.CodeWrongState || !strings.Contains(r.Log, strconv.Itoa(market.MaxQueuedPerBlock)) {
		t.Fatalf("reserve while settling: %s (%s), want wrong_state naming the limit", r.Code.Name(), r.Log)
	}
	if err := bank.CheckSupply(h.blk); err != nil {
		t.Fatal(err)
	}
	h.next(7)
	if got := h.countStatus(first, last); got[market.ResCompleted] != overBound {
		t.Fatalf("after two BeginBlocks: %v, want all %d completed", got, overBound)
	}
	if market.SettlingTermEnds(h.blk) {
		t.Fatal("market still settling after the last term end")
	}
	checkBurstSettledAtEnd(t, h, first, last, term)
	h.ok("bob", &market.MsgReserve{Unit: "unit-1", Bytes: gib, Term: 60, MaxPrice: unitP})
	checkMarketInvariants(t, h.blk, h.now)
}

// checkBurstSettledAtEnd: each reservation first..last (same rate, full
// term) closed at its end and paid the ceiling of its whole term; the unit
// accrued exactly the sum of the terms and holds no active rate.
func checkBurstSettledAtEnd(t *testing.T, h *mkt, first, last uint64, term int64) {
	t.Helper()
	rate := market.ResRate(h.res(market.ResIDString(first)))
	full := new(big.Int).Mul(rate, big.NewInt(term))
	for n := first; n <= last; n++ {
		r := h.res(market.ResIDString(n))
		want, err := core.AmountFromBig(market.GrossCeil(full, r.FeeBps), "charge")
		if err != nil {
			t.Fatal(err)
		}
		if r.ClosedAt != r.End || r.StoragePaid != want || r.Refunded != r.Escrowed-want {
			t.Fatalf("%s: closed %s (end %s), paid %d (want %d), refunded %d of %d", r.ID, r.ClosedAt, r.End, r.StoragePaid, want, r.Refunded, r.Escrowed)
		}
	}
	u := h.unit("unit-4")
	sum := new(big.Int).Mul(full, big.NewInt(int64(last-first+1)))
	if core.BigFromDecimal(u.Settlement.Accrued).Cmp(sum) != 0 || core.BigFromDecimal(u.Settlement.SumRate).Sign() != 0 || u.Reserved != 0 {
		t.Fatalf("unit-4 accrued %s (want %s), sum rate %s, reserved %d", u.Settlement.Accrued, sum, u.Settlement.SumRate, u.Reserved)
	}
}
