package contract

// The market: providers, data units, reservations, escrow and settlement.
//
// State layout (all keys under "m/"; numeric ids are 8-byte big endian so
// that key order is id order; addresses are the 20 raw bytes):
//
//	m/seq/unit, m/seq/res, m/seq/unbond   next id counters
//	m/p/{owner}                           provider record (JSON)
//	m/pu/{owner}{unit}                    a provider's units
//	m/u/{unit}                            unit record (JSON)
//	m/ux/p/{price}{unit}                  price index of listed (not deleted) units
//	m/ux/s/{255-score}{unit}              score index of listed units (best first)
//	m/r/{res}                             reservation record (JSON)
//	m/rc/{consumer}{res}                  reservations by consumer
//	m/rp/{owner}{res}                     reservations by provider
//	m/ru/{unit}{res}                      reservations by unit
//	m/br/{unit}{epoch}                    breached epoch -> breaches before it (8 bytes)
//	m/qe/{time}{res}                      term-end queue (active reservations)
//	m/qa/{time}{res}                      accept-timeout queue (pending reservations)
//	m/qb/{time}{owner}{seq}               unbonding queue
//	m/dust                                settlement rounding dust (nano-units, decimal)

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Sizes and durations the prices are quoted in.
const (
	GiB          = uint64(1) << 30
	MonthSeconds = int64(2_592_000) // 30 days
	BpsDenom     = 10_000
)

// Unit kinds.
var unitKinds = map[string]bool{"s3": true, "azure-blob": true, "gcs": true, "local": true, "function": true}

// UnitKinds lists the accepted unit kinds.
var UnitKinds = []string{"s3", "azure-blob", "gcs", "local", "function"}

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
	keySeqUnit      = []byte("m/seq/unit")
	keySeqRes       = []byte("m/seq/res")
	keySeqUnbond    = []byte("m/seq/unbond")
	keyProvider     = []byte("m/p/")
	keyProvUnits    = []byte("m/pu/")
	keyUnit         = []byte("m/u/")
	keyUnitPriceIdx = []byte("m/ux/p/")
	keyUnitScoreIdx = []byte("m/ux/s/")
	keyRes          = []byte("m/r/")
	keyResConsumer  = []byte("m/rc/")
	keyResProvider  = []byte("m/rp/")
	keyResUnit      = []byte("m/ru/")
	keyBreach       = []byte("m/br/")
	keyQueueEnd     = []byte("m/qe/")
	keyQueueAccept  = []byte("m/qa/")
	keyQueueUnbond  = []byte("m/qb/")
	keyDust         = []byte("m/dust")
	keyMktNow       = []byte("m/now")
)

func be8(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}

