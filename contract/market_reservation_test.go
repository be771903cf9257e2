package contract

import (
	"math"
	"testing"

	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
)

// reserveCases: reserving: prices, capacity, funds, overflow, terms and the accept timeout.
func reserveCases() []mktCase {
	reserve := func(bytes uint64, term int64, max core.Amount) *market.MsgReserve {
		return &market.MsgReserve{Unit: "unit-1", Bytes: bytes, Term: term, EgressBytes: gib, MaxPrice: max}
	}
	return []mktCase{
		{name: "reserve ok", signer: "carol", msg: reserve(2*gib, monthS, unitP), check: func(t *testing.T, h *mkt) {
			r := h.res("res-3")
			// storage 2 GiB x 1 month x 1,000,000 = 2,000,000 + 2% = 2,040,000;
			// egress 1 GiB x 1,000 = 1,000 + 20 fee.
			if r.Status != market.ResActive || r.StorageEsc != 2_040_000 || r.EgressEsc != 1_000 || r.EgressFeeEsc != 20 || r.Escrowed != 2_041_020 || r.End.Unix() != h.now+monthS {
				t.Fatalf("%+v", r)
			}
			if h.unit("unit-1").Reserved != 3*gib {
				t.Fatal("reserved")
			}
		}},
		{name: "reserve price above max", signer: "carol", msg: reserve(gib, 10, unitP-1), code: core.CodePriceTooHigh},
		{name: "reserve egress price above max", signer: "carol", msg: &market.MsgReserve{Unit: "unit-1", Bytes: gib, Term: 10, EgressBytes: gib, MaxPrice: unitP, MaxEgressPrice: amt(unitE - 1)}, code: core.CodePriceTooHigh},
		{name: "reserve egress price at max", signer: "carol", msg: &market.MsgReserve{Unit: "unit-1", Bytes: gib, Term: 10, EgressBytes: gib, MaxPrice: unitP, MaxEgressPrice: amt(unitE)}, check: func(t *testing.T, h *mkt) {
			if r := h.res("res-3"); r.EgressPrice != unitE {
				t.Fatalf("egress price %d, want %d copied", r.EgressPrice, unitE)
			}
		}},
		{name: "reserve no capacity", signer: "carol", msg: reserve(99*gib+1, 10, unitP), code: core.CodeNoCapacity},
		{name: "reserve own unit", signer: "prov", msg: reserve(gib, 10, unitP), code: core.CodeUnauthorized},
		{name: "reserve insufficient funds", signer: "mallory", msg: reserve(gib, monthS, unitP), code: core.CodeInsufficientFunds},
		{name: "reserve overflow", signer: "carol", setup: func(h *mkt) {
			big := core.Amount(1) << 62
			cp := uint64(1) << 62
			h.ok("prov", &market.MsgUpdateUnit{Unit: "unit-1", StoragePrice: &big, Capacity: &cp})
		}, msg: &market.MsgReserve{Unit: "unit-1", Bytes: 1 << 61, Term: 400 * 86400, MaxPrice: core.MaxAmount}, code: core.CodeOverflow},
		{name: "reserve term too long", signer: "carol", msg: reserve(gib, 401*86400, unitP), code: core.CodeInvalidMessage},
		{name: "reserve unit not found", signer: "carol", msg: &market.MsgReserve{Unit: "unit-9", Bytes: 1, Term: 1, MaxPrice: 1}, code: core.CodeNotFound},
		{name: "reserve decommissioning", signer: "carol", msg: &market.MsgReserve{Unit: "unit-3", Bytes: 1, Term: 1, MaxPrice: unitP}, code: core.CodeWrongState},
		{name: "reserve pending then timeout", signer: "carol", msg: &market.MsgReserve{Unit: "unit-2", Bytes: gib, Term: 100, MaxPrice: unitP}, check: func(t *testing.T, h *mkt) {
			b := h.bal("carol")
			if h.res("res-3").Status != market.ResPending {
				t.Fatal("not pending")
			}
			h.next(299)
			if h.res("res-3").Status != market.ResPending {
				t.Fatal("expired early")
			}
			h.next(1)
			h.next(1)
			r := h.res("res-3")
			if r.Status != market.ResExpired || r.Refunded != r.Escrowed || h.bal("carol") != b+r.Escrowed {
				t.Fatalf("%+v", r)
			}
		}},
	}
}

