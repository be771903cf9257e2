package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/contract/core"
)

// Page selects one page of a list: Limit items (0: the server's default,
// at most market.MaxPageSize) starting at Cursor (a previous page's
// NextCursor; "" for the first page).
type Page struct {
	Limit  int
	Cursor string
}

func (p Page) set(q url.Values) {
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	if p.Cursor != "" {
		q.Set("cursor", p.Cursor)
	}
}

// ProviderOptions filter GET /v1/providers.
type ProviderOptions struct {
	Page
	// All includes deregistered providers.
	All bool
}

// UnitFilter filters and orders GET /v1/units. Zero fields do not filter.
type UnitFilter struct {
	Page
	Region, Country, Kind string
	// Status is one of the market.Unit* statuses; "" lists every unit
	// that is not deleted.
	Status string
	// Provider is an owner address.
	Provider string
	// MinFree is the minimum free capacity in bytes.
	MinFree uint64
	// MaxPrice is the highest storage price per GiB-month; nil: any.
	MaxPrice *core.Amount
	MinScore uint32
	// Sort is "id" (default), "price" (cheapest first) or "score" (best
	// first).
	Sort string
}

// ReservationFilter filters GET /v1/reservations. Zero fields do not
// filter.
type ReservationFilter struct {
	Page
	Consumer, Provider, Unit, Status string
}

// QuoteRequest asks GET /v1/quote for the cheapest fitting units.
type QuoteRequest struct {
	Bytes uint64
	// Term in seconds.
	Term   int64
	Egress uint64
	// Optional filters.
	Region, Country, Kind string
	// Limit is how many quotes (0: the server's default of 5).
	Limit int
}

func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// Providers lists providers, one page at a time.
func (c *Client) Providers(ctx context.Context, opts ProviderOptions) (*types.ProvidersPage, error) {
	q := url.Values{}
	opts.Page.set(q)
	if opts.All {
		q.Set("all", "true")
	}
	var p types.ProvidersPage
	return &p, c.do(ctx, http.MethodGet, withQuery("/v1/providers", q), nil, &p)
}

// Provider returns one provider by owner address.
func (c *Client) Provider(ctx context.Context, addr string) (*types.ProviderView, error) {
	var p types.ProviderView
	return &p, c.do(ctx, http.MethodGet, "/v1/providers/"+url.PathEscape(addr), nil, &p)
}

// Units lists data units matching f, one page at a time.
func (c *Client) Units(ctx context.Context, f UnitFilter) (*types.UnitsPage, error) {
	q := url.Values{}
	f.Page.set(q)
	for k, v := range map[string]string{"region": f.Region, "country": f.Country, "kind": f.Kind, "status": f.Status, "provider": f.Provider, "sort": f.Sort} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.MinFree > 0 {
		q.Set("min_free", strconv.FormatUint(f.MinFree, 10))
	}
	if f.MaxPrice != nil {
		q.Set("max_price", f.MaxPrice.String())
	}
	if f.MinScore > 0 {
		q.Set("min_score", strconv.FormatUint(uint64(f.MinScore), 10))
	}
	var p types.UnitsPage
	return &p, c.do(ctx, http.MethodGet, withQuery("/v1/units", q), nil, &p)
}

// Unit returns one data unit by id ("unit-1").
func (c *Client) Unit(ctx context.Context, id string) (*types.UnitView, error) {
	var u types.UnitView
	return &u, c.do(ctx, http.MethodGet, "/v1/units/"+url.PathEscape(id), nil, &u)
}

// Reservations lists reservations matching f, one page at a time.
func (c *Client) Reservations(ctx context.Context, f ReservationFilter) (*types.ReservationsPage, error) {
	q := url.Values{}
	f.Page.set(q)
	for k, v := range map[string]string{"consumer": f.Consumer, "provider": f.Provider, "unit": f.Unit, "status": f.Status} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var p types.ReservationsPage
	return &p, c.do(ctx, http.MethodGet, withQuery("/v1/reservations", q), nil, &p)
}

// Reservation returns one reservation by id ("res-1"), with what it has
// paid so far as of the last block.
func (c *Client) Reservation(ctx context.Context, id string) (*types.ReservationView, error) {
	var r types.ReservationView
	return &r, c.do(ctx, http.MethodGet, "/v1/reservations/"+url.PathEscape(id), nil, &r)
}

// Quote returns the cheapest available units that fit r and what each
// would escrow.
func (c *Client) Quote(ctx context.Context, r QuoteRequest) (*types.QuotePage, error) {
	q := url.Values{}
	q.Set("bytes", strconv.FormatUint(r.Bytes, 10))
	q.Set("term", strconv.FormatInt(r.Term, 10))
	if r.Egress > 0 {
		q.Set("egress", strconv.FormatUint(r.Egress, 10))
	}
	for k, v := range map[string]string{"region": r.Region, "country": r.Country, "kind": r.Kind} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if r.Limit > 0 {
		q.Set("limit", strconv.Itoa(r.Limit))
	}
	var p types.QuotePage
	return &p, c.do(ctx, http.MethodGet, withQuery("/v1/quote", q), nil, &p)
}

// EventAttr returns the value of attribute key of the first event of type
// typ in a tx result, or "": e.g. EventAttr(res, "reservation_created",
// "id") is the new reservation's id, EventAttr(res, "unit_added", "unit")
// the new unit's.
func EventAttr(res *types.TxResult, typ, key string) string {
	if res == nil {
		return ""
	}
	for _, e := range res.Events {
		if e.Type != typ {
			continue
		}
		for _, a := range e.Attrs {
			if a.Key == key {
				return a.Value
			}
		}
	}
	return ""
}
