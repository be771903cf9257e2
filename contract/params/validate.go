package params

import (
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/store"
)

// Bounds of the held-epoch and outlier params: the QoS records keep one
// entry per held epoch of a unit and per far epoch of an oracle, so the
// windows are small.
const (
	MaxHoldEpochs    = 64
	MaxOutlierWindow = 64
)

// Validate checks the held-epoch and outlier params (issue 13), with the
// defaults substituted for zero values as the QoS module reads them. The
// older params keep their rule of before (out-of-range values are capped
// where they are read).
func (p Params) Validate() error {
	d := Default()
	hold, tol, k, window := p.HoldEpochs, p.OutlierToleranceBps, p.OutlierK, p.OutlierWindow
	if hold == 0 {
		hold = d.HoldEpochs
	}
	if tol == 0 {
		tol = d.OutlierToleranceBps
	}
	if k == 0 {
		k = d.OutlierK
	}
	if window == 0 {
		window = d.OutlierWindow
	}
	switch {
	case hold < 0 || hold > MaxHoldEpochs:
		return core.Errf(core.CodeInvalidMessage, "params: hold_epochs %d must be within 0..%d (0: the default %d)", p.HoldEpochs, MaxHoldEpochs, d.HoldEpochs)
	case tol > 10_000:
		return core.Errf(core.CodeInvalidMessage, "params: outlier_tolerance_bps %d exceeds 10000", p.OutlierToleranceBps)
	case window < 0 || window > MaxOutlierWindow:
		return core.Errf(core.CodeInvalidMessage, "params: outlier_window %d must be within 0..%d", p.OutlierWindow, MaxOutlierWindow)
	case int64(k) > window:
		return core.Errf(core.CodeInvalidMessage, "params: outlier_k %d exceeds outlier_window %d: an oracle could never be slashed", k, window)
	}
	return nil
}

// InitGenesis validates and writes the genesis params.
func InitGenesis(kv store.KV, p Params) error {
	if err := p.Validate(); err != nil {
		return err
	}
	Set(kv, p)
	return nil
}