func mkKey(parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	k := make([]byte, 0, n)
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

func nextSeq(kv KV, key []byte) uint64 {
	var n uint64
	if b := kv.Get(key); len(b) == 8 {
		n = binary.BigEndian.Uint64(b)
	}
	n++
	kv.Set(key, be8(n))
	return n
}

// ---- ids ----

// Unit ids are "unit-N", reservation ids "res-N" (N from 1, sequential).
// Both are valid S3 bucket names.
const (
	unitIDPrefix = "unit-"
	resIDPrefix  = "res-"
)

func unitIDString(n uint64) string { return unitIDPrefix + strconv.FormatUint(n, 10) }
func resIDString(n uint64) string  { return resIDPrefix + strconv.FormatUint(n, 10) }

func parseID(s, prefix, what string) (uint64, error) {
	if !strings.HasPrefix(s, prefix) {
		return 0, Errf(CodeInvalidMessage, "%s id %q must look like %s1", what, s, prefix)
	}
	d := s[len(prefix):]
	n, err := strconv.ParseUint(d, 10, 64)
	if err != nil || n == 0 || (len(d) > 1 && d[0] == '0') {
		return 0, Errf(CodeInvalidMessage, "%s id %q must look like %s1", what, s, prefix)
	}
	return n, nil
}

func parseUnitID(s string) (uint64, error) { return parseID(s, unitIDPrefix, "unit") }
func parseResID(s string) (uint64, error)  { return parseID(s, resIDPrefix, "reservation") }

// ---- params ----

// marketParams are the market tunables with defaults substituted for
// values that would be meaningless at zero (an older genesis leaves them 0).
type marketParams struct {
	Epoch        int64
	FeeBps       uint32
	MinUnitStake Amount
	Unbonding    int64
	Accept       int64
	MaxTerm      int64
	Lag          int64
}

func getMarketParams(kv KV) marketParams {
	p := GetParams(kv)
	d := DefaultParams()
	mp := marketParams{
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
	Amount    Amount `json:"amount"`
	ReleaseAt Time   `json:"release_at"`
	Seq       uint64 `json:"seq"`
}

// Provider is a storage provider, keyed by its owner address.
type Provider struct {
	Address      string           `json:"address"`
	Name         string           `json:"name"`
	Description  string           `json:"description"`
	Website      string           `json:"website"`
	Endpoint     string           `json:"bridge_endpoint"`
	BridgePubKey []byte           `json:"bridge_pub_key"`
	Stake        Amount           `json:"stake"`
	Unbonding    []UnbondingEntry `json:"unbonding"`
	LiveUnits    uint64           `json:"live_units"`
	Score        uint32           `json:"score"`
	Deregistered bool             `json:"deregistered"`
	RegisteredAt Time             `json:"registered_at"`
	UpdatedAt    Time             `json:"updated_at"`
}

// UnbondingTotal is the sum of the provider's unbonding entries.
func (p *Provider) UnbondingTotal() Amount {
	var t Amount
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
		return Errf(CodeInvalidMessage, "sla.min_uptime_bps %d is above 10000 (100%%)", s.MinUptimeBps)
	}
	if s.MaxErrorRateBps > BpsDenom {
		return Errf(CodeInvalidMessage, "sla.max_error_rate_bps %d is above 10000 (100%%)", s.MaxErrorRateBps)
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
	Start Time `json:"start"`
	End   Time `json:"end"`
}

// ringEntry is the not-yet-final accrual of one recent epoch (see
// market_settle.go).
type ringEntry struct {
	Epoch    int64  `json:"epoch"`
	Accrued  string `json:"accrued"` // price-byte-seconds, decimal
	Breached bool   `json:"breached,omitempty"`
}

// Settlement is a unit's reward-index state. All "pbs" values are
// price-byte-seconds: storage price (uflash per GiB-month) x bytes x
// seconds; 1 uflash of provider revenue = GiB x MonthSeconds pbs.
type Settlement struct {
	SumRate     string      `json:"sum_rate"` // pbs per second of active reservations
	Accrued     string      `json:"accrued"`  // pbs accrued through AccruedTo
	AccruedTo   Time        `json:"accrued_to"`
	Ring        []ringEntry `json:"ring,omitempty"`
	ClaimedNet  Amount      `json:"claimed"`     // paid to the provider
	ClaimedFee  Amount      `json:"claimed_fee"` // paid to the treasury
	BreachCount uint64      `json:"breach_count"`
	// LastBreach is the latest breached epoch + 1 (0: unknown, e.g. state
	// written before the field existed); it lets MarkEpochBreached skip
	// its index scans when marking a newer epoch, the QoS common case.
	LastBreach   int64  `json:"last_breach,omitempty"`
	EgressEarned Amount `json:"egress_earned"`
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
	StoragePrice     Amount             `json:"storage_price"` // uflash per GiB-month
	EgressPrice      Amount             `json:"egress_price"`  // uflash per GiB
	SLA              SLAOffer           `json:"sla"`
	Features         Features           `json:"features"`
	AutoAccept       bool               `json:"auto_accept"`
	Status           string             `json:"status"`
	Maintenance      *MaintenanceWindow `json:"maintenance,omitempty"`
	Score            uint32             `json:"score"`
	FeeBps           uint32             `json:"fee_bps"`
	LiveReservations uint64             `json:"live_reservations"`
	CreatedAt        Time               `json:"created_at"`
	UpdatedAt        Time               `json:"updated_at"`
	Settlement       Settlement         `json:"settlement"`
}

// Reservation is a consumer's prepaid, term-based deal on a unit.
type Reservation struct {
	ID           string   `json:"id"`
	Unit         string   `json:"unit"`
	Provider     string   `json:"provider"`
	Consumer     string   `json:"consumer"`
	Bytes        uint64   `json:"bytes"`
	Term         int64    `json:"term_seconds"`
	EgressBytes  uint64   `json:"egress_bytes"` // allowance
	EgressUsed   uint64   `json:"egress_used"`
	StoredBytes  uint64   `json:"stored_bytes"`
	IngressBytes uint64   `json:"ingress_bytes"`
	LastUsage    int64    `json:"last_usage_epoch"` // -1: none yet
	StoragePrice Amount   `json:"storage_price"`
	EgressPrice  Amount   `json:"egress_price"`
	FeeBps       uint32   `json:"fee_bps"`
	SLA          SLAOffer `json:"sla"`
	Features     Features `json:"features"`
	Status       string   `json:"status"`
	CreatedAt    Time     `json:"created_at"`
	AcceptBy     Time     `json:"accept_by,omitempty"` // pending: expires at
	Start        Time     `json:"start"`               // 0 while pending
	End          Time     `json:"end"`
	SettledTo    Time     `json:"settled_to"`
	Commitment   string   `json:"commitment_pbs"` // pbs the storage escrow covers
	PaidPBS      string   `json:"paid_pbs"`       // pbs settled so far
	StorageEsc   Amount   `json:"storage_escrow"` // storage + its fee
	EgressEsc    Amount   `json:"egress_escrow"`  // allowance cost
	EgressFeeEsc Amount   `json:"egress_fee_escrow"`
	EgressPaid   Amount   `json:"egress_paid"` // net, to the provider
	EgressFee    Amount   `json:"egress_fee_paid"`
	StoragePaid  Amount   `json:"storage_paid"` // charged at final settlement
	Escrowed     Amount   `json:"escrowed"`     // everything the consumer put in
	Refunded     Amount   `json:"refunded"`
	Compensation Amount   `json:"compensation"`
	CompStart    int64    `json:"comp_start_epoch,omitempty"` // first epoch whose breaches it is compensated for (qos_comp.go)
	ClosedAt     Time     `json:"closed_at,omitempty"`
}

func (r *Reservation) live() bool { return r.Status == ResPending || r.Status == ResActive }

// ---- storage ----

func providerKey(owner []byte) []byte { return mkKey(keyProvider, owner) }
func unitKey(id uint64) []byte        { return mkKey(keyUnit, be8(id)) }
func resKey(id uint64) []byte         { return mkKey(keyRes, be8(id)) }

func getJSON(kv KV, key []byte, v any) bool {
	b := kv.Get(key)
	if b == nil {
		return false
	}
	if err := json.Unmarshal(b, v); err != nil {
		panic(fmt.Sprintf("contract: corrupt record at %q: %v", key, err))
	}
	return true
}

func setJSON(kv KV, key []byte, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("contract: encode %q: %v", key, err))
	}
	kv.Set(key, b)
}

