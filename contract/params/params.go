// Package params holds the chain's tunables, fixed in genesis, and their
// defaults.
package params

// The records are stored in the binary codec (codec_*.go, generated).
//go:generate go run ../store/recordgen -out codec.go Params

import (
	"encoding/json"
	"net/url"

	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/store"
)

// keyParams is where the params record is stored.
var keyParams = []byte("params")

// Params are the chain's tunables, fixed in genesis.
type Params struct {
	// TxFee is the flat fee every tx pays to the validators' pool.
	TxFee core.Amount `json:"tx_fee"`

	// Market (see market.go). Omitted means zero; a zero epoch_seconds,
	// accept_timeout, max_term or settle_lag_epochs means its default.
	// EpochSeconds is the settlement and QoS epoch length.
	EpochSeconds int64 `json:"epoch_seconds,omitempty"`
	// FeeBps is the platform fee on every payment to a provider, in basis
	// points, paid by the consumer on top of the price, to the treasury.
	FeeBps uint32 `json:"fee_bps,omitempty"`
	// MinUnitStake is the bonded stake a provider needs per live unit.
	MinUnitStake core.Amount `json:"min_unit_stake,omitempty"`
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
	MinOracleStake core.Amount `json:"min_oracle_stake,omitempty"`
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

	// Oracle accountability (issue 13). Zero means the default.
	// OraclesPerUnit is how many oracles are assigned to each unit per
	// epoch (capped by the eligible oracles).
	OraclesPerUnit uint32 `json:"oracles_per_unit,omitempty"`
	// MissPenalty is taken from an assigned oracle's bond for each
	// unit-epoch it did not report (to the treasury).
	MissPenalty core.Amount `json:"miss_penalty,omitempty"`
	// MaxMissed misses within miss_window_epochs jail an oracle.
	MaxMissed uint32 `json:"max_missed,omitempty"`
	// MissWindowEpochs is the window max_missed is counted over.
	MissWindowEpochs int64 `json:"miss_window_epochs,omitempty"`
	// OracleJailEpochs is how long a jailed oracle waits before
	// qos/unjail_oracle.
	OracleJailEpochs int64 `json:"oracle_jail_epochs,omitempty"`

	// Held epochs and outlier slashing (issue 13, qos/hold.go and
	// qos/outlier.go). Zero means the default.
	// HoldEpochs is how many epochs a unit-epoch without a quorum of its
	// assigned oracles stays held (neither paid nor refunded) for late
	// reports before it is refunded; a unit with more consecutive held
	// epochs than this is flagged held too long.
	HoldEpochs int64 `json:"hold_epochs,omitempty"`
	// OutlierToleranceBps: a report whose success ratio is more than this
	// many basis points (absolute) from the median's, or whose p95 latency
	// is more than this far (relative) from the median, is far.
	OutlierToleranceBps uint32 `json:"outlier_tolerance_bps,omitempty"`
	// OutlierK far epochs within the last outlier_window epochs slash an
	// oracle outlier_slash.
	OutlierK      uint32 `json:"outlier_k,omitempty"`
	OutlierWindow int64  `json:"outlier_window,omitempty"`
	// OutlierSlash is taken from the oracle's bond and shared by the
	// oracles that reported within tolerance in that epoch.
	OutlierSlash core.Amount `json:"outlier_slash,omitempty"`
	// Disputes (issue 13, contract/dispute). Zero means the default.
	// DisputeDeposit is the least deposit that opens a dispute; it is
	// returned unless the oracles reject the dispute.
	DisputeDeposit core.Amount `json:"dispute_deposit,omitempty"`
	// DisputeWindow is how long (seconds) the assigned oracles have to
	// give their verdicts.
	DisputeWindow int64 `json:"dispute_window,omitempty"`
	// DisputeSlash is taken from the provider's stake and paid to the
	// consumer when a dispute is upheld.
	DisputeSlash core.Amount `json:"dispute_slash,omitempty"`
}

// Default are used when genesis leaves a param unset.
func Default() Params {
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

		OraclesPerUnit:   3,
		MissPenalty:      10_000_000, // 10 FLASH, 1 % of min_oracle_stake
		MaxMissed:        5,
		MissWindowEpochs: 24,
		OracleJailEpochs: 24,

		HoldEpochs:          3,
		OutlierToleranceBps: 3000,
		OutlierK:            3,
		OutlierWindow:       6,
		OutlierSlash:        50_000_000,  // 50 FLASH, 5 % of min_oracle_stake
		DisputeDeposit:      10_000_000,  // 10 FLASH
		DisputeWindow:       2 * 3600,    // two production epochs
		DisputeSlash:        100_000_000, // 100 FLASH
	}
}

// Get reads the params from state. Within a block (a store.Cache) they
// are decoded once: the params are fixed in genesis.
func Get(kv store.KV) Params { return store.Memo(kv, keyParams, decode) }

// decode reads a params record; no record means the defaults.
func decode(b []byte) Params {
	if b == nil {
		return Default()
	}
	// Written by us from a valid Params. Fields omitted there are zero
	// (the market reads zero epoch_seconds, accept_timeout, max_term and
	// settle_lag_epochs as their defaults).
	var p Params
	if err := p.UnmarshalBinary(b); err != nil {
		panic("contract: corrupt params record: " + err.Error())
	}
	return p
}

// Set writes the params.
func Set(kv store.KV, p Params) { store.Set(kv, keyParams, &p) }

// Query answers "params"; ok is false for other paths.
func Query(kv store.KV, parts []string, _ url.Values) (out []byte, ok bool, err error) {
	if len(parts) == 1 && parts[0] == "params" {
		p := Get(kv)
		out, err = json.Marshal(p.View())
		return out, true, err
	}
	return nil, false, nil
}
