// Package dispute is the dispute module (issue 13): a consumer disputes its
// reservation with a deposit, the oracles assigned to the reservation's unit
// re-check it through a temporary read key and give verdicts, and a majority
// decides who pays.
//
// Kinds:
//
//   - data_loss: the consumer shows a receipt the provider's bridge signed
//     for an object (verified here against the reservation and the
//     provider's key); the oracles fetch the object with the dispute's read
//     key and compare its content hash with the receipt's.
//   - unavailable: epochs the consumer says it could not reach its data
//     (at most MaxEpochs); the oracles probe the unit.
//   - egress: the consumer's own egress count for an epoch, lower than the
//     provider's usage report; when the oracles cannot tell it is settled
//     at the lower figure.
//
// The read key: the consumer makes a fresh key pair off chain and puts in
// the open message its id, the secret sealed to the provider's bridge key
// (so the bridge serves it, read only, for that reservation only: it is an
// ordinary access key record made through the access key module) and the
// same secret sealed to each assigned oracle's X25519 seal key (registered
// here with dispute/seal_key). The key is dropped when the dispute closes.
//
// Outcomes (decided at the first verdict that makes a majority of the panel,
// else at the deadline, through a queue keyed by deadline):
//
//   - upheld: dispute_slash from the provider's stake to the consumer, the
//     deposit back, the unit's score down by ScorePenalty; an egress
//     dispute is also settled at the lower figure;
//   - rejected: the deposit is shared by the oracles that gave a verdict;
//   - undecided (no majority, or no verdicts): the deposit back; an egress
//     dispute is settled at the lower figure.
//
// State (keys under "d/"; numbers 8-byte big endian, addresses raw):
//
//	d/seq                  next dispute number
//	d/d/{n}                Dispute
//	d/r/{res}{n}           by reservation
//	d/c/{consumer}{n}      by consumer
//	d/p/{provider}{n}      by provider
//	d/q/{deadline}{n}      open disputes by deadline
//	d/or/{res}             open disputes of a reservation (count)
//	d/cc/{consumer}        ConsumerCounts
//	d/pc/{provider}        ProviderCounts
//	d/sk/{oracle}          seal key (32 bytes X25519)
//	d/up/{unit}            unit policy: max_consumer_disputes (8 bytes)
//	d/stats                Stats
package dispute

// The records are stored in the binary codec (codec_*.go, generated).
//go:generate go run ../store/recordgen -out codec.go -addr Dispute.Provider,Dispute.Consumer,Seat.Oracle -id Dispute.ID=dsp-,Dispute.Reservation=res-,Dispute.Unit=unit- Seat Dispute ConsumerCounts ProviderCounts Stats

import (
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/store"
)

// Kinds of dispute.
const (
	KindDataLoss    = "data_loss"
	KindUnavailable = "unavailable"
	KindEgress      = "egress"
)

// Statuses of a dispute.
const (
	StatusOpen      = "open"
	StatusUpheld    = "upheld"
	StatusRejected  = "rejected"
	StatusUndecided = "undecided"
)

// Verdicts an oracle gives.
const (
	VerdictUpheld     = "upheld"
	VerdictRejected   = "rejected"
	VerdictCannotTell = "cannot_tell"
)

// Limits.
const (
	// MaxEpochs bounds the epochs of one unavailable dispute.
	MaxEpochs = 24
	// MaxOpenPerReservation bounds a reservation's open disputes.
	MaxOpenPerReservation = 4
	// MaxPanel bounds the oracles of one dispute.
	MaxPanel = 16
	// MaxObserved bounds what an oracle says it saw.
	MaxObserved = 256
	// ScorePenalty is how many points an upheld dispute takes from the
	// unit's score.
	ScorePenalty = 10
	// MaxDecidedPerBlock bounds the deadlines one block decides; the rest
	// wait for the next blocks, in deadline order.
	MaxDecidedPerBlock = 200
)

// PoolDispute holds the deposits of open disputes.
const PoolDispute = "dispute"

var (
	keySeq       = []byte("d/seq")
	keyDispute   = []byte("d/d/")
	keyByRes     = []byte("d/r/")
	keyByCons    = []byte("d/c/")
	keyByProv    = []byte("d/p/")
	keyQueue     = []byte("d/q/")
	keyOpenRes   = []byte("d/or/")
	keyConsCount = []byte("d/cc/")
	keyProvCount = []byte("d/pc/")
	keySealKey   = []byte("d/sk/")
	keyUnitPol   = []byte("d/up/")
	keyStats     = []byte("d/stats")
)

// Seat is one oracle of a dispute's panel: the read key's secret sealed to
// its seal key, and its verdict once given.
type Seat struct {
	Oracle       string    `json:"oracle"`
	SealedSecret []byte    `json:"sealed_secret"`
	Verdict      string    `json:"verdict"`
	Observed     string    `json:"observed"`
	At           core.Time `json:"at"`
}

