package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/flashback-network/flashback/api/types"
)

// EpochRange bounds a history query; zero values mean the server default
// (the latest epochs).
type EpochRange struct{ From, To int64 }

func (r EpochRange) query() string {
	q := url.Values{}
	if r.From > 0 {
		q.Set("from", fmt.Sprint(r.From))
	}
	if r.To > 0 {
		q.Set("to", fmt.Sprint(r.To))
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// Stats returns the network totals now.
func (c *Client) Stats(ctx context.Context) (*types.StatsView, error) {
	var v types.StatsView
	return &v, c.do(ctx, http.MethodGet, "/v1/stats", nil, &v)
}

// EpochStats returns the per-epoch network series.
func (c *Client) EpochStats(ctx context.Context, r EpochRange) (*types.EpochStatsPage, error) {
	var v types.EpochStatsPage
	return &v, c.do(ctx, http.MethodGet, "/v1/stats/epochs"+r.query(), nil, &v)
}

// UnitQoS returns a unit's QoS sub-metrics and per-epoch history.
func (c *Client) UnitQoS(ctx context.Context, unit string, r EpochRange) (*types.UnitQoSView, error) {
	var v types.UnitQoSView
	return &v, c.do(ctx, http.MethodGet, "/v1/units/"+url.PathEscape(unit)+"/qos"+r.query(), nil, &v)
}

// ProviderScore returns a provider's score and its units' scores.
func (c *Client) ProviderScore(ctx context.Context, addr string) (*types.ProviderScoreView, error) {
	var v types.ProviderScoreView
	return &v, c.do(ctx, http.MethodGet, "/v1/providers/"+url.PathEscape(addr)+"/score", nil, &v)
}

// Oracles lists the active oracles (all=true: also deregistered ones).
func (c *Client) Oracles(ctx context.Context, all bool, cursor string) (*types.OraclesPage, error) {
	q := url.Values{}
	if all {
		q.Set("all", "true")
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	var v types.OraclesPage
	return &v, c.do(ctx, http.MethodGet, "/v1/oracles?"+q.Encode(), nil, &v)
}

// Oracle returns one oracle.
func (c *Client) Oracle(ctx context.Context, addr string) (*types.OracleView, error) {
	var v types.OracleView
	return &v, c.do(ctx, http.MethodGet, "/v1/oracles/"+url.PathEscape(addr), nil, &v)
}
