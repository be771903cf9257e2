package contract_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/params"
	"github.com/flashback-network/flashback/contract/store"
	"github.com/flashback-network/flashback/tx"
)

func TestCheckSupplyDetectsMismatch(t *testing.T) {
	kv := newState(t)
	bank.SetAccount(kv, carol.raw, bank.Account{Balance: 1})
	if err := bank.CheckSupply(kv); err == nil {
		t.Fatal("minted token not detected")
	}
	bank.SetAccount(kv, carol.raw, bank.Account{})
	if err := bank.CheckSupply(kv); err != nil {
		t.Fatal(err)
	}
	bank.SetAccount(kv, alice.raw, bank.Account{Balance: core.MaxAmount})
	bank.SetAccount(kv, bob.raw, bank.Account{Balance: core.MaxAmount})
	if err := bank.CheckSupply(kv); err == nil {
		t.Fatal("overflowing balances not detected")
	}
}

func TestQuery(t *testing.T) {
	kv := newState(t)
	if res := contract.ExecTx(kv, testBlock, signedSend(t, alice, 0, bob.addr, 42), contract.Deliver); res.Code != core.CodeOK {
		t.Fatal(res.Log)
	}

	got, err := contract.Query(kv, "account/"+alice.addr)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`{"address":%q,"balance":"%d","sequence":1}`, alice.addr, aliceFunds-42-testFee)
	if string(got) != want {
		t.Fatalf("account view %s\nwant %s", got, want)
	}
	// Leading/trailing slashes and an upper-case address are accepted; the
	// view reports the canonical address.
	got2, err := contract.Query(kv, "/account/"+strings.ToUpper(alice.addr)+"/")
	if err != nil || string(got2) != want {
		t.Fatalf("upper-case query: %s %v", got2, err)
	}
	// Unknown account: the zero account.
	got, err = contract.Query(kv, "account/"+carol.addr)
	if err != nil || string(got) != fmt.Sprintf(`{"address":%q,"balance":"0","sequence":0}`, carol.addr) {
		t.Fatalf("unknown account: %s %v", got, err)
	}
	// The view decodes back.
	var v types.AccountView
	if err := json.Unmarshal(got2, &v); err != nil || v.Balance != aliceFunds-42-testFee || v.Sequence != 1 {
		t.Fatalf("decode view: %+v %v", v, err)
	}

	got, err = contract.Query(kv, "params")
	if err != nil || string(got) != `{"tx_fee":"1000"}` {
		t.Fatalf("params: %s %v", got, err)
	}
	got, err = contract.Query(kv, "supply")
	if err != nil {
		t.Fatal(err)
	}
	wantSupply := fmt.Sprintf(`{"supply":"%d","pools":{"fees":"1000","rewards":"777"}}`, aliceFunds+bobFunds+777)
	if string(got) != wantSupply {
		t.Fatalf("supply %s\nwant %s", got, wantSupply)
	}

	for _, p := range []string{"", "/", "accounts/" + alice.addr, "account", "account/", "account/" + alice.addr + "/x", "params/x", "supply/fees", "Params", "balance/" + alice.addr} {
		// ("account/" trims to "account": one part, so an unknown path.)
		if out, err := contract.Query(kv, p); core.CodeOf(err) != core.CodeInvalidQuery || out != nil {
			t.Errorf("Query(%q) = %s, %v; want invalid_query", p, out, err)
		}
	}
	for _, a := range badAddrs() {
		if a == "" {
			continue // "account/" is an unknown path, tested above
		}
		if out, err := contract.Query(kv, "account/"+a); core.CodeOf(err) != core.CodeInvalidAddress || out != nil {
			t.Errorf("Query(account/%s) = %s, %v; want invalid_address", a, out, err)
		}
	}
}

// badAddrs are strings that are not account addresses, each for a
// different reason.
func badAddrs() []string {
	typo := []byte(alice.addr)
	if typo[len(typo)-1] == 'q' {
		typo[len(typo)-1] = 'p'
	} else {
		typo[len(typo)-1] = 'q'
	}
	return []string{
		"",
		"fb1",
		"fb1xyz",
		string(typo), // checksum mismatch
		strings.ToUpper(alice.addr[:5]) + alice.addr[5:], // mixed case
		"cosmos1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqnrql8a",  // valid bech32, wrong prefix
		"fb1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq8q4vjv",       // 19 bytes
		"fb1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq9p946q",    // 21 bytes
		fmt.Sprintf("%x", alice.pub),                     // hex public key
	}
}

