package types

import "github.com/flashback-network/flashback/contract/core"

// The QoS views: network and epoch stats, per-unit QoS, scores and oracles.

// EpochQoSCounts are one epoch's unit outcomes.
type EpochQoSCounts struct {
	Reported    uint64 `json:"units_reported"`
	Compliant   uint64 `json:"compliant"`
	Breached    uint64 `json:"breached"`
	NoQuorum    uint64 `json:"no_quorum"`
	Maintenance uint64 `json:"maintenance"`
}

// EpochStats is the network at the end of an epoch (written at the first
// block after it) and the QoS outcome of its units (added when its reports
// are processed, one or two epochs later).
type EpochStats struct {
	Epoch int64     `json:"epoch"`
	Time  core.Time `json:"time"` // block time of the snapshot; zero (null in JSON) if none was taken
	NetworkStats
	Escrowed    core.Amount    `json:"escrowed"`
	Staked      core.Amount    `json:"staked"`
	RewardsPool core.Amount    `json:"rewards_pool"`
	Treasury    core.Amount    `json:"treasury"`
	QoS         EpochQoSCounts `json:"qos"`
}

// EpochStatsPage is the "stats/epochs" query result.
type EpochStatsPage struct {
	From   int64        `json:"from"`
	To     int64        `json:"to"`
	Epochs []EpochStats `json:"epochs"`
}

// NetworkStats are the network totals.
type NetworkStats struct {
	Providers         uint64      `json:"providers"`
	Units             uint64      `json:"units"`                  // not deleted
	CapacityOffered   uint64      `json:"capacity_offered_bytes"` // of units not deleted
	CapacityReserved  uint64      `json:"capacity_reserved_bytes"`
	CapacityUsed      uint64      `json:"capacity_used_bytes"`
	LiveReservations  uint64      `json:"live_reservations"` // pending or active
	Oracles           uint64      `json:"oracles"`
	Paid              core.Amount `json:"paid"`               // to providers, storage and egress
	Fees              core.Amount `json:"fees"`               // platform fees to the treasury
	Slashed           core.Amount `json:"slashed"`            // SLA breach slashes
	Compensation      core.Amount `json:"compensation"`       // of which to consumers
	OracleRewards     core.Amount `json:"oracle_rewards"`     // slash shares and fee shares
	Rewarded          core.Amount `json:"rewarded"`           // reputation rewards
	ReputationSlashed core.Amount `json:"reputation_slashed"` // reputation slashing
	HeldEpochs        uint64      `json:"held_epochs"`        // unit-epochs held for want of a quorum
	HoldsResolved     uint64      `json:"holds_resolved"`     // of which judged on late reports
	HoldsExpired      uint64      `json:"holds_expired"`      // of which refunded at expiry
	OutlierSlashed    core.Amount `json:"outlier_slashed"`    // oracle bond taken for outlier reports
}

// Oracle is a bonded QoS reporter.
type Oracle struct {
	Address       string           `json:"address"`
	Stake         core.Amount      `json:"stake"`
	Unbonding     []UnbondingEntry `json:"unbonding"`
	Active        bool             `json:"active"`
	RegisteredAt  core.Time        `json:"registered_at"`
	UpdatedAt     core.Time        `json:"updated_at"`
	Reports       uint64           `json:"reports"`
	UnitsReported uint64           `json:"units_reported"`
	InMedian      uint64           `json:"in_median"` // unit reports that entered the median
	Outliers      uint64           `json:"outliers"`  // unit reports far from the median
	LastEpoch     int64            `json:"last_epoch"`
	Rewards       core.Amount      `json:"rewards"`   // oracle rewards received
	Missed        uint64           `json:"missed"`    // assigned unit-epochs not reported
	Penalized     core.Amount      `json:"penalized"` // bond taken for them
	MissEpochs    []int64          `json:"miss_epochs,omitempty"`
	Jailed        bool             `json:"jailed"`
	JailedUntil   int64            `json:"jailed_until_epoch"`
	// Outlier slashing: far epochs in the current window, bond taken.
	FarEpochs      []int64     `json:"far_epochs,omitempty"`
	OutlierSlashed core.Amount `json:"outlier_slashed"`
}

