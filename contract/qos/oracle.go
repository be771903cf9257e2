package qos

import (
	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/bank"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/store"
)

// Oracle is a bonded QoS reporter.
type Oracle struct {
	Address       string                  `json:"address"`
	Stake         core.Amount             `json:"stake"`
	Unbonding     []market.UnbondingEntry `json:"unbonding"`
	Active        bool                    `json:"active"`
	RegisteredAt  core.Time               `json:"registered_at"`
	UpdatedAt     core.Time               `json:"updated_at"`
	Reports       uint64                  `json:"reports"`
	UnitsReported uint64                  `json:"units_reported"`
	InMedian      uint64                  `json:"in_median"` // unit reports that entered the median
	Outliers      uint64                  `json:"outliers"`  // unit reports far from the median
	LastEpoch     int64                   `json:"last_epoch"`
	Rewards       core.Amount             `json:"rewards"` // oracle rewards received
	// Accountability (misses.go): unit-epochs assigned and not reported,
	// bond taken for them, the epochs of the misses in the current window,
	// and the jail.
	Missed      uint64      `json:"missed"`
	Penalized   core.Amount `json:"penalized"`
	MissEpochs  []int64     `json:"miss_epochs,omitempty"`
	Jailed      bool        `json:"jailed"`
	JailedUntil int64       `json:"jailed_until_epoch"` // first epoch qos/unjail_oracle is taken
	// Outlier slashing (outlier.go): the far epochs in the current window
	// and the bond taken for them.
	FarEpochs      []int64     `json:"far_epochs,omitempty"`
	OutlierSlashed core.Amount `json:"outlier_slashed"`
}

// UnbondingTotal is the sum of the oracle's unbonding entries.
func (o *Oracle) UnbondingTotal() core.Amount {
	var t core.Amount
	for _, e := range o.Unbonding {
		t += e.Amount
	}
	return t
}

func oracleKey(raw []byte) []byte { return store.Key(KeyOracle, raw) }

// GetOracle reads an oracle by raw address.
func GetOracle(kv store.KV, raw []byte) (*Oracle, bool) {
	var o Oracle
	if !store.Get(kv, oracleKey(raw), &o) {
		return nil, false
	}
	return &o, true
}

func setOracle(kv store.KV, raw []byte, o *Oracle) { store.Set(kv, oracleKey(raw), o) }

// ActiveOracles is the number of registered, not deregistered oracles.
func ActiveOracles(kv store.KV) uint64 { return store.GetUint64(kv, keyOracleCount) }

// ---- oracle messages ----

// MsgRegisterOracle makes the signer an oracle, bonding Stake (at least
// min_oracle_stake) into the stake pool.
type MsgRegisterOracle struct {
	Stake core.Amount `json:"stake"`
}

func (m *MsgRegisterOracle) ValidateBasic() error {
	if m.Stake == 0 {
		return core.Errf(core.CodeInvalidAmount, "stake must be positive (at least min_oracle_stake)")
	}
	return nil
}

func handleRegisterOracle(ctx *core.Context, signer []byte, m *MsgRegisterOracle) error {
	q := getQoSParams(ctx.KV)
	o, ok := GetOracle(ctx.KV, signer)
	if ok && o.Active {
		return core.Errf(core.CodeAlreadyExists, "%s is already an oracle", address.Encode(signer))
	}
	if m.Stake < q.MinStake {
		return core.Errf(core.CodeInsufficientStake, "stake %d%s is below min_oracle_stake %d%s", m.Stake, core.Denom, q.MinStake, core.Denom)
	}
	if !ok {
		o = &Oracle{Address: address.Encode(signer), LastEpoch: -1}
	}
	if err := bank.ToPool(ctx.KV, signer, bank.PoolStake, m.Stake); err != nil {
		return err
	}
	var err error
	if o.Stake, err = core.Add(o.Stake, m.Stake); err != nil {
		return err
	}
	o.Active = true
	o.RegisteredAt, o.UpdatedAt = core.Time(ctx.Now()), core.Time(ctx.Now())
	setOracle(ctx.KV, signer, o)
	setEligible(ctx.KV, signer, !o.Jailed)
	store.SetUint64(ctx.KV, keyOracleCount, ActiveOracles(ctx.KV)+1)
	statsAdd(ctx.KV, func(s *NetworkStats) { s.Oracles = satAdd(s.Oracles, 1) })
	ctx.Emit("oracle_registered", "oracle", o.Address, "stake", o.Stake.String())
	return nil
}