// GetProvider reads a provider by raw owner address.
func GetProvider(kv KV, owner []byte) (*Provider, bool) {
	var p Provider
	if !getJSON(kv, providerKey(owner), &p) {
		return nil, false
	}
	return &p, true
}

func setProvider(kv KV, owner []byte, p *Provider) {
	statsProviderChanged(kv, providerKey(owner), p) // QoS stats (qos_stats.go)
	setJSON(kv, providerKey(owner), p)
}

// GetUnit reads a unit by id ("unit-N").
func GetUnit(kv KV, id string) (*Unit, bool) {
	n, err := parseUnitID(id)
	if err != nil {
		return nil, false
	}
	return getUnitN(kv, n)
}

func getUnitN(kv KV, n uint64) (*Unit, bool) {
	var u Unit
	if !getJSON(kv, unitKey(n), &u) {
		return nil, false
	}
	return &u, true
}

func setUnit(kv KV, u *Unit) {
	n, _ := parseUnitID(u.ID)
	statsUnitChanged(kv, unitKey(n), u) // QoS stats and provider score sums (qos_stats.go)
	setJSON(kv, unitKey(n), u)
}

// GetReservation reads a reservation by id ("res-N").
func GetReservation(kv KV, id string) (*Reservation, bool) {
	n, err := parseResID(id)
	if err != nil {
		return nil, false
	}
	var r Reservation
	if !getJSON(kv, resKey(n), &r) {
		return nil, false
	}
	return &r, true
}

