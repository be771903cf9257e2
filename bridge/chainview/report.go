package chainview

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/bridge"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/core"
	"github.com/flashback-network/flashback/contract/market"
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
	// egressOnChain is the reservation's egress_used as this reporter
	// knows it: the view's figure can lag a report it just made, and the
	// chain refuses a report beyond the allowance left.
	egressOnChain map[string]uint64
}

// bounded is a report of u (since prev) cut to what the chain accepts for
// cr: stored bytes at most the reservation's bytes, egress at most the
// allowance left. Egress served beyond the allowance cannot be billed (the
// bridge refuses it once it knows the allowance is spent).
func (r *Reporter) bounded(cr types.ReservationView, u, prev bridge.Usage) (stored, ingress, egress uint64) {
	stored = min(uint64(max(u.StoredBytes, 0)), cr.Bytes)
	ingress = uint64(max(u.Ingress-prev.Ingress, 0))
	used := max(cr.EgressUsed, r.egressOnChain[cr.ID])
	left := cr.EgressBytes - min(used, cr.EgressBytes)
	egress = min(uint64(max(u.Egress-prev.Egress, 0)), left)
	return stored, ingress, egress
}

// ReportDue reports usage for the epoch that ended if the chain has moved
// into a new epoch since the last report. It returns the tx results.
func (r *Reporter) ReportDue(ctx context.Context) ([]*types.TxResult, error) {
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
		r.egressOnChain = map[string]uint64{}
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
	var msgs []*market.MsgReportUsage
	var pending []string
	r.View.mu.Lock()
	for _, id := range ids {
		cr, live := r.View.chainRes[id]
		if !live {
			continue // ended: the chain no longer takes its usage
		}
		stored, ingress, egress := r.bounded(cr, usage[id], r.sent[id])
		msgs = append(msgs, &market.MsgReportUsage{
			Reservation: id, Epoch: epoch,
			StoredBytes: stored, IngressBytes: ingress, EgressBytes: egress,
		})
		pending = append(pending, id)
	}
	r.View.mu.Unlock()
	var results []*types.TxResult
	for i := 0; i < len(msgs); i += maxMsgsPerTx {
		j := min(i+maxMsgsPerTx, len(msgs))
		batch := make([]core.Msg, 0, j-i)
		for _, m := range msgs[i:j] {
			batch = append(batch, m)
		}
		res, err := r.Signer.Submit(ctx, batch...)
		if err != nil {
			return results, fmt.Errorf("report usage for epoch %d: %w", epoch, err)
		}
		results = append(results, res)
		r.View.mu.Lock()
		for k, id := range pending[i:j] {
			// All the egress served since the last report is now
			// accounted for on chain, billed or (beyond the allowance)
			// dropped: the bridge's counter must not count it twice.
			r.View.reported[id] += usage[id].Egress - r.sent[id].Egress
			r.sent[id] = usage[id]
			if cr, live := r.View.chainRes[id]; live {
				r.egressOnChain[id] = max(cr.EgressUsed, r.egressOnChain[id]) + msgs[i+k].EgressBytes
				// The view re-reads a reservation only when the chain
				// changes it, so the bridge's allowance is recomputed here.
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
