// Package contract is the orchestrator: a deterministic state machine that
// takes signed transactions and block boundaries in and writes state and
// events out. It does no I/O, reads no clock and starts no goroutines; the
// chain package feeds it blocks and persists what it writes.
package contract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/tx"
)

// Msg is one action in a transaction. Every message acts for the tx signer:
// authorization is "is the signer allowed to do this to that object".
type Msg interface {
	// ValidateBasic checks the message alone, without state.
	ValidateBasic() error
	// Handle applies the message. On error the caller drops its writes.
	Handle(ctx *Context, signer []byte) error
}

// registry maps message type names (stable, part of the wire format) to
// constructors.
var registry = map[string]func() Msg{}
var typeNames = map[reflect.Type]string{}

// Register adds a message type. Called from init functions only.
func Register(name string, newMsg func() Msg) {
	if _, dup := registry[name]; dup {
		panic("contract: duplicate message type " + name)
	}
	registry[name] = newMsg
	typeNames[reflect.TypeOf(newMsg())] = name
}

func init() {
	Register("bank/send", func() Msg { return new(MsgSend) })
	registerMarket()
	registerQoS()
}

// MsgTypes lists the registered message type names, sorted.
func MsgTypes() []string {
	out := make([]string, 0, len(registry))
	for k := range registry {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Wrap encodes a message into the envelope's form with its registered name.
func Wrap(m Msg) (tx.Msg, error) {
	name, ok := typeNames[reflect.TypeOf(m)]
	if !ok {
		return tx.Msg{}, fmt.Errorf("message type %T is not registered", m)
	}
	v, err := json.Marshal(m)
	if err != nil {
		return tx.Msg{}, fmt.Errorf("encode %s: %w", name, err)
	}
	return tx.Msg{Type: name, Value: v}, nil
}

// DecodeMsg turns an envelope message into a validated Msg.
func DecodeMsg(m tx.Msg) (Msg, error) {
	newMsg, ok := registry[m.Type]
	if !ok {
		return nil, Errf(CodeUnknownMessage, "unknown message type %q (known: %s)", m.Type, strings.Join(MsgTypes(), ", "))
	}
	msg := newMsg()
	if err := tx.StrictUnmarshal(m.Value, msg); err != nil {
		return nil, Errf(CodeInvalidMessage, "%s: %v", m.Type, err)
	}
	if err := msg.ValidateBasic(); err != nil {
		if CodeOf(err) == CodeInternal {
			return nil, Errf(CodeInvalidMessage, "%s: %v", m.Type, err)
		}
		return nil, fmt.Errorf("%s: %w", m.Type, err)
	}
	// One message, one encoding: what a wallet shows is what executes
	// (no case-folded or duplicate keys, no alternative number forms).
	if canon, err := json.Marshal(msg); err != nil || !bytes.Equal(canon, m.Value) {
		return nil, Errf(CodeInvalidMessage, "%s: value is not in canonical form (encode it with compact JSON in field order, as contract.Wrap does)", m.Type)
	}
	return msg, nil
}

// Params are the chain's tunables, fixed in genesis.
type Params struct {
	// TxFee is the flat fee every tx pays to the validators' pool.
	TxFee Amount `json:"tx_fee"`

	// Market (see market.go). Omitted means zero; a zero epoch_seconds,
	// accept_timeout, max_term or settle_lag_epochs means its default.
	// EpochSeconds is the settlement and QoS epoch length.
	EpochSeconds int64 `json:"epoch_seconds,omitempty"`
	// FeeBps is the platform fee on every payment to a provider, in basis
	// points, paid by the consumer on top of the price, to the treasury.
	FeeBps uint32 `json:"fee_bps,omitempty"`
	// MinUnitStake is the bonded stake a provider needs per live unit.
	MinUnitStake Amount `json:"min_unit_stake,omitempty"`
	// UnbondingPeriod is how long unstaked tokens stay slashable (seconds).
	UnbondingPeriod int64 `json:"unbonding_period,omitempty"`
	// AcceptTimeout is how long a pending reservation waits for the
	// provider before it expires with a full refund (seconds).
	AcceptTimeout int64 `json:"accept_timeout,omitempty"`
	// MaxTerm is the longest reservation term (seconds).
	MaxTerm int64 `json:"max_term,omitempty"`
	// SettleLagEpochs is how many past epochs QoS may still mark breached;
	// revenue of older epochs is final and claimable.
	SettleLagEpochs int64 `json:"settle_lag_epochs,omitempty"`

	// QoS (see qos.go). Omitted or zero means the default, except
	// quorum_bps (0: two thirds of the active oracles, rounded up) and
	// report_grace_epochs (0: only the epoch that just ended; capped at
	// settle_lag_epochs-2).
	// MinOracleStake is the bond an oracle registers with.
	MinOracleStake Amount `json:"min_oracle_stake,omitempty"`
	// QuorumBps is the share of active oracles whose reports a unit needs
	// in an epoch to be judged (at least one report).
	QuorumBps uint32 `json:"quorum_bps,omitempty"`
	// ReportGraceEpochs is how many epochs before the one that just ended
	// still take reports.
	ReportGraceEpochs int64 `json:"report_grace_epochs,omitempty"`
	// MaxUnitsPerReport bounds one report tx.
	MaxUnitsPerReport uint32 `json:"max_units_per_report,omitempty"`
	// UptimeWindowEpochs is the rolling window uptime is measured over.
	UptimeWindowEpochs int64 `json:"uptime_window_epochs,omitempty"`
	// SlashFractionBps of a unit's stake is slashed per breached epoch.
	SlashFractionBps uint32 `json:"slash_fraction_bps,omitempty"`
	// OracleShareBps of every slash and of platform fees goes to the
	// oracles whose reports entered the median.
	OracleShareBps uint32 `json:"oracle_share_bps,omitempty"`
	// ScorePeriodEpochs is the scoring (and reputation reward) period.
	ScorePeriodEpochs int64 `json:"score_period_epochs,omitempty"`
	// WarnScore: below it a unit gets score_warning events.
	WarnScore uint32 `json:"warn_score,omitempty"`
	// SuspendScore: below it a unit takes no new reservations.
	SuspendScore uint32 `json:"suspend_score,omitempty"`
	// DecayPerMonth is how many points a score without data moves toward
	// 50 per 30 days.
	DecayPerMonth uint32 `json:"decay_per_month,omitempty"`
	// OutlierBps: a reporter more than this far from the median (p95
	// latency, download or upload, relative) earns no oracle reward.
	OutlierBps uint32 `json:"outlier_bps,omitempty"`
	// HistoryEpochs is how many epochs of stats and per-unit QoS history
	// the chain keeps.
	HistoryEpochs int64 `json:"history_epochs,omitempty"`
}

// DefaultParams are used when genesis leaves a param unset.
func DefaultParams() Params {
	return Params{
		TxFee:           1000,
		EpochSeconds:    3600,
		FeeBps:          200,
		MinUnitStake:    1_000_000_000, // 1,000 FLASH
		UnbondingPeriod: 21 * 24 * 3600,
		AcceptTimeout:   24 * 3600,
		MaxTerm:         3 * 365 * 24 * 3600,
		SettleLagEpochs: 2,

		MinOracleStake:     1_000_000_000, // 1,000 FLASH
		MaxUnitsPerReport:  1000,
		UptimeWindowEpochs: 24,
		SlashFractionBps:   100, // 1 % of the unit's stake per breached epoch
		OracleShareBps:     1000,
		ScorePeriodEpochs:  24,
		WarnScore:          40,
		SuspendScore:       20,
		DecayPerMonth:      10,
		OutlierBps:         5000,
		HistoryEpochs:      720,
	}
}

// GetParams reads the params from state.
func GetParams(kv KV) Params {
	p := DefaultParams()
	if b := kv.Get(keyParams); b != nil {
		// Written by us from a valid Params. Fields omitted there are zero
		// (the market reads zero epoch_seconds, accept_timeout, max_term
		// and settle_lag_epochs as their defaults).
		p = Params{}
		_ = json.Unmarshal(b, &p)
	}
	return p
}

func setParams(kv KV, p Params) {
	b, _ := json.Marshal(p)
	kv.Set(keyParams, b)
}

// Genesis is the contract's initial state (the app_state of genesis.json).
type Genesis struct {
	Params   Params           `json:"params"`
	Accounts []GenesisAccount `json:"accounts"`
	// Pools pre-funds pools, e.g. the rewards pool.
	Pools map[string]Amount `json:"pools,omitempty"`
}

// GenesisAccount is a funded account at genesis.
type GenesisAccount struct {
	Address string `json:"address"`
	Balance Amount `json:"balance"`
}

// InitGenesis writes the initial state.
func InitGenesis(kv KV, g Genesis) error {
	setParams(kv, g.Params)
	var supply Amount
	seen := map[string]bool{}
	for _, a := range g.Accounts {
		raw, err := address.Parse(a.Address)
		if err != nil {
			return fmt.Errorf("genesis account: %w", err)
		}
		if seen[string(raw)] {
			return fmt.Errorf("genesis account %s listed twice", a.Address)
		}
		seen[string(raw)] = true
		SetAccount(kv, raw, Account{Balance: a.Balance})
		var err2 error
		if supply, err2 = Add(supply, a.Balance); err2 != nil {
			return fmt.Errorf("genesis supply: %w", err2)
		}
	}
	pools := make([]string, 0, len(g.Pools))
	for p := range g.Pools {
		pools = append(pools, p)
	}
	sort.Strings(pools)
	for _, p := range pools {
		setPool(kv, p, g.Pools[p])
		var err error
		if supply, err = Add(supply, g.Pools[p]); err != nil {
			return fmt.Errorf("genesis supply: %w", err)
		}
	}
	setSupply(kv, supply)
	return nil
}

// Mode says whether a tx is being checked for the mempool or executed in a
// block. Check runs only the ante checks (and applies sequence and fee to
// the check state so that a signer can queue several txs).
type Mode int

const (
	Check Mode = iota
	Deliver
)

// Result is the outcome of one tx.
type Result struct {
	Code   Code
	Log    string
	Events []Event
	Signer string
}

func fail(err error) Result {
	return Result{Code: CodeOf(err), Log: err.Error()}
}

// ExecTx checks and (in Deliver mode) executes a tx against kv. Ante effects
// (sequence, fee) are written to kv when the ante checks pass; message
// effects only when every message succeeds.
func ExecTx(kv KV, blk Block, raw []byte, mode Mode) Result {
	return ExecPrepared(kv, blk, PrepareTx(raw, VerifySig), mode)
}

// execChecked runs the ante checks and messages of a tx that passed the
// stateless checks (see PrepareTx).
func execChecked(kv KV, blk Block, p *PreparedTx, mode Mode) Result {
	d, msgs, signer, signerStr := p.d, p.msgs, p.signer, p.signerStr
	acc := GetAccount(kv, signer)
	switch {
	case d.Body.Sequence < acc.Sequence:
		return fail(Errf(CodeBadSequence, "sequence %d was already used; account %s is at sequence %d", d.Body.Sequence, signerStr, acc.Sequence))
	case d.Body.Sequence > acc.Sequence:
		return fail(Errf(CodeBadSequence, "sequence %d is ahead; account %s is at sequence %d", d.Body.Sequence, signerStr, acc.Sequence))
	}
	fee, _ := ParseAmount(d.Body.Fee) // shape checked by tx.Decode
	params := GetParams(kv)
	if fee < params.TxFee {
		return fail(Errf(CodeInsufficientFee, "fee %d%s is below the minimum tx fee %d%s", fee, Denom, params.TxFee, Denom))
	}
	if acc.Balance < fee {
		return fail(Errf(CodeInsufficientFunds, "account %s has %d%s, cannot pay the %d%s fee", signerStr, acc.Balance, Denom, fee, Denom))
	}
	acc.Balance -= fee
	acc.Sequence++
	SetAccount(kv, signer, acc)
	if err := addPool(kv, PoolFees, fee); err != nil {
		return fail(err)
	}
	res := Result{Signer: signerStr}
	res.Events = append(res.Events, Event{Type: "tx", Attrs: []Attr{
		{Key: "signer", Value: signerStr},
		{Key: "sequence", Value: fmt.Sprint(d.Body.Sequence)},
		{Key: "fee", Value: fee.String()},
	}})
	if mode == Check {
		return res
	}
	cache := NewCache(kv)
	ctx := &Context{KV: cache, Block: blk}
	for i, m := range msgs {
		if err := m.Handle(ctx, signer); err != nil {
			res.Code = CodeOf(err)
			res.Log = fmt.Sprintf("message %d (%s): %v", i, d.Body.Msgs[i].Type, err)
			return res
		}
	}
	cache.Write()
	res.Events = append(res.Events, ctx.Events()...)
	return res
}

// BeginBlock runs block-start work. Later modules hook in here.
func BeginBlock(kv KV, blk Block) []Event {
	ev := marketBeginBlock(kv, blk)
	return append(ev, qosBeginBlock(kv, blk)...)
}

// EndBlock runs block-end work (epoch boundaries, expiry queues).
func EndBlock(kv KV, blk Block) []Event {
	ev := marketEndBlock(kv, blk)
	return append(ev, qosEndBlock(kv, blk)...)
}
