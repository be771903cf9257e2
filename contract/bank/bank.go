// Package bank is the token module: accounts, pools, the supply and its
// invariant, and bank/send.
package bank

import (
	"encoding/binary"
	"fmt"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/store"
)

// State layout (bank). Keys are prefixes followed by raw ids.
var (
	keyAccount = []byte("acc/")  // + 20-byte address -> account
	keyPool    = []byte("pool/") // + pool name -> 8-byte balance
	keySupply  = []byte("supply")
)

// Pools hold tokens that belong to no account. Every token is in exactly one
// account or pool, which is what the supply invariant checks.
const (
	PoolFees     = "fees"     // tx fees, for validators
	PoolTreasury = "treasury" // platform fees
	PoolRewards  = "rewards"  // funds reputation and oracle rewards
	PoolEscrow   = "escrow"   // consumers' prepaid reservations
	PoolStake    = "stake"    // bonded and unbonding stake
)

// Account is a balance and a tx sequence (nonce).
type Account struct {
	Balance  core.Amount
	Sequence uint64
}

// AccountKey is where the account of raw address is stored.
func AccountKey(raw []byte) []byte {
	k := make([]byte, 0, len(keyAccount)+len(raw))
	k = append(k, keyAccount...)
	return append(k, raw...)
}

// GetAccount reads an account; a missing one is the zero account.
func GetAccount(kv store.KV, raw []byte) Account {
	b := kv.Get(AccountKey(raw))
	if len(b) != 16 {
		return Account{}
	}
	return Account{
		Balance:  core.Amount(binary.BigEndian.Uint64(b[:8])),
		Sequence: binary.BigEndian.Uint64(b[8:]),
	}
}

// SetAccount writes an account (16 bytes: balance, sequence).
func SetAccount(kv store.KV, raw []byte, a Account) {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(a.Balance))
	binary.BigEndian.PutUint64(b[8:], a.Sequence)
	kv.Set(AccountKey(raw), b[:])
}

// PoolKey is where a pool's balance is stored.
func PoolKey(pool string) []byte { return store.Key(keyPool, []byte(pool)) }

// PoolBalance reads a pool's balance.
func PoolBalance(kv store.KV, pool string) core.Amount {
	b := kv.Get(PoolKey(pool))
	if len(b) != 8 {
		return 0
	}
	return core.Amount(binary.BigEndian.Uint64(b))
}

func setPool(kv store.KV, pool string, v core.Amount) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(v))
	kv.Set(PoolKey(pool), b[:])
}

// Supply is the total number of uflash in existence.
func Supply(kv store.KV) core.Amount {
	b := kv.Get(keySupply)
	if len(b) != 8 {
		return 0
	}
	return core.Amount(binary.BigEndian.Uint64(b))
}

func setSupply(kv store.KV, v core.Amount) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(v))
	kv.Set(keySupply, b[:])
}

// debit takes amt from an account.
func debit(kv store.KV, raw []byte, amt core.Amount) error {
	a := GetAccount(kv, raw)
	bal, err := core.Sub(a.Balance, amt)
	if err != nil {
		return core.Errf(core.CodeInsufficientFunds, "account %s has %d%s, needs %d%s", address.Encode(raw), a.Balance, core.Denom, amt, core.Denom)
	}
	a.Balance = bal
	SetAccount(kv, raw, a)
	return nil
}

// credit adds amt to an account.
func credit(kv store.KV, raw []byte, amt core.Amount) error {
	a := GetAccount(kv, raw)
	bal, err := core.Add(a.Balance, amt)
	if err != nil {
		return err
	}
	a.Balance = bal
	SetAccount(kv, raw, a)
	return nil
}

// Transfer moves amt between accounts.
func Transfer(kv store.KV, from, to []byte, amt core.Amount) error {
	if err := debit(kv, from, amt); err != nil {
		return err
	}
	return credit(kv, to, amt)
}