// acceptRejectCases: the provider accepting or rejecting a pending reservation.
func acceptRejectCases() []mktCase {
	return []mktCase{
		{name: "accept ok", signer: "prov", msg: &market.MsgAcceptReservation{ResRef: market.ResRef{Reservation: "res-2"}}, check: func(t *testing.T, h *mkt) {
			r := h.res("res-2")
			if r.Status != market.ResActive || r.Start.Unix() != h.now || r.End.Unix() != h.now+monthS {
				t.Fatalf("%+v", r)
			}
			h.next(1000) // past the accept timeout: must not expire
			if h.res("res-2").Status != market.ResActive {
				t.Fatal("accepted reservation expired")
			}
		}},
		{name: "accept wrong signer", signer: "alice", msg: &market.MsgAcceptReservation{ResRef: market.ResRef{Reservation: "res-2"}}, code: core.CodeUnauthorized},
		{name: "accept not pending", signer: "prov", msg: &market.MsgAcceptReservation{ResRef: market.ResRef{Reservation: "res-1"}}, code: core.CodeWrongState},
		{name: "accept not found", signer: "prov", msg: &market.MsgAcceptReservation{ResRef: market.ResRef{Reservation: "res-77"}}, code: core.CodeNotFound},
		{name: "reject ok", signer: "prov", msg: &market.MsgRejectReservation{ResRef: market.ResRef{Reservation: "res-2"}}, check: func(t *testing.T, h *mkt) {
			r := h.res("res-2")
			if r.Status != market.ResRejected || r.Refunded != r.Escrowed || h.unit("unit-2").Reserved != 0 {
				t.Fatalf("%+v", r)
			}
		}},
		{name: "reject wrong signer", signer: "bob", msg: &market.MsgRejectReservation{ResRef: market.ResRef{Reservation: "res-2"}}, code: core.CodeUnauthorized},
		{name: "reject not pending", signer: "prov", msg: &market.MsgRejectReservation{ResRef: market.ResRef{Reservation: "res-1"}}, code: core.CodeWrongState},
	}
}

