package types

import "github.com/flashback-network/flashback/contract/core"

// StatementLine is one epoch of a reservation's statement. Amounts are
// uflash as charged to the consumer; each is the difference of rounded
// cumulative totals at the epoch's boundaries, so the lines of a
// reservation's whole life sum exactly to the statement's totals.
type StatementLine struct {
	Epoch       int64       `json:"epoch"`
	From        core.Time   `json:"from"` // start of the billed part of the epoch
	To          core.Time   `json:"to"`   // end (exclusive)
	Breached    bool        `json:"breached"`
	StoragePaid core.Amount `json:"storage_paid"` // provider revenue + fee
	Fee         core.Amount `json:"fee"`          // platform fee part of storage_paid
	Refund      core.Amount `json:"refund"`       // storage not charged (breached time)
}

// StatementTotals reconciles with the reservation: escrowed = paid +
// refunded + escrow_left, and paid = storage_paid + egress_paid +
// egress_fee. Compensation is paid from the provider's slashed stake, not
// from the escrow; total_received = paid + refunded + compensation +
// escrow_left (= escrowed + compensation).
type StatementTotals struct {
	StoragePaid      core.Amount `json:"storage_paid"`
	Fee              core.Amount `json:"fee"`
	Refund           core.Amount `json:"refund"` // storage not charged for breached time (sum of lines)
	EgressPaid       core.Amount `json:"egress_paid"`
	EgressFee        core.Amount `json:"egress_fee"`
	Paid             core.Amount `json:"paid"`
	Refunded         core.Amount `json:"refunded"` // returned to the consumer so far (at close or shrink)
	Compensation     core.Amount `json:"compensation"`
	CompensationOwed core.Amount `json:"compensation_owed"`
	EscrowLeft       core.Amount `json:"escrow_left"`
	Escrowed         core.Amount `json:"escrowed"`
	Total            core.Amount `json:"total"` // paid + refunded + compensation + escrow_left
}

// Statement is a page of a reservation's per-epoch statement.
type Statement struct {
	Reservation string          `json:"reservation"`
	Status      string          `json:"status"`
	AsOf        core.Time       `json:"as_of"`
	Start       core.Time       `json:"start"`
	Through     core.Time       `json:"through"` // min(as_of, end or closed_at)
	FirstEpoch  int64           `json:"first_epoch"`
	LastEpoch   int64           `json:"last_epoch"`
	Lines       []StatementLine `json:"lines"`
	NextFrom    int64           `json:"next_from,omitempty"` // from= of the next page; 0 at the end
	Totals      StatementTotals `json:"totals"`
	Notes       []string        `json:"notes"`
}

// ProviderStatementLine is one epoch of a provider's statement: the sums
// of its reservations' statement lines for the epoch.
type ProviderStatementLine struct {
	Epoch       int64       `json:"epoch"`
	StoragePaid core.Amount `json:"storage_paid"` // charged to consumers: revenue + fee
	Fee         core.Amount `json:"fee"`
	Revenue     core.Amount `json:"revenue"` // storage_paid - fee
}

// ProviderStatementTotals: storage_paid, fee and revenue are the sums of
// all epochs of all the provider's reservations; claimed and claimable are
// what the units actually paid out and can pay (floors of each unit's
// total, final epochs only), so claimed + claimable <= revenue.
type ProviderStatementTotals struct {
	StoragePaid core.Amount `json:"storage_paid"`
	Fee         core.Amount `json:"fee"`
	Revenue     core.Amount `json:"revenue"`
	EgressPaid  core.Amount `json:"egress_paid"`
	EgressFee   core.Amount `json:"egress_fee"`
	Claimed     core.Amount `json:"claimed"`
	ClaimedFee  core.Amount `json:"claimed_fee"`
	Claimable   core.Amount `json:"claimable"`
}

// ProviderStatement is a page of a provider's per-epoch revenue statement.
type ProviderStatement struct {
	Provider     string                  `json:"provider"`
	AsOf         core.Time               `json:"as_of"`
	Reservations int                     `json:"reservations"`
	FirstEpoch   int64                   `json:"first_epoch"`
	LastEpoch    int64                   `json:"last_epoch"`
	Lines        []ProviderStatementLine `json:"lines"`
	NextFrom     int64                   `json:"next_from,omitempty"`
	Totals       ProviderStatementTotals `json:"totals"`
	Notes        []string                `json:"notes"`
}
