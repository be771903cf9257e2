package contract

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"strconv"
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
	// salt makes the blocks' PrevHash (sha256 of salt and height): two
	// harnesses with different salts are chains with different hashes.
	salt string
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
	prev := sha256.Sum256([]byte(h.salt + "/" + strconv.FormatInt(h.height-1, 10)))
	return core.Block{ChainID: mktChain, Height: h.height, Time: time.Unix(h.now, 0).UTC(), PrevHash: prev[:]}
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
		{name: "unstake entries capped", signer: "prov", msg: &market.MsgUnstake{Amount: 1}, setup: func(h *mkt) {
			for i := 0; i < market.MaxUnbondingEntries; i++ {
				h.ok("prov", &market.MsgUnstake{Amount: 1})
			}
		}, code: core.CodeLimitExceeded, check: func(t *testing.T, h *mkt) {
			if p, _ := market.GetProvider(h.blk, mktRaw("prov")); len(p.Unbonding) != market.MaxUnbondingEntries || p.Stake != 10_000-market.MaxUnbondingEntries {
				t.Fatalf("refused unstake changed the provider: %+v", p)
			}
			h.next(601) // the entries release; unstaking works again
			h.next(1)
			h.ok("prov", &market.MsgUnstake{Amount: 1})
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