// reservationChangeCases: the consumer topping up, extending, resizing and closing.
func reservationChangeCases() []mktCase {
	return []mktCase{
		{name: "topup ok", signer: "alice", msg: &market.MsgTopUp{Reservation: "res-1", EgressBytes: gib / 2}, check: func(t *testing.T, h *mkt) {
			r := h.res("res-1")
			if r.EgressBytes != 10*gib+gib/2 || r.EgressEsc != 10_500 || r.EgressFeeEsc != 210 {
				t.Fatalf("%+v", r)
			}
		}},
		{name: "topup wrong signer", signer: "bob", msg: &market.MsgTopUp{Reservation: "res-1", EgressBytes: 1}, code: core.CodeUnauthorized},
		{name: "topup overflow", signer: "alice", msg: &market.MsgTopUp{Reservation: "res-1", EgressBytes: ^uint64(0)}, code: core.CodeOverflow},
		{name: "topup insufficient funds", signer: "alice", msg: &market.MsgTopUp{Reservation: "res-1", EgressBytes: 1 << 60}, code: core.CodeInsufficientFunds},
		{name: "topup closed", signer: "alice", setup: func(h *mkt) { h.ok("alice", &market.MsgCloseReservation{ResRef: market.ResRef{Reservation: "res-1"}}) }, msg: &market.MsgTopUp{Reservation: "res-1", EgressBytes: 1}, code: core.CodeWrongState},
		{name: "extend ok", signer: "alice", msg: &market.MsgExtend{Reservation: "res-1", ExtraSeconds: monthS}, check: func(t *testing.T, h *mkt) {
			r := h.res("res-1")
			if r.StorageEsc != 2_040_000 || r.End != r.Start+core.Time(2*monthS) || r.Term != 2*monthS {
				t.Fatalf("%+v", r)
			}
			h.next(monthS + 1)
			if h.res("res-1").Status != market.ResActive {
				t.Fatal("ended at the old term")
			}
		}},
		{name: "extend wrong signer", signer: "carol", msg: &market.MsgExtend{Reservation: "res-1", ExtraSeconds: 1}, code: core.CodeUnauthorized},
		{name: "extend beyond max term", signer: "alice", msg: &market.MsgExtend{Reservation: "res-1", ExtraSeconds: 400 * 86400}, code: core.CodeInvalidMessage},
		{name: "extend decommissioning", signer: "alice", setup: func(h *mkt) { h.ok("prov", &market.MsgDecommissionUnit{Unit: "unit-1"}) }, msg: &market.MsgExtend{Reservation: "res-1", ExtraSeconds: 1}, code: core.CodeWrongState},
		{name: "extend insufficient funds", signer: "alice", setup: func(h *mkt) {
			h.ok("alice", &bank.MsgSend{To: mktAddr("carol"), Amount: h.bal("alice") - 1_000})
		}, msg: &market.MsgExtend{Reservation: "res-1", ExtraSeconds: monthS}, code: core.CodeInsufficientFunds},
		{name: "resize ok", signer: "alice", msg: &market.MsgResize{Reservation: "res-1", Bytes: 2 * gib}, check: func(t *testing.T, h *mkt) {
			r := h.res("res-1")
			// the extra GiB for the remaining monthS-120 seconds
			want := core.Amount(2_040_000 - (120*1_020_000)/monthS)
			if r.Bytes != 2*gib || r.StorageEsc != want || h.unit("unit-1").Reserved != 2*gib {
				t.Fatalf("escrow %d want %d, %+v", r.StorageEsc, want, r)
			}
		}},
		{name: "resize no capacity", signer: "alice", msg: &market.MsgResize{Reservation: "res-1", Bytes: 101 * gib}, code: core.CodeNoCapacity},
		{name: "resize shrink", signer: "alice", msg: &market.MsgResize{Reservation: "res-1", Bytes: gib}, code: core.CodeInvalidMessage},
		{name: "resize wrong signer", signer: "bob", msg: &market.MsgResize{Reservation: "res-1", Bytes: 2 * gib}, code: core.CodeUnauthorized},
		{name: "close ok", signer: "alice", msg: &market.MsgCloseReservation{ResRef: market.ResRef{Reservation: "res-1"}}, check: func(t *testing.T, h *mkt) {
			r := h.res("res-1")
			// 120 s of 1 GiB at 1,000,000/month +2%: ceil(120*1,020,000/2,592,000) = 48
			if r.Status != market.ResCancelled || r.StoragePaid != 48 || r.Refunded != r.Escrowed-48 {
				t.Fatalf("%+v", r)
			}
		}},
		{name: "close pending refunds all", signer: "alice", msg: &market.MsgCloseReservation{ResRef: market.ResRef{Reservation: "res-2"}}, check: func(t *testing.T, h *mkt) {
			if r := h.res("res-2"); r.Status != market.ResCancelled || r.Refunded != r.Escrowed {
				t.Fatalf("%+v", r)
			}
		}},
		{name: "close wrong signer", signer: "prov", msg: &market.MsgCloseReservation{ResRef: market.ResRef{Reservation: "res-1"}}, code: core.CodeUnauthorized},
		{name: "close twice", signer: "alice", setup: func(h *mkt) { h.ok("alice", &market.MsgCloseReservation{ResRef: market.ResRef{Reservation: "res-1"}}) }, msg: &market.MsgCloseReservation{ResRef: market.ResRef{Reservation: "res-1"}}, code: core.CodeWrongState},
	}
}

