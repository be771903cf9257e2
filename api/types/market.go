package types

import "github.com/flashback-network/flashback/contract/core"

// The market views: providers, units, reservations, quotes and their pages.

// Cost is a price breakdown in uflash.
type Cost struct {
	Storage core.Amount `json:"storage"` // provider's storage revenue for the whole term
	Egress  core.Amount `json:"egress"`  // provider's egress revenue for the allowance
	Fee     core.Amount `json:"fee"`     // platform fee on both
	Total   core.Amount `json:"total"`   // what is escrowed
}

// Features are the storage features a unit offers.
type Features struct {
	Versioning       bool `json:"versioning"`
	EncryptionAtRest bool `json:"encryption_at_rest"`
	ObjectLock       bool `json:"object_lock"`
}

// MaintenanceWindow is an announced maintenance period (unix seconds).
type MaintenanceWindow struct {
	Start core.Time `json:"start"`
	End   core.Time `json:"end"`
}

// Provider is a storage provider, keyed by its owner address.
type Provider struct {
	Address      string           `json:"address"`
	Name         string           `json:"name"`
	Description  string           `json:"description"`
	Website      string           `json:"website"`
	Endpoint     string           `json:"bridge_endpoint"`
	BridgePubKey []byte           `json:"bridge_pub_key"`
	Stake        core.Amount      `json:"stake"`
	Unbonding    []UnbondingEntry `json:"unbonding"`
	LiveUnits    uint64           `json:"live_units"`
	Score        uint32           `json:"score"`
	Deregistered bool             `json:"deregistered"`
	RegisteredAt core.Time        `json:"registered_at"`
	UpdatedAt    core.Time        `json:"updated_at"`
}

// ProviderView is a provider with derived fields.
type ProviderView struct {
	Provider
	UnbondingTotal core.Amount `json:"unbonding_total"`
}

// ProvidersPage is the "providers" query result.
type ProvidersPage struct {
	Providers  []ProviderView `json:"providers"`
	NextCursor string         `json:"next_cursor"`
}

// QuoteItem is one unit that fits a quote request and what it would cost.
type QuoteItem struct {
	Unit         string      `json:"unit"`
	Provider     string      `json:"provider"`
	Kind         string      `json:"kind"`
	Region       string      `json:"region"`
	Country      string      `json:"country"`
	StoragePrice core.Amount `json:"storage_price"`
	EgressPrice  core.Amount `json:"egress_price"`
	Score        uint32      `json:"score"`
	FreeBytes    uint64      `json:"free_bytes"`
	Cost         Cost        `json:"cost"`
}

// QuotePage is the "quote" query result.
type QuotePage struct {
	Bytes  uint64      `json:"bytes"`
	Term   int64       `json:"term_seconds"`
	Egress uint64      `json:"egress_bytes"`
	Quotes []QuoteItem `json:"quotes"`
}

// Reservation is a consumer's prepaid, term-based deal on a unit.
type Reservation struct {
	ID           string      `json:"id"`
	Unit         string      `json:"unit"`
	Provider     string      `json:"provider"`
	Consumer     string      `json:"consumer"`
	Bytes        uint64      `json:"bytes"`
	Term         int64       `json:"term_seconds"`
	EgressBytes  uint64      `json:"egress_bytes"` // allowance
	EgressUsed   uint64      `json:"egress_used"`
	StoredBytes  uint64      `json:"stored_bytes"`
	IngressBytes uint64      `json:"ingress_bytes"`
	LastUsage    int64       `json:"last_usage_epoch"` // -1: none yet
	StoragePrice core.Amount `json:"storage_price"`
	EgressPrice  core.Amount `json:"egress_price"`
	FeeBps       uint32      `json:"fee_bps"`
	SLA          SLAOffer    `json:"sla"`
	Features     Features    `json:"features"`
	Status       string      `json:"status"`
	CreatedAt    core.Time   `json:"created_at"`
	AcceptBy     core.Time   `json:"accept_by,omitempty"` // pending: expires at
	Start        core.Time   `json:"start"`               // 0 while pending
	End          core.Time   `json:"end"`
	SettledTo    core.Time   `json:"settled_to"`
	Commitment   string      `json:"commitment_pbs"` // pbs the storage escrow covers
	PaidPBS      string      `json:"paid_pbs"`       // pbs settled so far
	StorageEsc   core.Amount `json:"storage_escrow"` // storage + its fee
	EgressEsc    core.Amount `json:"egress_escrow"`  // allowance cost
	EgressFeeEsc core.Amount `json:"egress_fee_escrow"`
	EgressPaid   core.Amount `json:"egress_paid"` // net, to the provider
	EgressFee    core.Amount `json:"egress_fee_paid"`
	StoragePaid  core.Amount `json:"storage_paid"` // charged at final settlement
	Escrowed     core.Amount `json:"escrowed"`     // everything the consumer put in
	Refunded     core.Amount `json:"refunded"`
	Compensation core.Amount `json:"compensation"`
	CompStart    int64       `json:"comp_start_epoch,omitempty"` // first epoch whose breaches it is compensated for (qos_comp.go)
	ClosedAt     core.Time   `json:"closed_at,omitempty"`
}