// ToPool moves amt from an account into a pool.
func ToPool(kv store.KV, from []byte, pool string, amt core.Amount) error {
	if err := debit(kv, from, amt); err != nil {
		return err
	}
	return AddPool(kv, pool, amt)
}

// FromPool moves amt from a pool to an account.
func FromPool(kv store.KV, pool string, to []byte, amt core.Amount) error {
	if err := subPool(kv, pool, amt); err != nil {
		return err
	}
	return credit(kv, to, amt)
}

// PoolToPool moves amt between pools.
func PoolToPool(kv store.KV, from, to string, amt core.Amount) error {
	if err := subPool(kv, from, amt); err != nil {
		return err
	}
	return AddPool(kv, to, amt)
}

// AddPool adds amt to a pool (tokens already taken from somewhere).
func AddPool(kv store.KV, pool string, amt core.Amount) error {
	v, err := core.Add(PoolBalance(kv, pool), amt)
	if err != nil {
		return err
	}
	setPool(kv, pool, v)
	return nil
}

func subPool(kv store.KV, pool string, amt core.Amount) error {
	have := PoolBalance(kv, pool)
	if amt > have {
		// A pool short of funds is a bug in the contract, not a user error.
		return core.Errf(core.CodeInternal, "pool %s has %d%s, cannot pay %d%s", pool, have, core.Denom, amt, core.Denom)
	}
	setPool(kv, pool, have-amt)
	return nil
}

// CheckSupply verifies the supply invariant: every token is in an account or
// a pool, and together they add up to the recorded supply. It scans all
// accounts, so it is for tests and audits, not for blocks.
func CheckSupply(kv store.KV) error {
	var total uint64
	var overflow bool
	add := func(v uint64) {
		if total+v < total {
			overflow = true
		}
		total += v
	}
	kv.Iterate(keyAccount, store.PrefixEnd(keyAccount), func(_, v []byte) bool {
		if len(v) == 16 {
			add(binary.BigEndian.Uint64(v[:8]))
		}
		return true
	})
	kv.Iterate(keyPool, store.PrefixEnd(keyPool), func(_, v []byte) bool {
		if len(v) == 8 {
			add(binary.BigEndian.Uint64(v))
		}
		return true
	})
	if overflow {
		return fmt.Errorf("supply invariant: sum of balances overflows")
	}
	if s := Supply(kv); core.Amount(total) != s {
		return fmt.Errorf("supply invariant: accounts + pools = %d, supply = %d", total, s)
	}
	return nil
}

// MsgSend moves tokens from the signer to another account.
type MsgSend struct {
	To     string      `json:"to"`
	Amount core.Amount `json:"amount"`

	// to and toAddr are parsedTo (To when ValidateBasic ran) parsed and
	// re-encoded. ValidateBasic runs while a block's signatures are
	// verified in parallel, so the sequential handler need not parse or
	// encode the address again.
	parsedTo string
	to       []byte
	toAddr   string
}

func (m *MsgSend) ValidateBasic() error {
	to, err := address.Parse(m.To)
	if err != nil {
		return core.Errf(core.CodeInvalidAddress, "to: %v", err)
	}
	m.parsedTo, m.to, m.toAddr = m.To, to, address.Encode(to)
	if m.Amount == 0 {
		return core.Errf(core.CodeInvalidAmount, "amount must be positive")
	}
	return nil
}

func handleSend(ctx *core.Context, signer []byte, m *MsgSend) error {
	to, toAddr := m.to, m.toAddr
	if to == nil || m.parsedTo != m.To { // not (or no longer) as ValidateBasic saw it
		to, _ = address.Parse(m.To)
		toAddr = address.Encode(to)
	}
	if err := Transfer(ctx.KV, signer, to, m.Amount); err != nil {
		return err
	}
	ctx.Emit("transfer", "sender", ctx.SignerAddress(signer), "recipient", toAddr, "amount", m.Amount.String())
	return nil
}