// claimUsageCases: the provider claiming revenue and reporting usage.
func claimUsageCases() []mktCase {
	return []mktCase{
		{name: "claim ok", signer: "prov", setup: func(h *mkt) { h.next(600) }, msg: &market.MsgClaim{Unit: "unit-1"}, check: func(t *testing.T, h *mkt) {
			// res-1 started at 1,700,000,005; claim at 1,700,000,725 (epoch
			// 28,333,345); epochs from 28,333,343 (t = 1,700,000,580) may still
			// be marked breached, so 575 s are final: 575 x 1,000,000 /
			// 2,592,000 = 221.8 -> 221 to the provider, 2% = 4.4 -> 4 to the
			// treasury.
			if u := h.unit("unit-1"); u.Settlement.ClaimedNet != 221 || u.Settlement.ClaimedFee != 4 {
				t.Fatalf("%+v", u.Settlement)
			}
		}},
		{name: "claim all ok", signer: "prov", msg: &market.MsgClaim{}},
		{name: "claim wrong signer", signer: "bob", msg: &market.MsgClaim{Unit: "unit-1"}, code: core.CodeUnauthorized},
		{name: "claim not provider", signer: "carol", msg: &market.MsgClaim{}, code: core.CodeNotFound},
		{name: "usage ok", signer: "prov", msg: &market.MsgReportUsage{Reservation: "res-1", Epoch: 1, StoredBytes: 500, EgressBytes: gib}, check: func(t *testing.T, h *mkt) {
			r := h.res("res-1")
			if r.EgressUsed != gib || r.EgressPaid != 1_000 || r.EgressFee != 20 || h.unit("unit-1").Used != 500 {
				t.Fatalf("%+v", r)
			}
			// the rest of the allowance, exactly
			h.ok("prov", &market.MsgReportUsage{Reservation: "res-1", Epoch: 2, StoredBytes: 600, EgressBytes: 9 * gib})
			if r := h.res("res-1"); r.EgressUsed != 10*gib || r.EgressPaid != 10_000 || r.EgressFee != 200 || h.unit("unit-1").Used != 600 {
				t.Fatalf("%+v", r)
			}
			// stored bytes may fall (objects deleted)
			h.ok("prov", &market.MsgReportUsage{Reservation: "res-1", Epoch: 3, StoredBytes: 100})
			if h.unit("unit-1").Used != 100 {
				t.Fatalf("used %d", h.unit("unit-1").Used)
			}
		}},
		// Hostile reports: refused whole (runCases checks that no key and
		// no balance but the fee changed, stats included).
		{name: "usage stored above reservation", signer: "prov", msg: &market.MsgReportUsage{Reservation: "res-1", Epoch: 1, StoredBytes: gib + 1}, code: core.CodeUsageOutOfBounds},
		{name: "usage stored near 2^64", signer: "prov", msg: &market.MsgReportUsage{Reservation: "res-1", Epoch: 1, StoredBytes: math.MaxUint64}, code: core.CodeUsageOutOfBounds},
		{name: "usage egress above allowance", signer: "prov", msg: &market.MsgReportUsage{Reservation: "res-1", Epoch: 1, EgressBytes: 10*gib + 1}, code: core.CodeUsageOutOfBounds},
		{name: "usage egress above what is left", signer: "prov", setup: func(h *mkt) {
			h.ok("prov", &market.MsgReportUsage{Reservation: "res-1", Epoch: 1, EgressBytes: 6 * gib})
		}, msg: &market.MsgReportUsage{Reservation: "res-1", Epoch: 2, EgressBytes: 4*gib + 1}, code: core.CodeUsageOutOfBounds},
		{name: "usage egress wrapping", signer: "prov", setup: func(h *mkt) {
			h.ok("prov", &market.MsgReportUsage{Reservation: "res-1", Epoch: 1, EgressBytes: gib})
		}, msg: &market.MsgReportUsage{Reservation: "res-1", Epoch: 2, EgressBytes: math.MaxUint64 - gib + 1}, code: core.CodeUsageOutOfBounds},
		{name: "usage ingress wrapping", signer: "prov", setup: func(h *mkt) {
			h.ok("prov", &market.MsgReportUsage{Reservation: "res-1", Epoch: 1, IngressBytes: math.MaxUint64 - 5})
		}, msg: &market.MsgReportUsage{Reservation: "res-1", Epoch: 2, IngressBytes: 7}, code: core.CodeOverflow},
		{name: "usage empty allowance", signer: "prov", msg: &market.MsgReportUsage{Reservation: "res-3", Epoch: 1, EgressBytes: 1}, setup: func(h *mkt) {
			h.ok("alice", &market.MsgReserve{Unit: "unit-1", Bytes: 1, Term: monthS, MaxPrice: unitP})
		}, code: core.CodeUsageOutOfBounds},
		{name: "usage by consumer", signer: "alice", msg: &market.MsgReportUsage{Reservation: "res-1", Epoch: 1}, code: core.CodeUnauthorized},
		{name: "usage duplicate epoch", signer: "prov", setup: func(h *mkt) { h.ok("prov", &market.MsgReportUsage{Reservation: "res-1", Epoch: 5}) }, msg: &market.MsgReportUsage{Reservation: "res-1", Epoch: 5}, code: core.CodeWrongState},
		{name: "usage future epoch", signer: "prov", msg: &market.MsgReportUsage{Reservation: "res-1", Epoch: 1 << 40}, code: core.CodeInvalidMessage},
		{name: "usage pending", signer: "prov", msg: &market.MsgReportUsage{Reservation: "res-2", Epoch: 1}, code: core.CodeWrongState},
	}
}

