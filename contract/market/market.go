// Package market is the market module: providers, data units, reservations, escrow and settlement.
//
// State layout (all keys under "m/"; numeric ids are 8-byte big endian so
// that key order is id order; addresses are the 20 raw bytes):
//
//	m/seq/unit, m/seq/res, m/seq/unbond   next id counters
//	m/p/{owner}                           provider record
//	m/pu/{owner}{unit}                    a provider's units
//	m/u/{unit}                            unit record
//	m/ux/p/{price}{unit}                  price index of listed (not deleted) units
//	m/ux/s/{255-score}{unit}              score index of listed units (best first)
//	m/r/{res}                             reservation record
//	m/rc/{consumer}{res}                  reservations by consumer
//	m/rp/{owner}{res}                     reservations by provider
//	m/ru/{unit}{res}                      reservations by unit
//	m/br/{unit}{epoch}                    breached epoch -> breaches before it (8 bytes)
//	m/qe/{time}{res}                      term-end queue (active reservations)
//	m/qa/{time}{res}                      accept-timeout queue (pending reservations)
//	m/qb/{time}{owner}{seq}               unbonding queue
//	m/dust                                settlement rounding dust (nano-units, decimal)
package market

// The records are stored in the binary codec (codec_*.go, generated).
//go:generate go run ../store/recordgen -out codec.go -addr Provider.Address,Unit.Provider,Reservation.Provider,Reservation.Consumer -id Unit.ID=unit-,Reservation.ID=res-,Reservation.Unit=unit- UnbondingEntry Provider SLAOffer Features MaintenanceWindow ringEntry Settlement Unit Reservation

import (
	"math/big"
	"slices"

	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/params"
	"github.com/flashback-network/flashback/contract/store"
)

// Sizes and durations the prices are quoted in.
const (
	GiB          = uint64(1) << 30
	MonthSeconds = int64(2_592_000) // 30 days
	BpsDenom     = 10_000
)

// UnitKinds lists the accepted unit kinds.
func UnitKinds() []string { return []string{"s3", "azure-blob", "gcs", "local", "function"} }

// isUnitKind reports whether k is an accepted unit kind.
func isUnitKind(k string) bool { return slices.Contains(UnitKinds(), k) }

// Unit statuses.
const (
	UnitAvailable       = "available"
	UnitMaintenance     = "maintenance"
	UnitDecommissioning = "decommissioning"
	UnitDeleted         = "deleted"
)

// Reservation statuses.
const (
	ResPending   = "pending"
	ResActive    = "active"
	ResCompleted = "completed"
	ResCancelled = "cancelled"
	ResRejected  = "rejected"
	ResExpired   = "expired"
)

// DefaultScore is every unit's score until the QoS module moves it.
const DefaultScore = 50

var (
	keyMkt          = []byte("m/")
	KeySeqUnit      = []byte("m/seq/unit")
	KeySeqRes       = []byte("m/seq/res")
	keySeqUnbond    = []byte("m/seq/unbond")
	KeyProvider     = []byte("m/p/")
	KeyProvUnits    = []byte("m/pu/")
	KeyUnit         = []byte("m/u/")
	keyUnitPriceIdx = []byte("m/ux/p/")
	keyUnitScoreIdx = []byte("m/ux/s/")
	KeyRes          = []byte("m/r/")
	keyResConsumer  = []byte("m/rc/")
	keyResProvider  = []byte("m/rp/")
	keyResUnit      = []byte("m/ru/")
	keyBreach       = []byte("m/br/")
	keyQueueEnd     = []byte("m/qe/")
	keyQueueAccept  = []byte("m/qa/")
	keyQueueUnbond  = []byte("m/qb/")
	keyDust         = []byte("m/dust")
	keyMktNow       = []byte("m/now")
	keyEndBacklog   = []byte("m/qe-backlog")
)

// ---- params ----

// Params are the market tunables with defaults substituted for
// values that would be meaningless at zero (an older genesis leaves them 0).
type Params struct {
	Epoch        int64
	FeeBps       uint32
	MinUnitStake core.Amount
	Unbonding    int64
	Accept       int64
	MaxTerm      int64
	Lag          int64
}