func setReservation(kv KV, r *Reservation) {
	n, _ := parseResID(r.ID)
	setJSON(kv, resKey(n), r)
}

func unitPriceIdxKey(price Amount, n uint64) []byte {
	return mkKey(keyUnitPriceIdx, be8(uint64(price)), be8(n))
}

func unitScoreIdxKey(score uint32, n uint64) []byte {
	if score > 100 {
		score = 100
	}
	return mkKey(keyUnitScoreIdx, []byte{byte(255 - score)}, be8(n))
}

func indexUnit(kv KV, u *Unit) {
	n, _ := parseUnitID(u.ID)
	kv.Set(unitPriceIdxKey(u.StoragePrice, n), []byte{})
	kv.Set(unitScoreIdxKey(u.Score, n), []byte{})
}

func unindexUnit(kv KV, u *Unit) {
	n, _ := parseUnitID(u.ID)
	kv.Delete(unitPriceIdxKey(u.StoragePrice, n))
	kv.Delete(unitScoreIdxKey(u.Score, n))
}

// SetUnitScore changes a unit's score and keeps the score index in step.
// The QoS module calls it.
func SetUnitScore(kv KV, unitID string, score uint32) error {
	u, ok := GetUnit(kv, unitID)
	if !ok {
		return Errf(CodeNotFound, "unit %s not found", unitID)
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
	setUnit(kv, u)
	return nil
}

// ---- big integer helpers (decimal strings in state) ----

var (
	bigZero = big.NewInt(0)
	bigGiB  = new(big.Int).SetUint64(GiB)
	bigD    = new(big.Int).Mul(bigGiB, big.NewInt(MonthSeconds)) // pbs per uflash
	bigDx   = new(big.Int).Mul(bigD, big.NewInt(BpsDenom))       // nano-units per uflash
	bigU64  = new(big.Int).SetUint64(^uint64(0))                 // max amount
	bigBps  = big.NewInt(BpsDenom)
)

func bi(s string) *big.Int {
	if s == "" {
		return new(big.Int)
	}
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic("contract: corrupt big integer " + strconv.Quote(s))
	}
	return v
}

func bs(v *big.Int) string { return v.String() }

func bu(v uint64) *big.Int { return new(big.Int).SetUint64(v) }

func bi64(v int64) *big.Int { return big.NewInt(v) }

// ceilDiv returns ceil(a/b) for a >= 0, b > 0.
func ceilDiv(a, b *big.Int) *big.Int {
	q, r := new(big.Int).QuoRem(a, b, new(big.Int))
	if r.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	return q
}

func toAmount(v *big.Int, what string) (Amount, error) {
	if v.Sign() < 0 {
		return 0, Errf(CodeInternal, "%s is negative", what)
	}
	if v.Cmp(bigU64) > 0 {
		return 0, Errf(CodeOverflow, "%s (%s%s) does not fit in an amount", what, v, Denom)
	}
	return Amount(v.Uint64()), nil
}

// ---- validation helpers ----

func checkText(field, s string, max int, required bool) error {
	if required && strings.TrimSpace(s) == "" {
		return Errf(CodeInvalidMessage, "%s is required", field)
	}
	if len(s) > max {
		return Errf(CodeInvalidMessage, "%s is %d bytes, limit is %d", field, len(s), max)
	}
	if !utf8.ValidString(s) {
		return Errf(CodeInvalidMessage, "%s is not valid UTF-8", field)
	}
	return nil
}

func checkURL(field, s string, required bool) error {
	if s == "" && !required {
		return nil
	}
	if len(s) > 256 {
		return Errf(CodeInvalidMessage, "%s is longer than 256 bytes", field)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Errf(CodeInvalidMessage, "%s %q must be an http:// or https:// URL with a host", field, s)
	}
	return nil
}

func checkRegion(region, country string) error {
	if err := checkText("region", region, 64, true); err != nil {
		return err
	}
	if len(country) != 2 || country[0] < 'A' || country[0] > 'Z' || country[1] < 'A' || country[1] > 'Z' {
		return Errf(CodeInvalidMessage, "country %q must be an ISO 3166 alpha-2 code in capitals, e.g. DE", country)
	}
	return nil
}