// OracleAssignments is the "oracles/{addr}/assignments" query result: one
// page of the units the oracle is assigned to in an epoch. Fixed is false
// when the epoch assigns none (no block in it, or no eligible oracle at
// its first block): then every active oracle but a unit's owner and its
// related accounts may report it.
type OracleAssignments struct {
	Oracle     string   `json:"oracle"`
	Epoch      int64    `json:"epoch"`
	Fixed      bool     `json:"fixed"`
	Units      []string `json:"units"`
	NextCursor string   `json:"next_cursor"`
}

// UnitOracles is the "units/{id}/oracles" query result: the oracles
// assigned to a unit in an epoch, in assignment order.
type UnitOracles struct {
	Unit    string   `json:"unit"`
	Epoch   int64    `json:"epoch"`
	Fixed   bool     `json:"fixed"`
	Oracles []string `json:"oracles"`
}

// OracleView is an oracle with derived fields.
type OracleView struct {
	Oracle
	UnbondingTotal core.Amount `json:"unbonding_total"`
}

// OraclesPage is the "oracles" query result.
type OraclesPage struct {
	Oracles    []OracleView `json:"oracles"`
	NextCursor string       `json:"next_cursor"`
}

// ProviderScoreView is the "providers/{addr}/score" query result.
type ProviderScoreView struct {
	Provider string          `json:"provider"`
	Score    uint32          `json:"score"`
	Units    uint64          `json:"units"`
	ScoreSum uint64          `json:"score_sum"`
	PerUnit  []UnitScoreItem `json:"unit_scores"` // first 100 units
}

// StatsView is the "stats" query result.
type StatsView struct {
	NetworkStats
	Escrowed         core.Amount `json:"escrowed"`
	Staked           core.Amount `json:"staked"`
	RewardsPool      core.Amount `json:"rewards_pool"`
	Treasury         core.Amount `json:"treasury"`
	CompensationPool core.Amount `json:"compensation_pool"`
	ActiveOracles    uint64      `json:"active_oracles"`
	Epoch            int64       `json:"epoch"`    // current epoch
	Frontier         int64       `json:"frontier"` // last epoch whose QoS is final
	AsOf             core.Time   `json:"as_of"`
}

// UnitEpochQoS is one unit's QoS outcome in one epoch.
type UnitEpochQoS struct {
	Epoch           int64       `json:"epoch"`
	Status          string      `json:"status"`
	Reporters       int         `json:"reporters"`
	Quorum          uint64      `json:"quorum"`
	Probes          uint32      `json:"probes"`
	Successes       uint32      `json:"successes"`
	P50Ms           uint32      `json:"p50_ms"`
	P95Ms           uint32      `json:"p95_ms"`
	DownMbps        uint32      `json:"down_mbps"`
	UpMbps          uint32      `json:"up_mbps"`
	IntegrityPassed uint32      `json:"integrity_passed"`
	IntegrityFailed uint32      `json:"integrity_failed"`
	UptimeBps       uint32      `json:"uptime_bps"` // over the rolling window
	ErrorRateBps    uint32      `json:"error_rate_bps"`
	Terms           []string    `json:"breached_terms,omitempty"`
	Unenforced      bool        `json:"unenforced,omitempty"` // too old for the settlement to refund
	Slashed         core.Amount `json:"slashed"`
	Compensation    core.Amount `json:"compensation"`
	OracleShare     core.Amount `json:"oracle_share"`
	Score           uint32      `json:"score"`
}

// UnitMeasurement is one oracle's measurement of one unit in one epoch.
type UnitMeasurement struct {
	Unit            string `json:"unit"`
	Probes          uint32 `json:"probes"`
	Successes       uint32 `json:"successes"`
	P50Ms           uint32 `json:"p50_ms"`
	P95Ms           uint32 `json:"p95_ms"`
	DownMbps        uint32 `json:"down_mbps"`
	UpMbps          uint32 `json:"up_mbps"`
	IntegrityPassed uint32 `json:"integrity_passed"`
	IntegrityFailed uint32 `json:"integrity_failed"`
}