// ParamsOf reads the market params from state, defaults substituted.
func ParamsOf(kv store.KV) Params {
	p := params.Get(kv)
	d := params.Default()
	mp := Params{
		Epoch: p.EpochSeconds, FeeBps: p.FeeBps, MinUnitStake: p.MinUnitStake,
		Unbonding: p.UnbondingPeriod, Accept: p.AcceptTimeout, MaxTerm: p.MaxTerm, Lag: p.SettleLagEpochs,
	}
	if mp.Epoch <= 0 {
		mp.Epoch = d.EpochSeconds
	}
	if mp.Accept <= 0 {
		mp.Accept = d.AcceptTimeout
	}
	if mp.MaxTerm <= 0 {
		mp.MaxTerm = d.MaxTerm
	}
	if mp.Lag <= 0 {
		mp.Lag = d.SettleLagEpochs
	}
	if mp.Unbonding < 0 {
		mp.Unbonding = 0
	}
	if mp.FeeBps > BpsDenom {
		mp.FeeBps = BpsDenom
	}
	return mp
}

// ---- records ----

// UnbondingEntry is stake on its way back to the provider; it stays
// slashable until released.
type UnbondingEntry struct {
	Amount    core.Amount `json:"amount"`
	ReleaseAt core.Time   `json:"release_at"`
	Seq       uint64      `json:"seq"`
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

// UnbondingTotal is the sum of the provider's unbonding entries.
func (p *Provider) UnbondingTotal() core.Amount {
	var t core.Amount
	for _, e := range p.Unbonding {
		t += e.Amount // bounded by PoolStake, cannot overflow
	}
	return t
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

func (s SLAOffer) validate() error {
	if s.MinUptimeBps > BpsDenom {
		return core.Errf(core.CodeInvalidMessage, "sla.min_uptime_bps %d is above 10000 (100%%)", s.MinUptimeBps)
	}
	if s.MaxErrorRateBps > BpsDenom {
		return core.Errf(core.CodeInvalidMessage, "sla.max_error_rate_bps %d is above 10000 (100%%)", s.MaxErrorRateBps)
	}
	return nil
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

// ringEntry is the not-yet-final accrual of one recent epoch (see
// market_settle.go).
type ringEntry struct {
	Epoch    int64  `json:"epoch"`
	Accrued  string `json:"accrued"` // price-byte-seconds, decimal
	Breached bool   `json:"breached,omitempty"`
	// Held: QoS holds the epoch's pay (no quorum yet, hold.go): the entry
	// stays in the ring, unclaimable, past settle_lag_epochs until QoS
	// releases it (paid) or marks it breached (refunded).
	Held bool `json:"held,omitempty"`
}

// Settlement is a unit's reward-index state. All "pbs" values are
// price-byte-seconds: storage price (uflash per GiB-month) x bytes x
// seconds; 1 uflash of provider revenue = GiB x MonthSeconds pbs.
type Settlement struct {
	SumRate     string      `json:"sum_rate"` // pbs per second of active reservations
	Accrued     string      `json:"accrued"`  // pbs accrued through AccruedTo
	AccruedTo   core.Time   `json:"accrued_to"`
	Ring        []ringEntry `json:"ring,omitempty"`
	ClaimedNet  core.Amount `json:"claimed"`     // paid to the provider
	ClaimedFee  core.Amount `json:"claimed_fee"` // paid to the treasury
	BreachCount uint64      `json:"breach_count"`
	// LastBreach is the latest breached epoch + 1 (0: unknown, e.g. state
	// written before the field existed); it lets MarkEpochBreached skip
	// its index scans when marking a newer epoch, the QoS common case.
	LastBreach   int64       `json:"last_breach,omitempty"`
	EgressEarned core.Amount `json:"egress_earned"`
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

// Live reports whether r is pending or active.
func (r *Reservation) Live() bool { return r.Status == ResPending || r.Status == ResActive }

// ---- storage ----

func providerKey(owner []byte) []byte { return store.Key(KeyProvider, owner) }
func unitKey(id uint64) []byte        { return store.Key(KeyUnit, store.EncodeUint64(id)) }
func resKey(id uint64) []byte         { return store.Key(KeyRes, store.EncodeUint64(id)) }

// GetProvider reads a provider by raw owner address.
func GetProvider(kv store.KV, owner []byte) (*Provider, bool) {
	var p Provider
	if !store.Get(kv, providerKey(owner), &p) {
		return nil, false
	}
	return &p, true
}

// SetProvider writes provider p of owner, telling QoS first.
func (mk *Keeper) SetProvider(kv store.KV, owner []byte, p *Provider) {
	mk.quality.ProviderChanged(kv, providerKey(owner), p) // QoS stats (qos_stats.go)
	store.Set(kv, providerKey(owner), p)
}

// GetUnit reads a unit by id ("unit-N").
func GetUnit(kv store.KV, id string) (*Unit, bool) {
	n, err := ParseUnitID(id)
	if err != nil {
		return nil, false
	}
	return GetUnitN(kv, n)
}

// GetUnitN reads unit n.
func GetUnitN(kv store.KV, n uint64) (*Unit, bool) {
	var u Unit
	if !store.Get(kv, unitKey(n), &u) {
		return nil, false
	}
	return &u, true
}

func (mk *Keeper) setUnit(kv store.KV, u *Unit) {
	n, _ := ParseUnitID(u.ID)
	mk.quality.UnitChanged(kv, unitKey(n), u) // QoS stats and provider score sums (qos_stats.go)
	store.Set(kv, unitKey(n), u)
}

// GetReservation reads a reservation by id ("res-N").
func GetReservation(kv store.KV, id string) (*Reservation, bool) {
	n, err := ParseResID(id)
	if err != nil {
		return nil, false
	}
	return getReservationN(kv, n)
}

// GetReservationN reads reservation res-n.
func GetReservationN(kv store.KV, n uint64) (*Reservation, bool) { return getReservationN(kv, n) }

// getReservationN reads reservation res-n.
func getReservationN(kv store.KV, n uint64) (*Reservation, bool) {
	var r Reservation
	if !store.Get(kv, resKey(n), &r) {
		return nil, false
	}
	return &r, true
}

// SetReservation writes r.
func SetReservation(kv store.KV, r *Reservation) {
	n, _ := ParseResID(r.ID)
	store.Set(kv, resKey(n), r)
}

func unitPriceIdxKey(price core.Amount, n uint64) []byte {
	return store.Key(keyUnitPriceIdx, store.EncodeUint64(uint64(price)), store.EncodeUint64(n))
}

func unitScoreIdxKey(score uint32, n uint64) []byte {
	if score > 100 {
		score = 100
	}
	return store.Key(keyUnitScoreIdx, []byte{byte(255 - score)}, store.EncodeUint64(n))
}

func indexUnit(kv store.KV, u *Unit) {
	n, _ := ParseUnitID(u.ID)
	kv.Set(unitPriceIdxKey(u.StoragePrice, n), []byte{})
	kv.Set(unitScoreIdxKey(u.Score, n), []byte{})
}

func unindexUnit(kv store.KV, u *Unit) {
	n, _ := ParseUnitID(u.ID)
	kv.Delete(unitPriceIdxKey(u.StoragePrice, n))
	kv.Delete(unitScoreIdxKey(u.Score, n))
}

// SetUnitScore changes a unit's score and keeps the score index in step.
// The QoS module calls it.
func (mk *Keeper) SetUnitScore(kv store.KV, unitID string, score uint32) error {
	u, ok := GetUnit(kv, unitID)
	if !ok {
		return core.Errf(core.CodeNotFound, "unit %s not found", unitID)
	}
	if score > 100 {
		score = 100
	}
	if u.Status != UnitDeleted {
		unindexUnit(kv, u)
	}
	u.Score = score
	if u.Status != UnitDeleted {
		indexUnit(kv, u)
	}
	mk.setUnit(kv, u)
	return nil
}

// ---- big integer helpers (decimal strings in state) ----

// The settlement's big-integer constants, built per use (no shared
// mutable values).

func bigGiB() *big.Int { return new(big.Int).SetUint64(GiB) }

// pbsPerUflash is how many price-byte-seconds make 1 uflash of revenue.
func pbsPerUflash() *big.Int { return new(big.Int).Mul(bigGiB(), big.NewInt(MonthSeconds)) }

// NanoPerUflash is how many nano-units (pbs x bps) make 1 uflash, the unit
// of the settlement dust.
func NanoPerUflash() *big.Int { return new(big.Int).Mul(pbsPerUflash(), big.NewInt(BpsDenom)) }

func bigBps() *big.Int { return big.NewInt(BpsDenom) }
