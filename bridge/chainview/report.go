package chainview

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/flashback-network/flashback/api"
	"github.com/flashback-network/flashback/bridge"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract"
)

// defaultEpochSeconds mirrors the contract's default for a zero param.
const defaultEpochSeconds = 3600

// maxMsgsPerTx keeps report txs under the envelope's message limit.
const maxMsgsPerTx = 32

// Reporter sends the bridge's metered usage to the chain once per epoch,
// signed by the provider key: stored bytes as they are, ingress and egress
// as the amounts since the last report.
type Reporter struct {
	View   *View
	Bridge interface {
		Usage() map[string]bridge.Usage
	}
	Signer *client.Signer

	lastEpoch int64
	sent      map[string]bridge.Usage // cumulative counters already reported
}

// ReportDue reports usage for the epoch that ended if the chain has moved
// into a new epoch since the last report. It returns the tx results.
func (r *Reporter) ReportDue(ctx context.Context) ([]*api.TxResult, error) {
	c := r.View.c
	st, err := c.Status(ctx)
	if err != nil {
		return nil, err
	}
	p, err := c.Params(ctx)
	if err != nil {
		return nil, err
	}
	epochLen := p.EpochSeconds
	if epochLen <= 0 {
		epochLen = defaultEpochSeconds
	}
	cur := st.LatestBlockTime.Unix() / epochLen
	if r.sent == nil {
		r.sent = map[string]bridge.Usage{}
		r.lastEpoch = cur // first epoch seen: start metering from here
		return nil, nil
	}
	if cur <= r.lastEpoch {
		return nil, nil
	}
	epoch := cur - 1
	usage := r.Bridge.Usage()
	ids := make([]string, 0, len(usage))
	for id := range usage {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var msgs []contract.Msg
	var pending []string
	r.View.mu.Lock()
	for _, id := range ids {
		if _, live := r.View.chainRes[id]; !live {
			continue // ended: the chain no longer takes its usage
		}
		u, prev := usage[id], r.sent[id]
		msgs = append(msgs, &contract.MsgReportUsage{
			Reservation:  id,
			Epoch:        epoch,
			StoredBytes:  uint64(max(u.StoredBytes, 0)),
			IngressBytes: uint64(max(u.Ingress-prev.Ingress, 0)),
			EgressBytes:  uint64(max(u.Egress-prev.Egress, 0)),
		})
		pending = append(pending, id)
	}
	r.View.mu.Unlock()
	var results []*api.TxResult
	for i := 0; i < len(msgs); i += maxMsgsPerTx {
		j := min(i+maxMsgsPerTx, len(msgs))
		res, err := r.Signer.Submit(ctx, msgs[i:j]...)
		if err != nil {
			return results, fmt.Errorf("report usage for epoch %d: %w", epoch, err)
		}
		results = append(results, res)
		r.View.mu.Lock()
		for _, id := range pending[i:j] {
			r.View.reported[id] += usage[id].Egress - r.sent[id].Egress
			r.sent[id] = usage[id]
			// The view re-reads a reservation only when the chain changes
			// it, so the bridge's allowance is recomputed here.
			if cr, live := r.View.chainRes[id]; live {
				r.View.serveReservation(cr)
			}
		}
		r.View.mu.Unlock()
	}
	r.lastEpoch = cur
	return results, nil
}

// Run reports every time an epoch ends, checking every interval.
func (r *Reporter) Run(ctx context.Context, interval time.Duration, onErr func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := r.ReportDue(ctx); err != nil && onErr != nil && ctx.Err() == nil {
			onErr(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