func TestInitGenesis(t *testing.T) {
	t.Run("ok", func(t *testing.T) {
		kv := store.NewMemKV()
		g := contract.Genesis{
			Params:   params.Params{TxFee: 7},
			Accounts: []contract.GenesisAccount{{Address: alice.addr, Balance: 10}, {Address: bob.addr, Balance: 0}},
			Pools:    map[string]core.Amount{bank.PoolRewards: 5, bank.PoolEscrow: 0},
		}
		if err := contract.InitGenesis(kv, g); err != nil {
			t.Fatal(err)
		}
		if bank.Supply(kv) != 15 || bal(kv, alice) != 10 || bank.PoolBalance(kv, bank.PoolRewards) != 5 {
			t.Fatalf("supply %d alice %d", bank.Supply(kv), bal(kv, alice))
		}
		if params.Get(kv).TxFee != 7 {
			t.Fatalf("params %+v", params.Get(kv))
		}
		if err := bank.CheckSupply(kv); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("deterministic", func(t *testing.T) {
		g := contract.Genesis{
			Accounts: []contract.GenesisAccount{{Address: alice.addr, Balance: 10}, {Address: bob.addr, Balance: 3}},
			Pools:    map[string]core.Amount{"a": 1, "b": 2, "c": 3, "d": 4, "e": 5},
		}
		var first []kvPair
		for i := 0; i < 10; i++ {
			kv := store.NewMemKV()
			if err := contract.InitGenesis(kv, g); err != nil {
				t.Fatal(err)
			}
			if s := snapshot(kv); first == nil {
				first = s
			} else if !slices.Equal(s, first) {
				t.Fatal("genesis state differs between runs")
			}
		}
	})
	bad := map[string]contract.Genesis{
		"duplicate account":             {Accounts: []contract.GenesisAccount{{Address: alice.addr, Balance: 1}, {Address: bob.addr, Balance: 1}, {Address: alice.addr, Balance: 2}}},
		"duplicate account, other case": {Accounts: []contract.GenesisAccount{{Address: alice.addr, Balance: 1}, {Address: strings.ToUpper(alice.addr), Balance: 2}}},
		"supply overflow in accounts":   {Accounts: []contract.GenesisAccount{{Address: alice.addr, Balance: core.MaxAmount}, {Address: bob.addr, Balance: 1}}},
		"supply overflow in pools": {
			Accounts: []contract.GenesisAccount{{Address: alice.addr, Balance: core.MaxAmount}},
			Pools:    map[string]core.Amount{bank.PoolRewards: 1},
		},
	}
	for i, a := range badAddrs() {
		bad[fmt.Sprintf("bad address %d %q", i, a)] = contract.Genesis{Accounts: []contract.GenesisAccount{{Address: alice.addr, Balance: 1}, {Address: a, Balance: 1}}}
	}
	for name, g := range bad {
		t.Run(name, func(t *testing.T) {
			if err := contract.InitGenesis(store.NewMemKV(), g); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestWrapAndDecodeMsg(t *testing.T) {
	m, err := contract.Wrap(&bank.MsgSend{To: bob.addr, Amount: 9})
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != "bank/send" || string(m.Value) != `{"to":"`+bob.addr+`","amount":"9"}` {
		t.Fatalf("Wrap = %s %s", m.Type, m.Value)
	}
	back, err := contract.DecodeMsg(m)
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := back.(*bank.MsgSend); !ok || s.To != bob.addr || s.Amount != 9 {
		t.Fatalf("DecodeMsg = %#v", back)
	}
	if _, err := contract.Wrap(unregistered{}); err == nil {
		t.Fatal("Wrap accepted an unregistered type")
	}
	if !slices.Contains(contract.MsgTypes(), "bank/send") || !slices.IsSorted(contract.MsgTypes()) {
		t.Fatalf("MsgTypes = %v", contract.MsgTypes())
	}
	defer func() {
		if recover() == nil {
			t.Fatal("registering a duplicate type did not panic")
		}
	}()
	contract.FromModules(contract.Module{Name: "a", Routes: bank.Routes()}, contract.Module{Name: "b", Routes: bank.Routes()})
}

type unregistered struct{}

func (unregistered) Type() string         { return "test/unregistered" }
func (unregistered) ValidateBasic() error { return nil }

// The handler table serves exactly the wire names signed txs have always
// used, each by the route whose message says that name.
func TestHandlerTableWireNames(t *testing.T) {
	want := []string{
		"accesskey/create", "accesskey/revoke", "bank/send",
		"dispute/open", "dispute/seal_key", "dispute/unit_policy", "dispute/verdict",
		"market/accept_reservation", "market/add_unit", "market/claim", "market/close_reservation",
		"market/decommission_unit", "market/delete_unit", "market/deregister_provider", "market/extend",
		"market/register_provider", "market/reject_reservation", "market/report_usage", "market/reserve",
		"market/resize", "market/stake", "market/topup", "market/unit_maintenance", "market/unstake",
		"market/update_provider", "market/update_unit",
		"qos/claim_compensation", "qos/declare_related", "qos/deregister_oracle", "qos/register_oracle", "qos/report",
		"qos/unjail_oracle",
		"repo/add_member", "repo/create", "repo/create_key", "repo/delete", "repo/member_synced",
		"repo/remove_member", "repo/replace_member", "repo/revoke_key", "repo/set_quorum",
	}
	if got := contract.MsgTypes(); !slices.Equal(got, want) {
		t.Fatalf("MsgTypes = %v\nwant      %v", got, want)
	}
	for _, name := range want {
		m, err := contract.DecodeMsg(tx.Msg{Type: name, Value: []byte("{}")})
		if err == nil && m.Type() != name {
			t.Errorf("%s decodes to a message named %s", name, m.Type())
		}
		if err != nil && core.CodeOf(err) == core.CodeUnknownMessage {
			t.Errorf("%s: %v", name, err)
		}
	}
}
