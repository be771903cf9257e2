// Package qos is the quality-of-service module: oracles, reports, SLA
// enforcement, scores, rewards and stats (DESIGN.md sections 3-4, issue 4).
// It builds on the market; the market calls back only through the
// market.Quality hooks (keeper.go). qos.go holds the state layout;
// params.go the tunables; oracle.go the oracle record and its
// registration; unbond.go the release of unbonded oracle stake; report.go
// the reports; epochwork.go the epoch-end work, bounded per block, and
// epoch.go, judge.go, maintenance.go, periods.go, score.go and payouts.go
// its parts; comp.go the compensation index and claim.go its
// claim; stats.go and query.go the stats and queries.
//
// State layout (all keys under "q/"; ids and epochs 8-byte big endian):
//
//	q/o/{oracle}                     oracle record
//	q/nact                           number of active oracles (8 bytes)
//	q/seq/unbond                     oracle unbonding sequence
//	q/qb/{time}{oracle}{seq}         oracle unbonding queue
//	q/rep/{epoch}{unit}{oracle}      one oracle's measurement of a unit, until processed
//	q/rd/{epoch}{oracle}             "oracle reported for epoch" marker, until processed
//	q/front                          last epoch whose reports are final and processed (8 bytes)
//	q/work                           epoch-end work under way, when a block left some (epochwork.go)
//	q/wn/{period}{unit}              decay keys written by the scoring-period work under way
//	q/u/{unit}                       per-unit QoS state
//	q/ci/{unit}{epoch}               compensation index before epoch's delta (decimal)
//	q/cdust                          compensation rounding dust (scaled, decimal)
//	q/mu/{unit}                      units with a pending maintenance window
//	q/sp/{period}{unit}              units with data in a scoring period
//	q/dk/{period}{unit}              units whose score decays at the end of a period
//	q/ps/{owner}                     provider score sums
//	q/st                             network totals
//	q/fee                            fees already shared with oracles (8 bytes)
//	q/se/{epoch}                     per-epoch stats, last history_epochs
//	q/uh/{unit}{epoch}               per-unit QoS history, last history_epochs
//	q/snap                           last epoch snapshotted (8 bytes)
package qos

// The records are stored in the binary codec (codec_*.go, generated).
//go:generate go run ../store/recordgen -out codec.go -addr Oracle.Address Oracle UnitMeasurement UnitQoS uptimeEntry maintLog compRingEntry UnitEpochQoS NetworkStats EpochStats EpochQoSCounts ProviderScoreSums epochWork epochTally oracleTally

import "strconv"

// PoolCompensation holds slashed stake owed to consumers until their
// reservations collect it. PoolOracle holds oracle rewards between the unit
// that produced them and the payout at the end of the same epoch's work (it
// is empty after every block but those that leave an epoch half judged,
// epochwork.go).
const (
	PoolCompensation = "compensation"
	PoolOracle       = "oracle"
)

var (
	KeyOracle      = []byte("q/o/")
	keyOracleCount = []byte("q/nact")
	keySeqOUnbond  = []byte("q/seq/unbond")
	keyOQueue      = []byte("q/qb/")
	keyReport      = []byte("q/rep/")
	keyReported    = []byte("q/rd/")
	keyFrontier    = []byte("q/front")
	keyUnitQoS     = []byte("q/u/")
	keyCompIdx     = []byte("q/ci/")
	keyCompDust    = []byte("q/cdust")
	keyMaintUnits  = []byte("q/mu/")
	keyScorePeriod = []byte("q/sp/")
	keyDecay       = []byte("q/dk/")
	keyProvScore   = []byte("q/ps/")
	keyStats       = []byte("q/st")
	keyFeeShared   = []byte("q/fee")
	keyEpochStats  = []byte("q/se/")
	keyUnitHist    = []byte("q/uh/")
	keySnap        = []byte("q/snap")
)

// YearSeconds is the year APYs are quoted over (365 days).
const YearSeconds = int64(365 * 86400)

// Reputation APYs in basis points per year, by score band.
const (
	apyHighBps   = 1200 // score >= 80
	apyMidBps    = 500  // 60..79
	apyLowBps    = 500  // 20..39, slashed
	apyBottomBps = 1200 // <= 19, slashed
)

func itoa(v int64) string  { return strconv.FormatInt(v, 10) }
func utoa(v uint64) string { return strconv.FormatUint(v, 10) }
