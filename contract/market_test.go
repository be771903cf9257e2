package contract

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/params"
	"github.com/flashback-network/flashback/contract/store"
	"github.com/flashback-network/flashback/tx"
)

// ---- harness: real signed txs through ExecTx, blocks through Begin/EndBlock ----

const mktChain = "market-test-1"

type mkt struct {
	t      testing.TB
	kv     *store.MemKV
	blk    *store.Cache
	now    int64
	height int64
	keys   map[string]ed25519.PrivateKey
}

func mktKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("market-test/" + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

func mktRaw(name string) []byte  { return address.Raw(mktKey(name).Public().(ed25519.PublicKey)) }
func mktAddr(name string) string { return address.Encode(mktRaw(name)) }
func testParams() params.Params {
	p := params.Default()
	p.TxFee = 10
	p.EpochSeconds = 60
	p.MinUnitStake = 1_000
	p.UnbondingPeriod = 600
	p.AcceptTimeout = 300
	p.MaxTerm = 400 * 86400
	return p
}

// newMkt starts a chain with the named accounts funded with bal each and
// opens block 1.
func newMkt(t testing.TB, p params.Params, bal core.Amount, names ...string) *mkt {
	t.Helper()
	h := &mkt{t: t, kv: store.NewMemKV(), now: 1_700_000_000, keys: map[string]ed25519.PrivateKey{}}
	g := Genesis{Params: p}
	for _, n := range names {
		h.keys[n] = mktKey(n)
		g.Accounts = append(g.Accounts, GenesisAccount{Address: mktAddr(n), Balance: bal})
	}
	if err := InitGenesis(h.kv, g); err != nil {
		t.Fatal(err)
	}
	h.begin()
	return h
}

func (h *mkt) block() core.Block {
	return core.Block{ChainID: mktChain, Height: h.height, Time: time.Unix(h.now, 0).UTC()}
}

func (h *mkt) begin() {
	h.height++
	h.blk = store.NewCache(h.kv)
	BeginBlock(h.blk, h.block())
}

// next ends the open block, advances time by dt seconds and opens the next.
func (h *mkt) next(dt int64) {
	EndBlock(h.blk, h.block())
	h.blk.Write()
	h.now += dt
	h.begin()
}

func (h *mkt) exec(name string, msgs ...core.Msg) Result {
	h.t.Helper()
	priv, ok := h.keys[name]
	if !ok {
		priv = mktKey(name)
		h.keys[name] = priv
	}
	var wm []tx.Msg
	for _, m := range msgs {
		w, err := Wrap(m)
		if err != nil {
			h.t.Fatal(err)
		}
		wm = append(wm, w)
	}
	seq := bank.GetAccount(h.blk, mktRaw(name)).Sequence
	raw, err := tx.Sign(tx.Body{ChainID: mktChain, Sequence: seq, Fee: params.Get(h.blk).TxFee.String(), Msgs: wm}, priv)
	if err != nil {
		h.t.Fatal(err)
	}
	return ExecTx(h.blk, h.block(), raw, Deliver)
}

func (h *mkt) ok(name string, msgs ...core.Msg) Result {
	h.t.Helper()
	r := h.exec(name, msgs...)
	if r.Code != core.CodeOK {
		h.t.Fatalf("%s: %s", name, r.Log)
	}
	return r
}

func (h *mkt) bal(name string) core.Amount { return bank.GetAccount(h.blk, mktRaw(name)).Balance }

func (h *mkt) unit(id string) *market.Unit {
	u, ok := market.GetUnit(h.blk, id)
	if !ok {
		h.t.Fatalf("unit %s missing", id)
	}
	return u
}

func (h *mkt) res(id string) *market.Reservation {
	r, ok := market.GetReservation(h.blk, id)
	if !ok {
		h.t.Fatalf("reservation %s missing", id)
	}
	return r
}

func pubKey32() []byte { return bytes.Repeat([]byte{7}, 32) }

func regProvider(name string) *market.MsgRegisterProvider {
	return &market.MsgRegisterProvider{Name: name, Description: "test provider", Website: "https://example.com",
		Endpoint: "https://bridge.example.com", BridgePubKey: pubKey32()}
}

func addUnit(price, egress core.Amount, capacity uint64, auto bool) *market.MsgAddUnit {
	return &market.MsgAddUnit{Kind: "local", Region: "eu-west", Country: "DE", Capacity: capacity,
		StoragePrice: price, EgressPrice: egress, AutoAccept: auto,
		SLA: market.SLAOffer{MaxP95LatencyMs: 200, MinUptimeBps: 9900, MinDownloadMbps: 10, MinUploadMbps: 10, MaxErrorRateBps: 100, Durability: true}}
}

const (
	gib     = uint64(1) << 30
	unitP   = core.Amount(1_000_000) // storage price of unit-1
	unitE   = core.Amount(1_000)     // egress price of unit-1
	monthS  = int64(2_592_000)
	richBal = core.Amount(1_000_000_000_000)
)

// fixture: provider "prov" (stake 10,000) with unit-1 (auto accept, 100
// GiB), unit-2 (manual accept), unit-3 (decommissioning, empty); alice
// holds res-1 (active on unit-1, 1 GiB, 30 days, 10 GiB egress) and res-2
// (pending on unit-2). bob is a provider without units; mallory has 100.
func fixture(t testing.TB) *mkt {
	t.Helper()
	h := newMkt(t, testParams(), richBal, "prov", "alice", "bob", "carol")
	h.ok("carol", &bank.MsgSend{To: mktAddr("mallory"), Amount: 100})
	h.ok("prov", regProvider("prov"), &market.MsgStake{Amount: 10_000},
		addUnit(unitP, unitE, 100*gib, true), addUnit(unitP, unitE, 100*gib, false), addUnit(unitP, unitE, gib, true),
		&market.MsgDecommissionUnit{Unit: "unit-3"})
	h.ok("bob", regProvider("bob"), &market.MsgStake{Amount: 5_000})
	h.next(5)
	h.ok("alice", &market.MsgReserve{Unit: "unit-1", Bytes: gib, Term: monthS, EgressBytes: 10 * gib, MaxPrice: unitP},
		&market.MsgReserve{Unit: "unit-2", Bytes: gib, Term: monthS, EgressBytes: 0, MaxPrice: unitP})
	h.next(120)
	return h
}

// stateDump is every key except the signer's account and the fee pool.
func stateDump(kv store.KV, signer []byte) map[string]string {
	out := map[string]string{}
	skip1, skip2 := string(bank.AccountKey(signer)), string(bank.PoolKey(bank.PoolFees))
	kv.Iterate(nil, nil, func(k, v []byte) bool {
		if string(k) != skip1 && string(k) != skip2 {
			out[string(k)] = string(v)
		}
		return true
	})
	return out
}

type mktCase struct {
	name   string
	setup  func(h *mkt)
	signer string
	msg    core.Msg
	code   core.Code
	check  func(t *testing.T, h *mkt)
}

func runCases(t *testing.T, cases []mktCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := fixture(t)
			if c.setup != nil {
				c.setup(h)
			}
			before := stateDump(h.blk, mktRaw(c.signer))
			balBefore := h.bal(c.signer)
			r := h.exec(c.signer, c.msg)
			if r.Code != c.code {
				t.Fatalf("code %s (%s), want %s", r.Code.Name(), r.Log, c.code.Name())
			}
			if c.code != core.CodeOK {
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
					fee = 0 // rejected before the ante: no fee
				}
				if got := h.bal(c.signer); got != balBefore-fee {
					t.Fatalf("rejected message: signer balance %d, want %d (fee only)", got, balBefore-10)
				}
			}
			if c.check != nil {
				c.check(t, h)
			}
			if err := bank.CheckSupply(h.blk); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func sp(s string) *string { return &s }

func TestMarketProviderMessages(t *testing.T) {
	runCases(t, []mktCase{
		{name: "register ok", signer: "carol", msg: regProvider("carol"), check: func(t *testing.T, h *mkt) {
			p, ok := market.GetProvider(h.blk, mktRaw("carol"))
			if !ok || p.Name != "carol" || p.Score != market.DefaultScore || p.RegisteredAt.Unix() != h.now {
				t.Fatalf("%+v", p)
			}
		}},
		{name: "register twice", signer: "prov", msg: regProvider("prov"), code: core.CodeAlreadyExists},
		{name: "register bad key", signer: "carol", msg: &market.MsgRegisterProvider{Name: "c", Endpoint: "https://x", BridgePubKey: []byte{1}}, code: core.CodeInvalidMessage},
		{name: "register bad endpoint", signer: "carol", msg: &market.MsgRegisterProvider{Name: "c", Endpoint: "ftp://x", BridgePubKey: pubKey32()}, code: core.CodeInvalidMessage},
		{name: "update ok", signer: "prov", msg: &market.MsgUpdateProvider{Name: sp("new")}, check: func(t *testing.T, h *mkt) {
			if p, _ := market.GetProvider(h.blk, mktRaw("prov")); p.Name != "new" || p.Endpoint != "https://bridge.example.com" {
				t.Fatalf("%+v", p)
			}
		}},
		{name: "update not provider", signer: "carol", msg: &market.MsgUpdateProvider{Name: sp("x")}, code: core.CodeNotFound},
		{name: "update nothing", signer: "prov", msg: &market.MsgUpdateProvider{}, code: core.CodeInvalidMessage},
		{name: "stake ok", signer: "prov", msg: &market.MsgStake{Amount: 5}, check: func(t *testing.T, h *mkt) {
			if p, _ := market.GetProvider(h.blk, mktRaw("prov")); p.Stake != 10_005 || bank.PoolBalance(h.blk, bank.PoolStake) != 15_005 {
				t.Fatalf("%+v", p)
			}
		}},
		{name: "stake not provider", signer: "carol", msg: &market.MsgStake{Amount: 5}, code: core.CodeNotFound},
		{name: "stake insufficient funds", signer: "bob", msg: &market.MsgStake{Amount: richBal}, code: core.CodeInsufficientFunds},
		{name: "stake zero", signer: "bob", msg: &market.MsgStake{}, code: core.CodeInvalidAmount},
		{name: "unstake ok", signer: "prov", msg: &market.MsgUnstake{Amount: 7_000}, check: func(t *testing.T, h *mkt) {
			p, _ := market.GetProvider(h.blk, mktRaw("prov"))
			if p.Stake != 3_000 || len(p.Unbonding) != 1 || p.Unbonding[0].ReleaseAt.Unix() != h.now+600 {
				t.Fatalf("%+v", p)
			}
			b := h.bal("prov")
			h.next(599)
			if h.bal("prov") != b {
				t.Fatal("released early")
			}
			h.next(1) // the block at the release time ends
			h.next(1)
			if h.bal("prov") != b+7_000 {
				t.Fatalf("not released: %d", h.bal("prov"))
			}
			if p, _ := market.GetProvider(h.blk, mktRaw("prov")); len(p.Unbonding) != 0 || bank.PoolBalance(h.blk, bank.PoolStake) != 8_000 {
				t.Fatalf("%+v", p)
			}
		}},
		{name: "unstake below min per unit", signer: "prov", msg: &market.MsgUnstake{Amount: 7_001}, code: core.CodeInsufficientStake},
		{name: "unstake more than stake", signer: "bob", msg: &market.MsgUnstake{Amount: 5_001}, code: core.CodeInsufficientStake},
		{name: "unstake not provider", signer: "carol", msg: &market.MsgUnstake{Amount: 1}, code: core.CodeNotFound},
		{name: "deregister ok", signer: "bob", msg: &market.MsgDeregisterProvider{}, check: func(t *testing.T, h *mkt) {
			p, _ := market.GetProvider(h.blk, mktRaw("bob"))
			if !p.Deregistered || p.Stake != 0 || p.UnbondingTotal() != 5_000 {
				t.Fatalf("%+v", p)
			}
			if r := h.exec("bob", addUnit(1, 1, 1, true)); r.Code != core.CodeNotFound {
				t.Fatalf("add unit after deregister: %s", r.Log)
			}
		}},
		{name: "deregister live units", signer: "prov", msg: &market.MsgDeregisterProvider{}, code: core.CodeWrongState},
		{name: "deregister not provider", signer: "carol", msg: &market.MsgDeregisterProvider{}, code: core.CodeNotFound},
	})
}

func TestMarketUnitMessages(t *testing.T) {
	np := core.Amount(5)
	cp := uint64(1)
	runCases(t, []mktCase{
		{name: "add ok", signer: "bob", msg: addUnit(3, 4, gib, true), check: func(t *testing.T, h *mkt) {
			u := h.unit("unit-4")
			if u.Provider != mktAddr("bob") || u.Status != market.UnitAvailable || u.FeeBps != 200 || u.Score != market.DefaultScore {
				t.Fatalf("%+v", u)
			}
		}},
		{name: "add insufficient stake", signer: "prov", msg: addUnit(3, 4, gib, true), setup: func(h *mkt) {
			h.ok("prov", &market.MsgUnstake{Amount: 7_000})
		}, code: core.CodeInsufficientStake},
		{name: "add not provider", signer: "carol", msg: addUnit(3, 4, gib, true), code: core.CodeNotFound},
		{name: "add bad kind", signer: "bob", msg: &market.MsgAddUnit{Kind: "tape", Region: "x", Country: "DE", Capacity: 1}, code: core.CodeInvalidMessage},
		{name: "add bad country", signer: "bob", msg: &market.MsgAddUnit{Kind: "s3", Region: "x", Country: "de", Capacity: 1}, code: core.CodeInvalidMessage},
		{name: "add zero capacity", signer: "bob", msg: &market.MsgAddUnit{Kind: "s3", Region: "x", Country: "DE"}, code: core.CodeInvalidMessage},
		{name: "update ok", signer: "prov", msg: &market.MsgUpdateUnit{Unit: "unit-1", StoragePrice: &np}, check: func(t *testing.T, h *mkt) {
			if h.unit("unit-1").StoragePrice != 5 || h.res("res-1").StoragePrice != unitP {
				t.Fatal("new price must apply to new reservations only")
			}
		}},
		{name: "update wrong signer", signer: "bob", msg: &market.MsgUpdateUnit{Unit: "unit-1", StoragePrice: &np}, code: core.CodeUnauthorized},
		{name: "update capacity below reserved", signer: "prov", msg: &market.MsgUpdateUnit{Unit: "unit-1", Capacity: &cp}, code: core.CodeNoCapacity},
		{name: "update decommissioning", signer: "prov", msg: &market.MsgUpdateUnit{Unit: "unit-3", StoragePrice: &np}, code: core.CodeWrongState},
		{name: "update not found", signer: "prov", msg: &market.MsgUpdateUnit{Unit: "unit-99", StoragePrice: &np}, code: core.CodeNotFound},
		{name: "maintenance start ok", signer: "prov", msg: &market.MsgUnitMaintenance{Unit: "unit-1", Action: "start", WindowEnd: 1_800_000_000}, check: func(t *testing.T, h *mkt) {
			if u := h.unit("unit-1"); u.Status != market.UnitMaintenance || u.Maintenance == nil || u.Maintenance.End != 1_800_000_000 {
				t.Fatalf("%+v", u)
			}
			if r := h.exec("carol", &market.MsgReserve{Unit: "unit-1", Bytes: 1, Term: 10, MaxPrice: unitP}); r.Code != core.CodeWrongState {
				t.Fatalf("reserve in maintenance: %s", r.Log)
			}
			h.ok("prov", &market.MsgUnitMaintenance{Unit: "unit-1", Action: "end"})
			if h.unit("unit-1").Status != market.UnitAvailable {
				t.Fatal("not back")
			}
		}},
		{name: "maintenance end when available", signer: "prov", msg: &market.MsgUnitMaintenance{Unit: "unit-1", Action: "end"}, code: core.CodeWrongState},
		{name: "maintenance start twice", signer: "prov", setup: func(h *mkt) {
			h.ok("prov", &market.MsgUnitMaintenance{Unit: "unit-1", Action: "start", WindowEnd: 1_800_000_000})
		}, msg: &market.MsgUnitMaintenance{Unit: "unit-1", Action: "start", WindowEnd: 1_800_000_000}, code: core.CodeWrongState},
		{name: "maintenance decommissioning", signer: "prov", msg: &market.MsgUnitMaintenance{Unit: "unit-3", Action: "start", WindowEnd: 1_800_000_000}, code: core.CodeWrongState},
		{name: "maintenance wrong signer", signer: "bob", msg: &market.MsgUnitMaintenance{Unit: "unit-1", Action: "start", WindowEnd: 1_800_000_000}, code: core.CodeUnauthorized},
		{name: "maintenance bad action", signer: "prov", msg: &market.MsgUnitMaintenance{Unit: "unit-1", Action: "pause"}, code: core.CodeInvalidMessage},
		// Year 24152: RFC 3339 cannot write it (found by FuzzTimeJSON).
		{name: "maintenance past year 9999", signer: "prov", msg: &market.MsgUnitMaintenance{Unit: "unit-1", Action: "announce", WindowStart: 1_800_000_000, WindowEnd: 700_000_000_000}, code: core.CodeInvalidMessage},
		{name: "decommission ok", signer: "prov", msg: &market.MsgDecommissionUnit{Unit: "unit-1"}, check: func(t *testing.T, h *mkt) {
			if h.unit("unit-1").Status != market.UnitDecommissioning {
				t.Fatal("status")
			}
			if r := h.exec("carol", &market.MsgReserve{Unit: "unit-1", Bytes: 1, Term: 10, MaxPrice: unitP}); r.Code != core.CodeWrongState {
				t.Fatalf("reserve on decommissioning: %s", r.Log)
			}
			// existing reservation runs to term, then the unit can be deleted
			if r := h.exec("prov", &market.MsgDeleteUnit{Unit: "unit-1"}); r.Code != core.CodeWrongState {
				t.Fatalf("delete with live reservation: %s", r.Log)
			}
			h.next(monthS)
			if h.res("res-1").Status != market.ResCompleted {
				t.Fatalf("res-1 %s", h.res("res-1").Status)
			}
			h.ok("prov", &market.MsgDeleteUnit{Unit: "unit-1"})
		}},
		{name: "decommission twice", signer: "prov", msg: &market.MsgDecommissionUnit{Unit: "unit-3"}, code: core.CodeWrongState},
		{name: "decommission wrong signer", signer: "bob", msg: &market.MsgDecommissionUnit{Unit: "unit-1"}, code: core.CodeUnauthorized},
		{name: "delete ok", signer: "prov", msg: &market.MsgDeleteUnit{Unit: "unit-3"}, check: func(t *testing.T, h *mkt) {
			if h.unit("unit-3").Status != market.UnitDeleted {
				t.Fatal("status")
			}
			if p, _ := market.GetProvider(h.blk, mktRaw("prov")); p.LiveUnits != 2 {
				t.Fatalf("live units %d", p.LiveUnits)
			}
		}},
		{name: "delete not decommissioned", signer: "prov", msg: &market.MsgDeleteUnit{Unit: "unit-1"}, code: core.CodeWrongState},
		{name: "delete wrong signer", signer: "bob", msg: &market.MsgDeleteUnit{Unit: "unit-3"}, code: core.CodeUnauthorized},
		{name: "delete twice", signer: "prov", setup: func(h *mkt) { h.ok("prov", &market.MsgDeleteUnit{Unit: "unit-3"}) }, msg: &market.MsgDeleteUnit{Unit: "unit-3"}, code: core.CodeWrongState},
	})
}

func TestMarketReservationMessages(t *testing.T) {
	reserve := func(bytes uint64, term int64, max core.Amount) *market.MsgReserve {
		return &market.MsgReserve{Unit: "unit-1", Bytes: bytes, Term: term, EgressBytes: gib, MaxPrice: max}
	}
	runCases(t, []mktCase{
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
			// beyond the allowance: capped
			h.ok("prov", &market.MsgReportUsage{Reservation: "res-1", Epoch: 2, StoredBytes: 600, EgressBytes: 100 * gib})
			if r := h.res("res-1"); r.EgressUsed != 10*gib || r.EgressPaid != 10_000 || r.EgressFee != 200 {
				t.Fatalf("%+v", r)
			}
		}},
		{name: "usage by consumer", signer: "alice", msg: &market.MsgReportUsage{Reservation: "res-1", Epoch: 1}, code: core.CodeUnauthorized},
		{name: "usage duplicate epoch", signer: "prov", setup: func(h *mkt) { h.ok("prov", &market.MsgReportUsage{Reservation: "res-1", Epoch: 5}) }, msg: &market.MsgReportUsage{Reservation: "res-1", Epoch: 5}, code: core.CodeWrongState},
		{name: "usage future epoch", signer: "prov", msg: &market.MsgReportUsage{Reservation: "res-1", Epoch: 1 << 40}, code: core.CodeInvalidMessage},
		{name: "usage pending", signer: "prov", msg: &market.MsgReportUsage{Reservation: "res-2", Epoch: 1}, code: core.CodeWrongState},
	})
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
