package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/flashback-network/flashback/api/types"
)

// StatementPage selects epochs of a statement: From (0: the reservation's
// first epoch) and Limit epochs (0: the server's default, 100).
type StatementPage struct {
	From  int64
	Limit int
}

func (p StatementPage) query(format string) string {
	q := url.Values{}
	if p.From > 0 {
		q.Set("from", strconv.FormatInt(p.From, 10))
	}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	if format != "" {
		q.Set("format", format)
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

func statementPath(id string) string { return "/v1/reservations/" + url.PathEscape(id) + "/statement" }

// Statement returns a page of a reservation's per-epoch statement and its
// totals (which cover the whole life, whatever the page).
func (c *Client) Statement(ctx context.Context, id string, p StatementPage) (*types.Statement, error) {
	var st types.Statement
	return &st, c.do(ctx, http.MethodGet, statementPath(id)+p.query(""), nil, &st)
}

// StatementAll returns the whole statement, following the pages.
func (c *Client) StatementAll(ctx context.Context, id string) (*types.Statement, error) {
	st, err := c.Statement(ctx, id, StatementPage{Limit: 1000})
	for err == nil && st.NextFrom != 0 {
		var next *types.Statement
		if next, err = c.Statement(ctx, id, StatementPage{From: st.NextFrom, Limit: 1000}); err == nil {
			st.Lines = append(st.Lines, next.Lines...)
			st.NextFrom, st.Totals, st.AsOf = next.NextFrom, next.Totals, next.AsOf
		}
	}
	return st, err
}

// StatementCSV returns a page of the statement as the server's CSV.
func (c *Client) StatementCSV(ctx context.Context, id string, p StatementPage) ([]byte, error) {
	var raw []byte
	return raw, c.do(ctx, http.MethodGet, statementPath(id)+p.query("csv"), nil, &raw)
}

// ProviderStatement returns a page of a provider's per-epoch storage
// revenue statement (its totals cover every epoch).
func (c *Client) ProviderStatement(ctx context.Context, addr string, p StatementPage) (*types.ProviderStatement, error) {
	var st types.ProviderStatement
	return &st, c.do(ctx, http.MethodGet, "/v1/providers/"+url.PathEscape(addr)+"/statement"+p.query(""), nil, &st)
}

// ProviderStatementAll returns the whole provider statement, following the
// pages.
func (c *Client) ProviderStatementAll(ctx context.Context, addr string) (*types.ProviderStatement, error) {
	st, err := c.ProviderStatement(ctx, addr, StatementPage{Limit: 100})
	for err == nil && st.NextFrom != 0 {
		var next *types.ProviderStatement
		if next, err = c.ProviderStatement(ctx, addr, StatementPage{From: st.NextFrom, Limit: 100}); err == nil {
			st.Lines = append(st.Lines, next.Lines...)
			st.NextFrom, st.Totals, st.AsOf = next.NextFrom, next.Totals, next.AsOf
		}
	}
	return st, err
}
