package types

import "github.com/flashback-network/flashback/contract/core"

// DisputeSeat is one oracle of a dispute's panel and its verdict.
type DisputeSeat struct {
	Oracle string `json:"oracle"`
	// SealedSecret is the dispute read key's secret sealed to the oracle's
	// seal key (empty when the dispute has no read key).
	SealedSecret []byte    `json:"sealed_secret,omitempty"`
	Verdict      string    `json:"verdict"` // "" until given
	Observed     string    `json:"observed"`
	At           core.Time `json:"at"`
}

// Dispute is the REST view of a dispute.
type Dispute struct {
	ID          string      `json:"id"`
	Reservation string      `json:"reservation"`
	Unit        string      `json:"unit"`
	Provider    string      `json:"provider"`
	Consumer    string      `json:"consumer"`
	Kind        string      `json:"kind"`
	Status      string      `json:"status"`
	Deposit     core.Amount `json:"deposit"`
	OpenedAt    core.Time   `json:"opened_at"`
	Deadline    core.Time   `json:"deadline"`
	Epoch       int64       `json:"epoch"`
	// data_loss
	Receipt     string  `json:"receipt,omitempty"`
	Key         string  `json:"key,omitempty"`
	Size        int64   `json:"size,omitempty"`
	ContentHash string  `json:"content_hash,omitempty"` // hex
	PartSizes   []int64 `json:"part_sizes,omitempty"`
	// unavailable
	Epochs []int64 `json:"epochs,omitempty"`
	// egress
	EgressEpoch    int64         `json:"egress_epoch,omitempty"`
	ClaimedEgress  uint64        `json:"claimed_egress,omitempty"`
	ReportedEgress uint64        `json:"reported_egress,omitempty"`
	AccessKeyID    string        `json:"access_key_id,omitempty"`
	Panel          []DisputeSeat `json:"panel"`
	VerdictsGiven  uint32        `json:"verdicts_given"`
	Slashed        core.Amount   `json:"slashed"`
	EgressRefund   core.Amount   `json:"egress_refund"`
	EpochRefund    core.Amount   `json:"epoch_refund"`
	DepositTo      string        `json:"deposit_to,omitempty"`
	ClosedAt       core.Time     `json:"closed_at"`
}

// DisputesPage is one page of GET /v1/disputes.
type DisputesPage struct {
	Disputes   []Dispute `json:"disputes"`
	NextCursor string    `json:"next_cursor"`
}

// DisputeConsumerCounts are a consumer's disputes.
type DisputeConsumerCounts struct {
	Opened    uint64 `json:"opened"`
	Open      uint64 `json:"open"`
	Upheld    uint64 `json:"upheld"`
	Rejected  uint64 `json:"rejected"`
	Undecided uint64 `json:"undecided"`
}

// DisputeProviderCounts are the disputes against a provider.
type DisputeProviderCounts struct {
	Against   uint64 `json:"against"`
	Open      uint64 `json:"open"`
	Upheld    uint64 `json:"upheld"`
	Rejected  uint64 `json:"rejected"`
	Undecided uint64 `json:"undecided"`
}

// DisputeAccount is GET /v1/disputes/accounts/{address}: both sides'
// dispute counts of an account and, for an oracle, its seal key.
type DisputeAccount struct {
	Address  string                `json:"address"`
	Consumer DisputeConsumerCounts `json:"consumer"`
	Provider DisputeProviderCounts `json:"provider"`
	SealKey  []byte                `json:"seal_key,omitempty"`
}

// DisputePanelOracle is an oracle a new dispute on a reservation would
// have on its panel, with the seal key to seal the read key's secret to.
type DisputePanelOracle struct {
	Oracle  string `json:"oracle"`
	SealKey []byte `json:"seal_key"`
}

// DisputePanel is GET /v1/disputes/panel?reservation=: who would hear a
// dispute opened now.
type DisputePanel struct {
	Reservation string               `json:"reservation"`
	Unit        string               `json:"unit"`
	Epoch       int64                `json:"epoch"`
	Oracles     []DisputePanelOracle `json:"oracles"`
}

// DisputeStats are the network's dispute totals.
type DisputeStats struct {
	Opened            uint64      `json:"opened"`
	Upheld            uint64      `json:"upheld"`
	Rejected          uint64      `json:"rejected"`
	Undecided         uint64      `json:"undecided"`
	Verdicts          uint64      `json:"verdicts"`
	Slashed           core.Amount `json:"slashed"`
	EgressRefunded    core.Amount `json:"egress_refunded"`
	DepositsToOracles core.Amount `json:"deposits_to_oracles"`
	EpochsRefunded    core.Amount `json:"epochs_refunded"`
}

// DisputeUnitPolicy is a unit's dispute policy.
type DisputeUnitPolicy struct {
	Unit                string `json:"unit"`
	MaxConsumerDisputes uint64 `json:"max_consumer_disputes"`
}
