package qos

import (
	"fmt"

	"github.com/flashback-network/flashback/address"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
	"github.com/flashback-network/flashback/contract/store"
)

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

// hardMaxUnitsPerReport bounds a report before state is read; the
// max_units_per_report param is checked in Handle.
const hardMaxUnitsPerReport = 100_000

// MsgReport is an oracle's measurements for one ended epoch. One per
// oracle per epoch, for the epoch that just ended (or up to
// report_grace_epochs before it).
type MsgReport struct {
	Epoch int64             `json:"epoch"`
	Units []UnitMeasurement `json:"units"`

	// unitNs are the units' numbers, parsed once by ValidateBasic (which
	// DecodeMsg runs) for the handler.
	unitNs []uint64
}

// unitNumbers are the reported units' numbers (parsed by ValidateBasic;
// parsed here for a message that did not pass through it).
func (m *MsgReport) unitNumbers() ([]uint64, error) {
	if len(m.unitNs) == len(m.Units) {
		return m.unitNs, nil
	}
	ns := make([]uint64, len(m.Units))
	for i, u := range m.Units {
		n, err := market.ParseUnitID(u.Unit)
		if err != nil {
			return nil, fmt.Errorf("units[%d]: %w", i, err)
		}
		ns[i] = n
	}
	return ns, nil
}

func (m *MsgReport) ValidateBasic() error {
	if m.Epoch < 0 {
		return core.Errf(core.CodeInvalidMessage, "epoch must not be negative")
	}
	if len(m.Units) == 0 {
		return core.Errf(core.CodeInvalidMessage, "units is empty: report at least one unit")
	}
	if len(m.Units) > hardMaxUnitsPerReport {
		return core.Errf(core.CodeTooManyUnits, "report has %d units, at most %d", len(m.Units), hardMaxUnitsPerReport)
	}
	m.unitNs = nil
	ns, err := m.unitNumbers()
	if err != nil {
		return err
	}
	seen := make(map[uint64]bool, len(m.Units))
	for i, u := range m.Units {
		n := ns[i]
		if seen[n] {
			return core.Errf(core.CodeInvalidMessage, "units[%d]: unit %s is listed twice; send one measurement per unit", i, u.Unit)
		}
		seen[n] = true
		if u.Probes == 0 {
			return core.Errf(core.CodeInvalidMessage, "units[%d] (%s): probes must be positive (an unreachable unit is probes > 0, successes 0)", i, u.Unit)
		}
		if u.Successes > u.Probes {
			return core.Errf(core.CodeInvalidMessage, "units[%d] (%s): successes %d exceed probes %d", i, u.Unit, u.Successes, u.Probes)
		}
		if u.P50Ms > u.P95Ms {
			return core.Errf(core.CodeInvalidMessage, "units[%d] (%s): p50_ms %d exceeds p95_ms %d", i, u.Unit, u.P50Ms, u.P95Ms)
		}
	}
	m.unitNs = ns
	return nil
}

func reportKey(e int64, unitN uint64, oracle []byte) []byte {
	return store.Key(keyReport, store.EncodeUint64(uint64(e)), store.EncodeUint64(unitN), oracle)
}

func handleReport(ctx *core.Context, signer []byte, m *MsgReport) error {
	kv := ctx.KV
	o, ok := GetOracle(kv, signer)
	if !ok || !o.Active {
		return core.Errf(core.CodeNotOracle, "%s is not an active oracle; send qos/register_oracle first", address.Encode(signer))
	}
	if o.Jailed {
		return core.Errf(core.CodeOracleJailed, "oracle %s is jailed for missed reports until epoch %d; send qos/unjail_oracle then", o.Address, o.JailedUntil)
	}
	q := getQoSParams(kv)
	cur := market.EpochOf(ctx.Now(), q.Epoch)
	if m.Epoch >= cur {
		return core.Errf(core.CodeFutureEpoch, "epoch %d has not ended (current epoch %d); report it once it is over", m.Epoch, cur)
	}
	if m.Epoch < cur-1-q.Grace {
		// Closed, except for unit-epochs held for want of a quorum
		// (hold.go).
		return handleLateReport(ctx, signer, o, q, m, cur)
	}
	mark := store.Key(keyReported, store.EncodeUint64(uint64(m.Epoch)), signer)
	if kv.Get(mark) != nil {
		return core.Errf(core.CodeDuplicateReport, "oracle %s already reported epoch %d", o.Address, m.Epoch)
	}
	if len(m.Units) > q.MaxUnits {
		return core.Errf(core.CodeTooManyUnits, "report has %d units, max_units_per_report is %d; split it over fewer units", len(m.Units), q.MaxUnits)
	}
	epochEnd := (m.Epoch + 1) * q.Epoch
	ns, err := m.unitNumbers()
	if err != nil {
		return err
	}
	for i := range m.Units {
		um := &m.Units[i]
		n := ns[i]
		u, ok := market.GetUnitN(kv, n)
		if !ok {
			return core.Errf(core.CodeNotFound, "units[%d]: unit %s not found", i, um.Unit)
		}
		if u.Status == market.UnitDeleted {
			return core.Errf(core.CodeWrongState, "units[%d]: unit %s is deleted", i, um.Unit)
		}
		if u.CreatedAt.Unix() >= epochEnd {
			return core.Errf(core.CodeWrongState, "units[%d]: unit %s was created after epoch %d ended", i, um.Unit, m.Epoch)
		}
		if err := checkAssigned(kv, q, i, m.Epoch, n, u, signer); err != nil {
			return err
		}
		v := *um
		v.Unit = "" // the key names it
		store.Set(kv, reportKey(m.Epoch, n, signer), &v)
	}
	kv.Set(mark, []byte{1})
	o.Reports++
	o.UnitsReported += uint64(len(m.Units))
	o.LastEpoch = max(o.LastEpoch, m.Epoch)
	setOracle(kv, signer, o)
	ctx.Emit("qos_report", "oracle", o.Address, "epoch", itoa(m.Epoch), "units", itoa(int64(len(m.Units))))
	return nil
}