// UnitQoS is a unit's QoS state: score, rolling uptime window, scoring
// period accumulators, sub-metrics, compensation base and maintenance log.
type UnitQoS struct {
	ScoreMilli int64         `json:"score_milli"` // 0..100000, the unit's score is its rounding
	Window     []UptimeEntry `json:"window,omitempty"`
	// Scoring period accumulators (Period = -1: none).
	Period       int64  `json:"period"`
	PEpochs      uint32 `json:"p_epochs"`
	PBeat        uint32 `json:"p_beat"`
	PUnreachable bool   `json:"p_unreachable,omitempty"`
	PBreached    bool   `json:"p_breached,omitempty"`
	PWorse       bool   `json:"p_worse,omitempty"`
	LastScored   int64  `json:"last_scored_period"`
	LastDelta    int64  `json:"last_delta"`
	// Sub-metrics.
	Judged       uint64      `json:"epochs_judged"`
	Compliant    uint64      `json:"epochs_compliant"`
	Breached     uint64      `json:"epochs_breached"`
	NoQuorum     uint64      `json:"epochs_no_quorum"`
	Maintenance  uint64      `json:"epochs_maintenance"`
	LastEpoch    int64       `json:"last_epoch"`
	HistLast     int64       `json:"hist_last"` // latest history entry, -1 none
	UptimeBps    uint32      `json:"uptime_bps"`
	P95Ms        uint32      `json:"p95_ms"`
	DownMbps     uint32      `json:"down_mbps"`
	UpMbps       uint32      `json:"up_mbps"`
	ErrorRateBps uint32      `json:"error_rate_bps"`
	Slashed      core.Amount `json:"slashed"`
	Compensation core.Amount `json:"compensation"`
	Rewarded     core.Amount `json:"rewarded"`
	RepSlashed   core.Amount `json:"reputation_slashed"`
	Suspended    bool        `json:"suspended"`
	// Compensation base (qos_comp.go).
	CompIndex string          `json:"comp_index"`
	CompBytes uint64          `json:"comp_bytes"`
	CompRing  []CompRingEntry `json:"comp_ring,omitempty"`
	Maint     []MaintLog      `json:"maintenance_log,omitempty"`
	// Strict holds the strictest terms the unit offered while it had live
	// reservations, until StrictUntil (by when every reservation made
	// under them has ended): the unit is judged by the strictest of these
	// and its current offer, so relaxing the SLA cannot dodge breaches on
	// reservations that copied the old terms.
	Strict      *SLAOffer `json:"strict_sla,omitempty"`
	StrictUntil core.Time `json:"strict_until,omitempty"`
	// Held epochs: how many, the current run of consecutive ones and its
	// last epoch, and whether the run exceeds hold_epochs.
	Held        uint64 `json:"epochs_held"`
	HeldRun     uint64 `json:"held_run"`
	HeldLast    int64  `json:"held_last"`
	HoldTooLong bool   `json:"hold_too_long"`
}

// UnitQoSView is the "units/{id}/qos" query result.
type UnitQoSView struct {
	Unit     string   `json:"unit"`
	Provider string   `json:"provider"`
	Status   string   `json:"status"`
	Score    uint32   `json:"score"`
	SLA      SLAOffer `json:"sla"`
	UnitQoS
	// ComplianceBps is compliant / (compliant + breached) epochs.
	ComplianceBps uint32         `json:"compliance_bps"`
	AgeSeconds    int64          `json:"age_seconds"`
	From          int64          `json:"from"`
	To            int64          `json:"to"`
	History       []UnitEpochQoS `json:"history"`
}

// UnitScoreItem is one unit's score in a ProviderScoreView.
type UnitScoreItem struct {
	Unit      string `json:"unit"`
	Score     uint32 `json:"score"`
	Status    string `json:"status"`
	Suspended bool   `json:"suspended"`
}

type CompRingEntry struct {
	Epoch int64  `json:"epoch"`
	Bytes uint64 `json:"bytes"`
}

// MaintLog is an announced maintenance window and when it was announced.
type MaintLog struct {
	Start       core.Time `json:"start"`
	End         core.Time `json:"end"`
	AnnouncedAt core.Time `json:"announced_at"`
}

type UptimeEntry struct {
	Epoch     int64  `json:"epoch"`
	Probes    uint64 `json:"probes"`
	Successes uint64 `json:"successes"`
}
