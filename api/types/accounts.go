package types

import "github.com/flashback-network/flashback/contract/core"

// Accounts, supply, params and access keys.

// AccessKey is the on-chain record of an S3 access key.
type AccessKey struct {
	ID           string    `json:"access_key_id"`
	Reservation  string    `json:"reservation"`
	Unit         string    `json:"unit"`
	Provider     string    `json:"provider"`
	Owner        string    `json:"owner"`
	Perm         string    `json:"perm"`
	SealedSecret []byte    `json:"sealed_secret"`
	CreatedAt    core.Time `json:"created_at"`
}

// AccessKeysPage is the "accesskeys" query result.
type AccessKeysPage struct {
	AccessKeys []AccessKey `json:"access_keys"`
	NextCursor string      `json:"next_cursor"`
}

// AccountView is the public JSON view of an account.
type AccountView struct {
	Address  string      `json:"address"`
	Balance  core.Amount `json:"balance"`
	Sequence uint64      `json:"sequence"`
}

// SupplyView reports total supply and the pools.
type SupplyView struct {
	Supply core.Amount            `json:"supply"`
	Pools  map[string]core.Amount `json:"pools"`
}

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
	// HoldEpochs is how long a unit-epoch without quorum stays held for
	// late reports before it is refunded.
	HoldEpochs int64 `json:"hold_epochs,omitempty"`
	// OutlierToleranceBps, OutlierK, OutlierWindow, OutlierSlash: a report
	// off the median by more than the tolerance (success ratio absolute,
	// p95 latency relative) in k of the last window epochs costs the
	// oracle outlier_slash.
	OutlierToleranceBps uint32      `json:"outlier_tolerance_bps,omitempty"`
	OutlierK            uint32      `json:"outlier_k,omitempty"`
	OutlierWindow       int64       `json:"outlier_window,omitempty"`
	OutlierSlash        core.Amount `json:"outlier_slash,omitempty"`

	// Disputes (issue 13). Zero means the default.
	// DisputeDeposit is the least deposit that opens a dispute.
	DisputeDeposit core.Amount `json:"dispute_deposit,omitempty"`
	// DisputeWindow is how long (seconds) oracles have for verdicts.
	DisputeWindow int64 `json:"dispute_window,omitempty"`
	// DisputeSlash is paid from the provider's stake to the consumer
	// when a dispute is upheld.
	DisputeSlash core.Amount `json:"dispute_slash,omitempty"`
}
