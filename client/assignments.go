package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/qos"
)

// OracleAssignments returns one page of the units assigned to oracle addr
// in epoch e (cursor "" for the first page; the page's NextCursor for the
// next, "" after the last).
func (c *Client) OracleAssignments(ctx context.Context, addr string, e int64, cursor string) (*types.OracleAssignments, error) {
	q := url.Values{"epoch": {strconv.FormatInt(e, 10)}}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	var v types.OracleAssignments
	return &v, c.do(ctx, http.MethodGet, "/v1/oracles/"+url.PathEscape(addr)+"/assignments?"+q.Encode(), nil, &v)
}

// AllOracleAssignments follows OracleAssignments' pages: every unit
// assigned to addr in epoch e, and whether e assigns units at all (false:
// the oracle may report any unit but those of its own or related
// providers).
func (c *Client) AllOracleAssignments(ctx context.Context, addr string, e int64) (units []string, fixed bool, err error) {
	cursor := ""
	for {
		p, err := c.OracleAssignments(ctx, addr, e, cursor)
		if err != nil {
			return nil, false, err
		}
		units, fixed = append(units, p.Units...), p.Fixed
		if p.NextCursor == "" || !p.Fixed {
			return units, fixed, nil
		}
		cursor = p.NextCursor
	}
}

// UnitOracles returns the oracles assigned to unit in epoch e.
func (c *Client) UnitOracles(ctx context.Context, unit string, e int64) (*types.UnitOracles, error) {
	var v types.UnitOracles
	return &v, c.do(ctx, http.MethodGet, "/v1/units/"+url.PathEscape(unit)+"/oracles?epoch="+strconv.FormatInt(e, 10), nil, &v)
}

// DeclareRelated declares accounts related to the signer (a provider):
// from the next epoch on they are never assigned to its units.
func (s *Signer) DeclareRelated(ctx context.Context, accounts ...string) (*types.TxResult, error) {
	return s.Submit(ctx, &qos.MsgDeclareRelated{Accounts: accounts})
}

// UnjailOracle brings the signer's jailed oracle back once
// oracle_jail_epochs have passed.
func (s *Signer) UnjailOracle(ctx context.Context) (*types.TxResult, error) {
	return s.Submit(ctx, &qos.MsgUnjailOracle{})
}