// Dispute is the record of one dispute.
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
	// Epoch is the epoch whose assignment drew the panel.
	Epoch int64 `json:"epoch"`
	// data_loss: the receipt (its wire form) and what it certifies.
	Receipt     string  `json:"receipt"`
	Key         string  `json:"key"`
	Size        int64   `json:"size"`
	ContentHash []byte  `json:"content_hash"`
	PartSizes   []int64 `json:"part_sizes"`
	// unavailable: the epochs.
	Epochs []int64 `json:"epochs"`
	// egress: the epoch, the consumer's figure and the report's.
	EgressEpoch    int64  `json:"egress_epoch"`
	ClaimedEgress  uint64 `json:"claimed_egress"`
	ReportedEgress uint64 `json:"reported_egress"`
	EgressBefore   uint64 `json:"egress_before"`
	// AccessKeyID is the dispute's read key ("" when none was given).
	AccessKeyID string `json:"access_key_id"`
	Panel       []Seat `json:"panel"`
	// Outcome.
	Slashed       core.Amount `json:"slashed"`
	EgressRefund  core.Amount `json:"egress_refund"`
	DepositTo     string      `json:"deposit_to"` // "consumer" or "oracles"
	ClosedAt      core.Time   `json:"closed_at"`
	VerdictsGiven uint32      `json:"verdicts_given"`
	// EpochRefund is what an upheld unavailable dispute refunded.
	EpochRefund core.Amount `json:"epoch_refund"`
}

// ConsumerCounts are a consumer's disputes, public so that providers can
// refuse serial disputers.
type ConsumerCounts struct {
	Opened    uint64 `json:"opened"`
	Open      uint64 `json:"open"`
	Upheld    uint64 `json:"upheld"`
	Rejected  uint64 `json:"rejected"`
	Undecided uint64 `json:"undecided"`
}

// ProviderCounts are the disputes against a provider.
type ProviderCounts struct {
	Against   uint64 `json:"against"`
	Open      uint64 `json:"open"`
	Upheld    uint64 `json:"upheld"`
	Rejected  uint64 `json:"rejected"`
	Undecided uint64 `json:"undecided"`
}

// Stats are the network's dispute totals (saturating counters).
type Stats struct {
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

// Oracles is what the module asks of the QoS module (an adapter in the app
// implements it over package qos).
type Oracles interface {
	// Assigned are the oracles assigned to unit n in epoch e (fixed false:
	// the epoch assigns none).
	Assigned(kv store.KV, e int64, unitN uint64) (addrs []string, fixed bool, err error)
	// Active reports whether raw is a registered, active, unjailed oracle.
	Active(kv store.KV, raw []byte) bool
}

// Market is what the module asks of the market keeper.
type Market interface {
	SetProvider(kv store.KV, owner []byte, p *market.Provider)
	// SetProviderNoting is SetProvider after a slash: it emits the stake
	// rule's events when the provider falls under min_unit_stake.
	SetProviderNoting(ctx *core.Context, owner []byte, p *market.Provider)
}

// Scores lowers a unit's score (the QoS keeper).
type Scores interface {
	LowerScore(ctx *core.Context, unitID string, points int64) (uint32, error)
}

// Keys makes and drops the dispute's read key (the access key module).
type Keys interface {
	PutReadKey(ctx *core.Context, resID, id string, sealedSecret []byte) error
	DropKey(ctx *core.Context, id string)
}

// Keeper is the dispute module with the modules it uses.
type Keeper struct {
	oracles Oracles
	market  Market
	keys    Keys
	scores  Scores
}

// NewKeeper returns the module over its expected interfaces.
func NewKeeper(o Oracles, m Market, k Keys, s Scores) *Keeper {
	return &Keeper{oracles: o, market: m, keys: k, scores: s}
}

// Routes are the dispute message types and their handlers.
func (k *Keeper) Routes() []core.Route {
	return []core.Route{
		core.NewRoute(market.NotWhileSettling(k.handleOpen)),
		core.NewRoute(market.NotWhileSettling(k.handleVerdict)),
		core.NewRoute(k.handleSealKey),
		core.NewRoute(k.handleUnitPolicy),
	}
}

func disputeKey(n uint64) []byte { return store.Key(keyDispute, store.EncodeUint64(n)) }

// Get reads dispute n.
func Get(kv store.KV, n uint64) (*Dispute, bool) {
	var d Dispute
	if !store.Get(kv, disputeKey(n), &d) {
		return nil, false
	}
	return &d, true
}

func set(kv store.KV, n uint64, d *Dispute) { store.Set(kv, disputeKey(n), d) }

func queueKey(deadline int64, n uint64) []byte {
	return store.Key(keyQueue, store.EncodeUint64(uint64(deadline)), store.EncodeUint64(n))
}

// SealKey is an oracle's registered X25519 seal key (nil: none).
func SealKey(kv store.KV, raw []byte) []byte { return kv.Get(store.Key(keySealKey, raw)) }

func getConsumerCounts(kv store.KV, raw []byte) ConsumerCounts {
	var c ConsumerCounts
	store.Get(kv, store.Key(keyConsCount, raw), &c)
	return c
}

func getProviderCounts(kv store.KV, raw []byte) ProviderCounts {
	var c ProviderCounts
	store.Get(kv, store.Key(keyProvCount, raw), &c)
	return c
}

func getStats(kv store.KV) Stats {
	var s Stats
	store.Get(kv, keyStats, &s)
	return s
}

// inc is a saturating counter step.
func inc(v *uint64) {
	if *v < ^uint64(0) {
		*v++
	}
}

// addSat adds a to *v, saturating (stats only; money moves are checked).
func addSat(v *core.Amount, a core.Amount) {
	if s, err := core.Add(*v, a); err == nil {
		*v = s
	} else {
		*v = core.MaxAmount
	}
}
