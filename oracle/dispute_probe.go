package oracle

import (
	"context"
	"fmt"
	"time"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/dispute"
	"github.com/flashback-network/flashback/contract/qos"
)

// checkUnavailable judges the epochs a consumer says it could not reach
// its data by the chain's QoS record of them (the assigned oracles'
// medians): all of them on record compliant rejects, all of them breached
// upholds. Without a record either way it probes the unit now: unreachable
// now upholds (the outage goes on), reachable now cannot tell about the
// past.
func (w *Disputes) checkUnavailable(ctx context.Context, d *types.Dispute) (string, string) {
	if len(d.Epochs) == 0 {
		return dispute.VerdictCannotTell, "no epochs"
	}
	hist, err := w.Client.UnitQoS(ctx, d.Unit, client.EpochRange{From: d.Epochs[0], To: d.Epochs[len(d.Epochs)-1]})
	if err != nil {
		return dispute.VerdictCannotTell, "qos history: " + err.Error()
	}
	byEpoch := map[int64]types.UnitEpochQoS{}
	for _, h := range hist.History {
		byEpoch[h.Epoch] = h
	}
	compliant, breached := 0, 0
	for _, e := range d.Epochs {
		switch byEpoch[e].Status {
		case qos.QoSCompliant:
			compliant++
		case qos.QoSBreached:
			breached++
		}
	}
	seen := fmt.Sprintf("epochs %s: %d compliant, %d breached on record", client.FormatEpochs(d.Epochs), compliant, breached)
	switch {
	case compliant > 0 && breached == 0:
		return dispute.VerdictRejected, seen
	case breached > 0 && compliant == 0:
		return dispute.VerdictUpheld, seen
	}
	if w.Probe == nil {
		return dispute.VerdictCannotTell, seen
	}
	ok, summary := w.Probe(ctx, d.Unit)
	if !ok {
		return dispute.VerdictUpheld, seen + "; unreachable now: " + summary
	}
	return dispute.VerdictCannotTell, seen + "; reachable now: " + summary
}

// ProbeUnit runs a short targeted round of probes on one unit through its
// provider's probe endpoint; ok is false when none succeeded.
func (d *Daemon) ProbeUnit(ctx context.Context, unit string) (ok bool, summary string) {
	u, err := d.Client.Unit(ctx, unit)
	if err != nil {
		return false, "unit: " + err.Error()
	}
	p, err := d.Client.Provider(ctx, u.Provider)
	if err != nil {
		return false, "provider: " + err.Error()
	}
	url, err := d.Resolve(u.Provider, p.Endpoint)
	if err != nil {
		return false, "probe endpoint: " + err.Error()
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	pr := *d.Prober
	pr.Spread = 0
	ms, err := pr.Measure(pctx, []Target{{Unit: unit, Provider: u.Provider, ProbeURL: url}})
	if err != nil || len(ms) == 0 {
		return false, fmt.Sprintf("probes failed: %v", err)
	}
	m := ms[0]
	return m.Successes > 0, fmt.Sprintf("%d/%d probes ok", m.Successes, m.Probes)
}
