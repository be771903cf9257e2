package qos

import (
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
)

// handleLateReport takes a report of an epoch closed for reports: every
// unit in it must be held (hold.go) and assigned to the signer in that
// epoch; each oracle reports a held unit-epoch once.
func handleLateReport(ctx *core.Context, signer []byte, o *Oracle, q qosParams, m *MsgReport, cur int64) error {
	kv := ctx.KV
	if len(m.Units) > q.MaxUnits {
		return core.Errf(core.CodeTooManyUnits, "report has %d units, max_units_per_report is %d; split it over fewer units", len(m.Units), q.MaxUnits)
	}
	ns, err := m.unitNumbers()
	if err != nil {
		return err
	}
	quorate := 0
	for i := range m.Units {
		n := ns[i]
		u, ok := market.GetUnitN(kv, n)
		if !ok || u.Status == market.UnitDeleted || !IsHeldEpoch(kv, n, m.Epoch) {
			return core.Errf(core.CodeLateReport, "epoch %d is closed for reports (current epoch %d accepts epochs %d..%d, and later only the held unit-epochs); units[%d] %s is not held in it",
				m.Epoch, cur, max(cur-1-q.Grace, 0), cur-1, i, m.Units[i].Unit)
		}
		if err := checkAssigned(kv, q, i, m.Epoch, n, u, signer); err != nil {
			return err
		}
		ok, err := takeLateReport(kv, q, i, m.Epoch, n, u, signer, m.Units[i], cur)
		if err != nil {
			return err
		}
		if ok {
			quorate++
		}
	}
	o.Reports = satAdd(o.Reports, 1)
	o.UnitsReported = satAdd(o.UnitsReported, uint64(len(m.Units)))
	o.LastEpoch = max(o.LastEpoch, m.Epoch)
	setOracle(kv, signer, o)
	ctx.Emit("qos_late_report", "oracle", o.Address, "epoch", itoa(m.Epoch), "units", itoa(int64(len(m.Units))), "quorate", itoa(int64(quorate)))
	return nil
}