// MsgDeregisterOracle retires the signer's oracle: it stops counting for
// quorum at once (reports already accepted still count) and its stake
// unbonds over unbonding_period, staying slashable until released.
type MsgDeregisterOracle struct{}

func (m *MsgDeregisterOracle) ValidateBasic() error { return nil }

func handleDeregisterOracle(ctx *core.Context, signer []byte, m *MsgDeregisterOracle) error {
	o, ok := GetOracle(ctx.KV, signer)
	if !ok || !o.Active {
		return core.Errf(core.CodeNotOracle, "%s is not an active oracle", address.Encode(signer))
	}
	if o.Stake > 0 {
		if err := checkUnbondingRoom(o); err != nil {
			return err
		}
	}
	if err := retireOracle(ctx, signer, o); err != nil {
		return err
	}
	ctx.Emit("oracle_deregistered", "oracle", o.Address)
	return nil
}

// retireOracle makes o inactive: it stops counting for quorum and being
// assigned at once (reports already accepted still count) and its stake
// unbonds over unbonding_period, staying slashable until released. With
// no room for another unbonding entry (checkUnbondingRoom) the stake
// joins the latest entry, released no earlier than that entry.
func retireOracle(ctx *core.Context, raw []byte, o *Oracle) error {
	q := getQoSParams(ctx.KV)
	if o.Stake > 0 {
		at := ctx.Now() + q.Unbonding
		if n := len(o.Unbonding); n >= MaxOracleUnbondingEntries {
			last := &o.Unbonding[n-1]
			sum, err := core.Add(last.Amount, o.Stake)
			if err != nil {
				return err
			}
			last.Amount, at = sum, last.ReleaseAt.Unix()
		} else {
			seq := store.NextSequence(ctx.KV, keySeqOUnbond)
			o.Unbonding = append(o.Unbonding, market.UnbondingEntry{Amount: o.Stake, ReleaseAt: core.Time(at), Seq: seq})
			ctx.KV.Set(store.Key(keyOQueue, store.EncodeUint64(uint64(at)), raw, store.EncodeUint64(seq)), []byte{})
		}
		ctx.Emit("oracle_unbond", "oracle", o.Address, "amount", o.Stake.String(), "release_at", itoa(at))
		o.Stake = 0
	}
	o.Active = false
	o.UpdatedAt = core.Time(ctx.Now())
	setOracle(ctx.KV, raw, o)
	setEligible(ctx.KV, raw, false)
	store.SetUint64(ctx.KV, keyOracleCount, ActiveOracles(ctx.KV)-1)
	statsAdd(ctx.KV, func(s *NetworkStats) { s.Oracles = satSub(s.Oracles, 1) })
	return nil
}

// MaxOracleUnbondingEntries bounds an oracle's unbonding entries (as
// Cosmos x/staking's max_entries does a delegation's): each
// deregistration adds one, and the record, its slashing and its view
// loop over them. A deregistration that would add one more fails until
// the earliest entry is released.
const MaxOracleUnbondingEntries = market.MaxUnbondingEntries

// checkUnbondingRoom fails when the oracle already has the most unbonding
// entries, saying when the earliest of them releases.
func checkUnbondingRoom(o *Oracle) error {
	if len(o.Unbonding) < MaxOracleUnbondingEntries {
		return nil
	}
	earliest := o.Unbonding[0].ReleaseAt
	for _, e := range o.Unbonding[1:] {
		earliest = min(earliest, e.ReleaseAt)
	}
	return core.Errf(core.CodeLimitExceeded, "oracle %s already has %d unbonding entries, the most allowed (max %d); the earliest releases at %s, deregister again after that",
		o.Address, len(o.Unbonding), MaxOracleUnbondingEntries, earliest)
}
