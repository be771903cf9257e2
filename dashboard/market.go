package dashboard

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/flashback-network/flashback/api/types"
	"github.com/flashback-network/flashback/client"
	"github.com/flashback-network/flashback/contract/core"
)

// maxListPages bounds how many API pages one dashboard list reads, so a
// huge market cannot make a page load forever.
const maxListPages = 20

// marketFilter is the market page's GET query: region, kind, minimum free
// GiB, maximum price in FLASH per GiB-month, and the sort order.
type marketFilter struct {
	Region, Kind, MinFree, MaxPrice, Sort string
}

// marketPage is the data of market.html.
type marketPage struct {
	Filter    marketFilter
	Units     []types.UnitView
	Names     map[string]string // provider address -> name
	Regions   []string
	Kinds     []string
	Truncated bool
	Filtered  bool
}

func (h *Handler) market(ctx context.Context, r *http.Request) (view, error) {
	q := r.URL.Query()
	f := marketFilter{Region: strings.TrimSpace(q.Get("region")), Kind: strings.TrimSpace(q.Get("kind")),
		MinFree: strings.TrimSpace(q.Get("min_free")), MaxPrice: strings.TrimSpace(q.Get("max_price")), Sort: q.Get("sort")}
	uf, err := f.unitFilter()
	if err != nil {
		return view{}, &client.Error{Status: http.StatusBadRequest, Code: "invalid_query", Message: err.Error()}
	}
	units, truncated, err := h.allUnits(ctx, uf)
	if err != nil {
		return view{}, err
	}
	p := marketPage{Filter: f, Units: units, Truncated: truncated, Names: map[string]string{},
		Filtered: f.Region != "" || f.Kind != "" || f.MinFree != "" || f.MaxPrice != ""}
	// The filter's choices come from the whole market, not the filtered view.
	all, _, err := h.allUnits(ctx, client.UnitFilter{})
	if err != nil {
		return view{}, err
	}
	p.Regions, p.Kinds = distinct(all, func(u types.UnitView) string { return u.Region }), distinct(all, func(u types.UnitView) string { return u.Kind })
	provs, err := h.api.Providers(ctx, client.ProviderOptions{Page: client.Page{Limit: 100}})
	if err != nil {
		return view{}, err
	}
	for _, pv := range provs.Providers {
		p.Names[pv.Address] = pv.Name
	}
	return view{Name: "market", Title: "Market", Data: p}, nil
}

// unitFilter turns the page's query into the SDK's filter, with FLASH and
// GiB converted to the API's uflash and bytes.
func (f marketFilter) unitFilter() (client.UnitFilter, error) {
	uf := client.UnitFilter{Region: f.Region, Kind: f.Kind}
	switch f.Sort {
	case "", "id", "price", "score":
		uf.Sort = f.Sort
	default:
		return uf, fmt.Errorf("sort %q: want id, price or score", f.Sort)
	}
	if f.MinFree != "" {
		g, err := strconv.ParseFloat(f.MinFree, 64)
		if err != nil || g < 0 || math.IsNaN(g) || g*bytesPerGiB > math.MaxUint64/2 {
			return uf, fmt.Errorf("min free %q: want a number of GiB such as 10", f.MinFree)
		}
		uf.MinFree = uint64(g * bytesPerGiB)
	}
	if f.MaxPrice != "" {
		a, err := client.ParseAmount(f.MaxPrice + "FLASH")
		if err != nil {
			return uf, fmt.Errorf("max price %q: want FLASH per GiB-month such as 1.5", f.MaxPrice)
		}
		uf.MaxPrice = &a
	}
	return uf, nil
}

// allUnits reads up to maxListPages pages of units; truncated says more
// were left.
func (h *Handler) allUnits(ctx context.Context, f client.UnitFilter) ([]types.UnitView, bool, error) {
	var out []types.UnitView
	f.Limit = 100
	for i := 0; i < maxListPages; i++ {
		pg, err := h.api.Units(ctx, f)
		if err != nil {
			return nil, false, err
		}
		out = append(out, pg.Units...)
		if pg.NextCursor == "" {
			return out, false, nil
		}
		f.Cursor = pg.NextCursor
	}
	return out, true, nil
}

func distinct(units []types.UnitView, key func(types.UnitView) string) []string {
	seen := map[string]bool{}
	var out []string
	for _, u := range units {
		if k := key(u); k != "" && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// sortLink is the market URL with the current filter and another order.
func (f marketFilter) SortLink(order string) string {
	q := url.Values{}
	for k, v := range map[string]string{"region": f.Region, "kind": f.Kind, "min_free": f.MinFree, "max_price": f.MaxPrice, "sort": order} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if len(q) == 0 {
		return Prefix
	}
	return Prefix + "?" + q.Encode()
}

// TotalFree sums the listed units' free bytes, saturating instead of
// wrapping.
func (p marketPage) TotalFree() uint64 {
	var t uint64
	for _, u := range p.Units {
		if t+u.FreeBytes < t {
			return math.MaxUint64
		}
		t += u.FreeBytes
	}
	return t
}

// Cheapest is the lowest storage price among the listed units (0 when
// none).
func (p marketPage) Cheapest() core.Amount {
	var best core.Amount
	for i, u := range p.Units {
		if i == 0 || u.StoragePrice < best {
			best = u.StoragePrice
		}
	}
	return best
}