func TestMarketReservationMessages(t *testing.T) {
	var cases []mktCase
	for _, group := range [][]mktCase{reserveCases(), acceptRejectCases(), reservationChangeCases(), claimUsageCases()} {
		cases = append(cases, group...)
	}
	runCases(t, cases)
}

// TestMarketArithmetic: provider registers a unit, consumer reserves, blocks
// pass, the bridge reports egress, consumer closes early, provider claims.
// Every balance is checked to the uflash against hand-computed numbers.
func TestMarketArithmetic(t *testing.T) {
	h := newMkt(t, testParams(), 10_000_000, "prov", "alice")
	h.ok("prov", regProvider("prov"), &market.MsgStake{Amount: 1_000}, addUnit(1_000_000, 500, 10*gib, true))
	h.next(10)
	// 1 GiB for 30 days at 1,000,000/GiB-month: 1,000,000 + 2% = 1,020,000;
	// 2 GiB egress at 500/GiB: 1,000 + 2% = 20. Escrow 1,021,020.
	h.ok("alice", &market.MsgReserve{Unit: "unit-1", Bytes: gib, Term: monthS, EgressBytes: 2 * gib, MaxPrice: 1_000_000})
	if got := bank.PoolBalance(h.blk, bank.PoolEscrow); got != 1_021_020 {
		t.Fatalf("escrow %d", got)
	}
	for i := 0; i < 10; i++ {
		h.next(9_000)
	}
	// 1 GiB of egress: 500 to the provider, 10 to the treasury.
	h.ok("prov", &market.MsgReportUsage{Reservation: "res-1", Epoch: h.now / 60, EgressBytes: gib})
	// closed 90,000 s after the start: 90,000 x 1,000,000 / 2,592,000 =
	// 34,722.2 of revenue; with the fee 35,416.67 -> the consumer is charged
	// 35,417; refund 1,020,000 - 35,417 = 984,583 plus unused egress 510.
	h.ok("alice", &market.MsgCloseReservation{ResRef: market.ResRef{Reservation: "res-1"}})
	h.ok("prov", &market.MsgClaim{})
	// provider: floor(34,722.2) = 34,722; treasury floor(694.4) = 694 + 10.
	if got, want := h.bal("alice"), core.Amount(10_000_000-2*10-1_021_020+984_583+510); got != want {
		t.Fatalf("alice %d, want %d", got, want)
	}
	if got, want := h.bal("prov"), core.Amount(10_000_000-3*10-1_000+500+34_722); got != want {
		t.Fatalf("provider %d, want %d", got, want)
	}
	if got := bank.PoolBalance(h.blk, bank.PoolTreasury); got != 704 {
		t.Fatalf("treasury %d, want 704", got)
	}
	// 35,417 charged - 34,722 - 694 = 1 uflash of rounding stays in escrow,
	// accounted as the unit's sub-uflash remainder plus dust.
	if got := bank.PoolBalance(h.blk, bank.PoolEscrow); got != 1 {
		t.Fatalf("escrow left %d, want 1", got)
	}
	checkMarketInvariants(t, h.blk, h.now)
	r := h.res("res-1")
	if r.StoragePaid != 35_417 || r.EgressPaid != 500 || r.EgressFee != 10 || r.Refunded != 985_093 || r.Status != market.ResCancelled {
		t.Fatalf("%+v", r)
	}
	// Deleting the unit hands the remainder to dust; nothing is lost.
	h.ok("prov", &market.MsgDecommissionUnit{Unit: "unit-1"}, &market.MsgDeleteUnit{Unit: "unit-1"})
	checkMarketInvariants(t, h.blk, h.now)
}

func amt(a core.Amount) *core.Amount { return &a }