// ReservationView is a reservation with derived fields as of the last block.
type ReservationView struct {
	Reservation
	// Paid is storage (with fee) accrued so far plus egress paid (with fee).
	Paid            core.Amount `json:"paid"`
	RemainingEscrow core.Amount `json:"remaining_escrow"`
	// CompensationOwed is breach compensation earned and not yet paid
	// (qos/claim_compensation pays it; close and term end do too).
	CompensationOwed core.Amount `json:"compensation_owed"`
	AsOf             core.Time   `json:"as_of"`
}

// ReservationsPage is the "reservations" query result.
type ReservationsPage struct {
	Reservations []ReservationView `json:"reservations"`
	NextCursor   string            `json:"next_cursor"`
}

// SLAOffer is what a unit promises; reservations copy it at creation.
type SLAOffer struct {
	MaxP95LatencyMs uint32 `json:"max_p95_latency_ms"`
	MinUptimeBps    uint32 `json:"min_uptime_bps"`
	MinDownloadMbps uint32 `json:"min_download_mbps"`
	MinUploadMbps   uint32 `json:"min_upload_mbps"`
	MaxErrorRateBps uint32 `json:"max_error_rate_bps"`
	Durability      bool   `json:"durability"`
}

// Settlement is a unit's reward-index state. All "pbs" values are
// price-byte-seconds: storage price (uflash per GiB-month) x bytes x
// seconds; 1 uflash of provider revenue = GiB x MonthSeconds pbs.
type Settlement struct {
	SumRate      string      `json:"sum_rate"` // pbs per second of active reservations
	Accrued      string      `json:"accrued"`  // pbs accrued through AccruedTo
	AccruedTo    core.Time   `json:"accrued_to"`
	ClaimedNet   core.Amount `json:"claimed"`     // paid to the provider
	ClaimedFee   core.Amount `json:"claimed_fee"` // paid to the treasury
	BreachCount  uint64      `json:"breach_count"`
	EgressEarned core.Amount `json:"egress_earned"`
}

// UnbondingEntry is stake on its way back to the provider; it stays
// slashable until released.
type UnbondingEntry struct {
	Amount    core.Amount `json:"amount"`
	ReleaseAt core.Time   `json:"release_at"`
	Seq       uint64      `json:"seq"`
}

// Unit is a data unit.
type Unit struct {
	ID               string             `json:"id"`
	Provider         string             `json:"provider"`
	Kind             string             `json:"kind"`
	Region           string             `json:"region"`
	Country          string             `json:"country"`
	Capacity         uint64             `json:"capacity_bytes"`
	Reserved         uint64             `json:"reserved_bytes"`
	Used             uint64             `json:"used_bytes"`
	StoragePrice     core.Amount        `json:"storage_price"` // uflash per GiB-month
	EgressPrice      core.Amount        `json:"egress_price"`  // uflash per GiB
	SLA              SLAOffer           `json:"sla"`
	Features         Features           `json:"features"`
	AutoAccept       bool               `json:"auto_accept"`
	Status           string             `json:"status"`
	Maintenance      *MaintenanceWindow `json:"maintenance,omitempty"`
	Score            uint32             `json:"score"`
	FeeBps           uint32             `json:"fee_bps"`
	LiveReservations uint64             `json:"live_reservations"`
	CreatedAt        core.Time          `json:"created_at"`
	UpdatedAt        core.Time          `json:"updated_at"`
	Settlement       Settlement         `json:"settlement"`
}

// UnitView is a unit with derived fields.
type UnitView struct {
	Unit
	FreeBytes uint64      `json:"free_bytes"`
	Claimable core.Amount `json:"claimable"`
	// TakesReservations is false while the unit is not available or its
	// provider is under min_unit_stake per live unit (reserve refuses).
	TakesReservations bool `json:"takes_reservations"`
}

// UnitsPage is the "units" query result.
type UnitsPage struct {
	Units      []UnitView `json:"units"`
	NextCursor string     `json:"next_cursor"`
}
