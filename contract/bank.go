package contract

import (
	"encoding/binary"
	"fmt"

	"github.com/flashback-network/flashback/address"
)

// State layout (bank). Keys are prefixes followed by raw ids.
var (
	keyAccount = []byte("acc/")  // + 20-byte address -> account
	keyPool    = []byte("pool/") // + pool name -> 8-byte balance
	keySupply  = []byte("supply")
	keyParams  = []byte("params")
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
	Balance  Amount
	Sequence uint64
}

func accountKey(raw []byte) []byte {
	k := make([]byte, 0, len(keyAccount)+len(raw))
	k = append(k, keyAccount...)
	return append(k, raw...)
}

// GetAccount reads an account; a missing one is the zero account.
func GetAccount(kv KV, raw []byte) Account {
	b := kv.Get(accountKey(raw))
	if len(b) != 16 {
		return Account{}
	}
	return Account{
		Balance:  Amount(binary.BigEndian.Uint64(b[:8])),
		Sequence: binary.BigEndian.Uint64(b[8:]),
	}
}

// SetAccount writes an account (16 bytes: balance, sequence).
func SetAccount(kv KV, raw []byte, a Account) {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(a.Balance))
	binary.BigEndian.PutUint64(b[8:], a.Sequence)
	kv.Set(accountKey(raw), b[:])
}

// PoolBalance reads a pool's balance.
func PoolBalance(kv KV, pool string) Amount {
	b := kv.Get(append(append([]byte(nil), keyPool...), pool...))
	if len(b) != 8 {
		return 0
	}
	return Amount(binary.BigEndian.Uint64(b))
}

func setPool(kv KV, pool string, v Amount) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(v))
	kv.Set(append(append([]byte(nil), keyPool...), pool...), b[:])
}

// Supply is the total number of uflash in existence.
func Supply(kv KV) Amount {
	b := kv.Get(keySupply)
	if len(b) != 8 {
		return 0
	}
	return Amount(binary.BigEndian.Uint64(b))
}

func setSupply(kv KV, v Amount) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(v))
	kv.Set(keySupply, b[:])
}

// debit takes amt from an account.
func debit(kv KV, raw []byte, amt Amount) error {
	a := GetAccount(kv, raw)
	bal, err := Sub(a.Balance, amt)
	if err != nil {
		return Errf(CodeInsufficientFunds, "account %s has %d%s, needs %d%s", address.Encode(raw), a.Balance, Denom, amt, Denom)
	}
	a.Balance = bal
	SetAccount(kv, raw, a)
	return nil
}

// credit adds amt to an account.
func credit(kv KV, raw []byte, amt Amount) error {
	a := GetAccount(kv, raw)
	bal, err := Add(a.Balance, amt)
	if err != nil {
		return err
	}
	a.Balance = bal
	SetAccount(kv, raw, a)
	return nil
}

// Transfer moves amt between accounts.
func Transfer(kv KV, from, to []byte, amt Amount) error {
	if err := debit(kv, from, amt); err != nil {
		return err
	}
	return credit(kv, to, amt)
}

// ToPool moves amt from an account into a pool.
func ToPool(kv KV, from []byte, pool string, amt Amount) error {
	if err := debit(kv, from, amt); err != nil {
		return err
	}
	return addPool(kv, pool, amt)
}

// FromPool moves amt from a pool to an account.
func FromPool(kv KV, pool string, to []byte, amt Amount) error {
	if err := subPool(kv, pool, amt); err != nil {
		return err
	}
	return credit(kv, to, amt)
}

// PoolToPool moves amt between pools.
func PoolToPool(kv KV, from, to string, amt Amount) error {
	if err := subPool(kv, from, amt); err != nil {
		return err
	}
	return addPool(kv, to, amt)
}

func addPool(kv KV, pool string, amt Amount) error {
	v, err := Add(PoolBalance(kv, pool), amt)
	if err != nil {
		return err
	}
	setPool(kv, pool, v)
	return nil
}

func subPool(kv KV, pool string, amt Amount) error {
	have := PoolBalance(kv, pool)
	if amt > have {
		// A pool short of funds is a bug in the contract, not a user error.
		return Errf(CodeInternal, "pool %s has %d%s, cannot pay %d%s", pool, have, Denom, amt, Denom)
	}
	setPool(kv, pool, have-amt)
	return nil
}

// CheckSupply verifies the supply invariant: every token is in an account or
// a pool, and together they add up to the recorded supply. It scans all
// accounts, so it is for tests and audits, not for blocks.
func CheckSupply(kv KV) error {
	var total uint64
	var overflow bool
	add := func(v uint64) {
		if total+v < total {
			overflow = true
		}
		total += v
	}
	kv.Iterate(keyAccount, PrefixEnd(keyAccount), func(_, v []byte) bool {
		if len(v) == 16 {
			add(binary.BigEndian.Uint64(v[:8]))
		}
		return true
	})
	kv.Iterate(keyPool, PrefixEnd(keyPool), func(_, v []byte) bool {
		if len(v) == 8 {
			add(binary.BigEndian.Uint64(v))
		}
		return true
	})
	if overflow {
		return fmt.Errorf("supply invariant: sum of balances overflows")
	}
	if s := Supply(kv); Amount(total) != s {
		return fmt.Errorf("supply invariant: accounts + pools = %d, supply = %d", total, s)
	}
	return nil
}

// MsgSend moves tokens from the signer to another account.
type MsgSend struct {
	To     string `json:"to"`
	Amount Amount `json:"amount"`
}

func (m *MsgSend) ValidateBasic() error {
	if _, err := address.Parse(m.To); err != nil {
		return Errf(CodeInvalidAddress, "to: %v", err)
	}
	if m.Amount == 0 {
		return Errf(CodeInvalidAmount, "amount must be positive")
	}
	return nil
}

func (m *MsgSend) Handle(ctx *Context, signer []byte) error {
	to, _ := address.Parse(m.To)
	if err := Transfer(ctx.KV, signer, to, m.Amount); err != nil {
		return err
	}
	ctx.Emit("transfer", "sender", address.Encode(signer), "recipient", address.Encode(to), "amount", m.Amount.String())
	return nil
}
